//! Date functions (`year`, `month`, `day_of_month`, `day_of_week`, `day_of_year`,
//! `days_in_month`, `hour`, `minute`) in UTC, of sample values taken as Unix seconds, or of
//! the step time when called without an argument.

use kubepulse_model::Labels;
use promql_parser::parser::Expr;

use super::map_values;
use crate::QueryError;
use crate::eval::Evaluator;
use crate::value::{Series, Steps, Value};

/// A UTC civil time.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    weekday: i64,
    yday: i64,
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = kubepulse_model::time::civil_from_days(days);
    let (month, day) = (i64::from(month), i64::from(day));
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = BEFORE[(month - 1) as usize] + day + i64::from(month > 2 && leap(year));
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        weekday: (days + 4).rem_euclid(7),
        yday,
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn field(name: &str, secs: i64) -> f64 {
    let c = civil(secs);
    (match name {
        "year" => c.year,
        "month" => c.month,
        "day_of_month" => c.day,
        "day_of_week" => c.weekday,
        "day_of_year" => c.yday,
        "days_in_month" => days_in_month(c.year, c.month),
        "hour" => c.hour,
        _ => c.minute,
    }) as f64
}

/// Seconds of a sample value, as Go's `int64(f)` gives them on amd64.
fn secs_of(v: f64) -> i64 {
    if v.is_finite() && v.abs() < 9.2e18 {
        v.trunc() as i64
    } else {
        i64::MIN / 86_400_000
    }
}

/// Evaluates a date function.
pub fn eval(
    ev: &mut Evaluator<'_>,
    name: &str,
    arg: Option<&Expr>,
    steps: Steps,
) -> Result<Value, crate::QueryError> {
    let Some(arg) = arg else {
        let points = steps.times().map(|t| (t, field(name, t / 1000))).collect();
        return Ok(Value::Vector(vec![Series {
            labels: Labels::empty(),
            points,
        }]));
    };
    let series = ev.vector(arg, steps)?;
    let out: Result<Vec<Series>, QueryError> =
        map_values(series, |_, v| Some(field(name, secs_of(v))));
    Ok(Value::Vector(out?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let c = civil(1_136_239_445); // 2006-01-02T22:04:05Z, a Monday
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2006, 1, 2, 22, 4)
        );
        assert_eq!((c.weekday, c.yday), (1, 2));
        let c = civil(951_782_400); // 2000-02-29
        assert_eq!((c.month, c.day, c.yday), (2, 29, 60));
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(civil(-1).year, 1969);
        assert_eq!(civil(0).weekday, 4);
    }
}
