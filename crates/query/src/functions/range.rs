//! Functions of a window of samples that look at change: `rate`, `increase`, `delta` (with
//! Prometheus' extrapolation), `irate`, `idelta`, `deriv`, `predict_linear`, `holt_winters`,
//! `resets` and `changes`.

use super::stats::kahan_inc;
use crate::QueryError;
use crate::error::exec;

/// One window of one series at one step.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// Samples in time order.
    pub pts: &'a [(i64, f64)],
    /// Evaluation time of the step.
    pub t: i64,
    /// Window end (the step time less the offset, or the `@` time).
    pub end: i64,
    /// Window length.
    pub range: i64,
}

/// `rate` (counter, per second), `increase` (counter) and `delta` (gauge), extrapolated to
/// the window's edges unless the first or last sample is too far from them.
pub fn extrapolated(w: Window<'_>, counter: bool, rate: bool) -> Option<f64> {
    let s = w.pts;
    if s.len() < 2 {
        return None;
    }
    let (first, last) = (s[0], s[s.len() - 1]);
    let mut result = last.1 - first.1;
    if counter {
        let mut prev = first.1;
        for &(_, cur) in &s[1..] {
            if cur < prev {
                result += prev;
            }
            prev = cur;
        }
    }
    let range_start = w.end - w.range;
    let mut to_start = (first.0 - range_start) as f64 / 1000.0;
    let mut to_end = (w.end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = sampled / (s.len() - 1) as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut extrapolate_to = sampled;
    extrapolate_to += to_start;
    extrapolate_to += to_end;
    let mut factor = extrapolate_to / sampled;
    if rate {
        factor /= w.range as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (per second, resets handled) and `idelta` from the last two samples.
pub fn instant(w: Window<'_>, rate: bool) -> Option<f64> {
    let s = w.pts;
    if s.len() < 2 {
        return None;
    }
    let (prev, last) = (s[s.len() - 2], s[s.len() - 1]);
    let mut v = if rate && last.1 < prev.1 {
        last.1
    } else {
        last.1 - prev.1
    };
    let dt = last.0 - prev.0;
    if dt == 0 {
        return None;
    }
    if rate {
        v /= dt as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope and intercept at `intercept_t`, over seconds from it.
pub fn linear_regression(s: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init = s[0].1;
    let mut constant = true;
    for &(t, v) in s {
        constant &= v == init;
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(v, sy, cy);
        (sxy, cxy) = kahan_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if constant {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

/// `deriv`: the regression slope per second.
pub fn deriv(w: Window<'_>) -> Option<f64> {
    (w.pts.len() >= 2).then(|| linear_regression(w.pts, w.pts[0].0).0)
}

/// `predict_linear`: the regression's value `secs` seconds after `at`.
pub fn predict_linear(w: Window<'_>, at: i64, secs: f64) -> Option<f64> {
    if w.pts.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(w.pts, at);
    Some(slope * secs + intercept)
}

/// Go's `%f` (six decimals), for messages.
fn go_f(v: f64) -> String {
    kubepulse_model::gofloat::special(v).map_or_else(|| format!("{v:.6}"), str::to_string)
}

/// `holt_winters` (double exponential smoothing) with smoothing factor `sf` and trend factor
/// `tf`, both strictly between 0 and 1.
pub fn holt_winters(w: Window<'_>, sf: f64, tf: f64) -> Result<Option<f64>, QueryError> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(exec(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
            go_f(sf)
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(exec(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {}",
            go_f(tf)
        )));
    }
    let y: Vec<f64> = w.pts.iter().map(|p| p.1).collect();
    if y.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1, mut b) = (0.0, y[0], y[1] - y[0]);
    for (i, &yi) in y.iter().enumerate().skip(1) {
        let x = sf * yi;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let trend = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + trend;
    }
    Ok(Some(s1))
}

/// `resets`: how often the value went down.
pub fn resets(w: Window<'_>) -> f64 {
    w.pts.windows(2).filter(|p| p[1].1 < p[0].1).count() as f64
}

/// `changes`: how often the value changed (NaN to NaN is no change).
pub fn changes(w: Window<'_>) -> f64 {
    w.pts
        .windows(2)
        .filter(|p| p[1].1 != p[0].1 && !(p[1].1.is_nan() && p[0].1.is_nan()))
        .count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(pts: &[(i64, f64)], end: i64, range: i64) -> Window<'_> {
        Window {
            pts,
            t: end,
            end,
            range,
        }
    }

    #[test]
    fn rate_extrapolates_like_prometheus() {
        // 0, 10, … 100 every 5 minutes; increase over 50m evaluated at 50m is 100.
        let pts: Vec<(i64, f64)> = (0..=10).map(|i| (i * 300_000, i as f64 * 10.0)).collect();
        let w = win(&pts, 3_000_000, 3_000_000);
        assert_eq!(extrapolated(w, true, false), Some(100.0));
        assert!((extrapolated(w, true, true).unwrap() - 100.0 / 3000.0).abs() < 1e-12);
        assert_eq!(extrapolated(win(&pts[..1], 0, 300_000), true, true), None);
    }

    #[test]
    fn regression_and_counts() {
        let pts = [(0, 1.0), (1000, 3.0), (2000, 5.0)];
        assert_eq!(deriv(win(&pts, 2000, 2000)), Some(2.0));
        assert_eq!(predict_linear(win(&pts, 2000, 2000), 2000, 1.0), Some(7.0));
        assert_eq!(
            resets(win(&[(0, 3.0), (1, 1.0), (2, 2.0), (3, 0.0)], 3, 3)),
            2.0
        );
        assert_eq!(
            changes(win(&[(0, f64::NAN), (1, f64::NAN), (2, 1.0)], 2, 2)),
            1.0
        );
        assert!(holt_winters(win(&pts, 2000, 2000), 1.0, 0.5).is_err());
    }
}
