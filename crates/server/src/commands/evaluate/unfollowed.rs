//! The model's alarms that no failure followed, one by one, so that each can be looked into.

use std::fmt::Write;

use kubepulse_intel::evaluate::EventReport;

use super::collect::Scored;

/// Alarms listed at most.
const LISTED: usize = 40;

/// Lists the model's alarm episodes of `r` that no failure followed: when, for how long, the
/// class and highest probability it alarmed with, and whether an averted failure followed.
pub fn unfollowed(out: &mut String, s: &Scored, r: &EventReport) {
    if r.unfollowed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nAlarms no failure followed ({} false, {} before an averted failure{}):\n\n| object | from (UTC) | alarming for | class | highest probability | averted |\n|---|---|---|---|---|---|",
        r.false_alarms,
        r.averted,
        if r.unfollowed.len() > LISTED {
            format!("; the first {LISTED} listed")
        } else {
            String::new()
        }
    );
    for u in r.unfollowed.iter().take(LISTED) {
        let during = s.alarming.get(&u.object).into_iter().flatten();
        let (class, peak) = during
            .filter(|(t, _, _)| (u.from..=u.to).contains(t))
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map_or(("–", f64::NAN), |&(_, c, p)| (c.name(), p));
        let _ = writeln!(
            out,
            "| {} | {} | {} s | {class} | {peak:.2} | {} |",
            u.object,
            clock(u.from),
            (u.to - u.from) / 1000 + s.scoring.step / 1000,
            if u.averted { "yes" } else { "no" },
        );
    }
}

/// The UTC time of day of `ms` (epoch milliseconds), `HH:MM:SS`.
fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_the_time_of_day() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(1_767_575_265_000), "01:07:45");
        assert_eq!(clock(-1000), "23:59:59");
    }
}
