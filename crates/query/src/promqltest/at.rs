//! Step invariance, as Prometheus' test runner checks it: an instant query with every selector
//! pinned to its evaluation time by `@` gives the same result at other evaluation times.

use std::time::{Duration, UNIX_EPOCH};

use promql_parser::parser::{AtModifier, Expr};

/// Functions whose result changes with the evaluation time even over pinned arguments.
const UNSAFE: [&str; 11] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

fn at(t: i64) -> AtModifier {
    let time = if t >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_millis(t as u64))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_millis(t.unsigned_abs()))
    };
    AtModifier::At(time.unwrap_or(UNIX_EPOCH))
}

/// Pins every selector and subquery without `@` to `t`, except inside a pinned subquery.
/// Returns false when the expression calls a function that is not step invariant.
fn pin(e: &mut Expr, t: i64) -> bool {
    match e {
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert(at(t));
            true
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.at.get_or_insert(at(t));
            true
        }
        Expr::Subquery(sq) => {
            // What the pinned subquery evaluates stays as written.
            sq.at.get_or_insert(at(t));
            true
        }
        Expr::Paren(p) => pin(&mut p.expr, t),
        Expr::Unary(u) => pin(&mut u.expr, t),
        Expr::Binary(b) => pin(&mut b.lhs, t) & pin(&mut b.rhs, t),
        Expr::Aggregate(a) => {
            let p = a.param.as_mut().is_none_or(|p| pin(p, t));
            pin(&mut a.expr, t) & p
        }
        Expr::Call(c) => {
            let mut ok = !UNSAFE.contains(&c.func.name);
            for a in &mut c.args.args {
                ok &= pin(a, t);
            }
            ok
        }
        _ => true,
    }
}

/// The expression pinned to `t` and the other times to evaluate it at, or `None` when the
/// expression is not step invariant.
pub fn variants(e: &Expr, t: i64) -> Option<(Expr, Vec<i64>)> {
    let mut pinned = e.clone();
    if !pin(&mut pinned, t) {
        return None;
    }
    let times = if t == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * t, 0, t / 5, t, 10 * t]
    };
    Some((pinned, times))
}
