//! Aggregations of a window of samples: `sum`, `avg`, `count`, `min`, `max`, `last`,
//! `present`, `stddev`, `stdvar`, `quantile` and `mad` `_over_time`, with Prometheus' numeric
//! algorithms (compensated sums, incremental means).

use super::stats::{kahan_inc, quantile};

/// The values of a window.
fn values(pts: &[(i64, f64)]) -> Vec<f64> {
    pts.iter().map(|p| p.1).collect()
}

/// `sum_over_time`.
pub fn sum(pts: &[(i64, f64)]) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for &(_, v) in pts {
        (s, c) = kahan_inc(v, s, c);
    }
    if s.is_infinite() { s } else { s + c }
}

/// `avg_over_time`: an incremental mean, robust to overflow.
pub fn avg(pts: &[(i64, f64)]) -> f64 {
    let (mut mean, mut c, mut count) = (0.0f64, 0.0, 0.0);
    for &(_, v) in pts {
        count += 1.0;
        if mean.is_infinite() {
            if v.is_infinite() && (v > 0.0) == (mean > 0.0) {
                continue;
            }
            if v.is_finite() {
                continue;
            }
        }
        (mean, c) = kahan_inc(v / count - mean / count, mean, c);
    }
    if mean.is_infinite() { mean } else { mean + c }
}

/// `min_over_time` (`max` when `max` is set): NaN only when every value is NaN.
pub fn extreme(pts: &[(i64, f64)], max: bool) -> f64 {
    let mut m = pts[0].1;
    for &(_, v) in pts {
        let better = if max { v > m } else { v < m };
        if better || m.is_nan() {
            m = v;
        }
    }
    m
}

/// `stdvar_over_time` (population variance; `stddev` is its root).
pub fn stdvar(pts: &[(i64, f64)]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(_, v) in pts {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// `quantile_over_time`.
pub fn quantile_of(q: f64, pts: &[(i64, f64)]) -> f64 {
    quantile(q, &mut values(pts))
}

/// `mad_over_time`: the median absolute deviation from the median.
pub fn mad(pts: &[(i64, f64)]) -> f64 {
    let mut v = values(pts);
    let median = quantile(0.5, &mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    quantile(0.5, &mut dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[f64]) -> Vec<(i64, f64)> {
        v.iter().enumerate().map(|(i, x)| (i as i64, *x)).collect()
    }

    #[test]
    fn aggregates() {
        assert_eq!(sum(&pts(&[1.0, 2.0, 3.0])), 6.0);
        assert_eq!(avg(&pts(&[1.0, 2.0, 3.0, 4.0])), 2.5);
        assert_eq!(avg(&pts(&[f64::MAX, f64::MAX])), f64::MAX);
        assert_eq!(extreme(&pts(&[f64::NAN, 1.0, 3.0]), true), 3.0);
        assert!(extreme(&pts(&[f64::NAN]), false).is_nan());
        assert_eq!(stdvar(&pts(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])), 4.0);
        assert_eq!(mad(&pts(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0])), 1.0);
    }
}
