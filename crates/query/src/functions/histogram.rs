//! `histogram_quantile` over classic histograms: buckets grouped by every label but `le`,
//! sorted, merged, made monotonic, and the quantile interpolated inside its bucket.

use std::collections::HashMap;

use kubepulse_model::Labels;
use promql_parser::parser::Expr;

use crate::QueryError;
use crate::eval::{Evaluator, NAME, Output, StepWalk};
use crate::value::{Steps, Value};
use kubepulse_model::gofloat::format_g;

/// Go's `strconv.ParseFloat` for an `le` value.
fn parse_le(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        let neg = lower.starts_with('-');
        return Some(match body {
            "nan" => f64::NAN,
            _ if neg => f64::NEG_INFINITY,
            _ => f64::INFINITY,
        });
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    s.parse().ok()
}

/// Prometheus' float comparison: equal, both NaN, or within a relative `eps`.
pub fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = 2.2250738585072014e-308;
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// The `q` quantile of cumulative buckets `(upper bound, count)`; also whether the counts
/// had to be made monotonic.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<(f64, f64)>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return (f64::NAN, false);
    }
    buckets.dedup_by(|cur, prev| {
        if cur.0 == prev.0 {
            prev.1 += cur.1;
            true
        } else {
            false
        }
    });
    let mut forced = false;
    let mut prev = buckets[0].1;
    for b in buckets.iter_mut().skip(1) {
        let cur = b.1;
        if cur == prev {
            continue;
        }
        if almost_equal(prev, cur, 1e-12) {
            b.1 = prev;
            continue;
        }
        if cur < prev {
            b.1 = prev;
            forced = true;
            continue;
        }
        prev = cur;
    }
    let n = buckets.len();
    if n < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[n - 1].1;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let b = buckets[..n - 1]
        .iter()
        .position(|x| x.1 >= rank)
        .unwrap_or(n - 1);
    if b == n - 1 {
        return (buckets[n - 2].0, forced);
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return (buckets[0].0, forced);
    }
    let (start, end) = (if b == 0 { 0.0 } else { buckets[b - 1].0 }, buckets[b].0);
    let mut count = buckets[b].1;
    if b > 0 {
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    (start + (end - start) * (rank / count), forced)
}

/// `histogram_quantile(φ, buckets)`.
pub fn quantile(
    ev: &mut Evaluator<'_>,
    phi: &Expr,
    arg: &Expr,
    steps: Steps,
) -> Result<Value, QueryError> {
    let q = ev.scalar(phi, steps)?;
    let series = ev.vector(arg, steps)?;
    // Per input series: its group and upper bound, or None for a bad `le`.
    let mut groups: HashMap<Labels, usize> = HashMap::new();
    let mut group_labels: Vec<Labels> = Vec::new();
    let mut member: Vec<Option<(usize, f64)>> = Vec::with_capacity(series.len());
    for s in &series {
        let le = s.labels.get("le").unwrap_or("");
        let Some(ub) = parse_le(le) else {
            ev.warnings.insert(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {:?}",
                s.labels.get(NAME).unwrap_or("")
            ));
            member.push(None);
            continue;
        };
        let key = Labels::from_sorted(
            s.labels
                .iter()
                .filter(|l| l.name != "le")
                .cloned()
                .collect(),
        );
        let next = group_labels.len();
        let g = *groups.entry(key).or_insert(next);
        if g == next {
            group_labels.push(Labels::from_sorted(
                s.labels
                    .iter()
                    .filter(|l| l.name != "le" && l.name != NAME)
                    .cloned()
                    .collect(),
            ));
        }
        member.push(Some((g, ub)));
    }
    let mut out = Output::default();
    let slots: Vec<usize> = group_labels.into_iter().map(|l| out.slot(l)).collect();
    let mut walk = StepWalk::new(series.len());
    let mut buf = Vec::new();
    let mut buckets: Vec<Vec<(f64, f64)>> = vec![Vec::new(); slots.len()];
    let mut touched = Vec::new();
    let mut warned = false;
    for (i, t) in steps.times().enumerate() {
        ev.check_time()?;
        walk.at(&series, t, &mut buf);
        for &(si, v) in &buf {
            if let Some((g, ub)) = member[si] {
                if buckets[g].is_empty() {
                    touched.push(g);
                }
                buckets[g].push((ub, v));
            }
        }
        let phi = q[i];
        if !warned && (phi.is_nan() || !(0.0..=1.0).contains(&phi)) && !touched.is_empty() {
            ev.warnings.insert(format!(
                "PromQL warning: quantile value should be between 0 and 1, got {}",
                format_g(phi)
            ));
            warned = true;
        }
        touched.sort_unstable();
        for &g in &touched {
            let (v, forced) = bucket_quantile(phi, &mut buckets[g]);
            if forced {
                ev.warnings.insert("PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"\"".into());
            }
            out.push(slots[g], t, v)?;
            buckets[g].clear();
        }
        touched.clear();
    }
    Ok(Value::Vector(out.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_buckets() {
        let mut b = vec![(0.1, 10.0), (0.5, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).0, 0.1);
        let mut b = vec![(1.0, 0.0), (2.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).0, 1.5);
        let mut b = vec![(1.0, 5.0), (2.0, 3.0), (f64::INFINITY, 10.0)];
        assert!(bucket_quantile(0.5, &mut b).1);
        let mut b = vec![(1.0, 5.0)];
        assert!(bucket_quantile(0.5, &mut b).0.is_nan());
        assert_eq!(parse_le("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_le("x"), None);
    }
}
