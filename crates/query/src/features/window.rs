//! Statistics of one signal over a window of evenly spaced points, some of them missing (NaN;
//! any value that is not finite counts as missing): level,
//! trend (slope and curvature of a least-squares fit), volatility, and a forecast of when the
//! trend reaches a limit.

/// What a window of a signal says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStats {
    /// Newest present value (NaN when none).
    pub last: f64,
    /// Mean of the present values.
    pub mean: f64,
    /// Smallest present value.
    pub min: f64,
    /// Largest present value.
    pub max: f64,
    /// Slope of the least-squares line, per second.
    pub slope: f64,
    /// Second-order coefficient of the least-squares parabola, per second squared.
    pub curvature: f64,
    /// Standard deviation of the differences between consecutive present points.
    pub volatility: f64,
    /// Share of the window's points that are missing.
    pub missing: f64,
}

impl WindowStats {
    /// Names of the fields, in the order of [`WindowStats::values`].
    pub const NAMES: [&'static str; 8] = [
        "last",
        "mean",
        "min",
        "max",
        "slope",
        "curvature",
        "volatility",
        "missing",
    ];

    /// The fields as a vector.
    pub fn values(&self) -> [f64; 8] {
        [
            self.last,
            self.mean,
            self.min,
            self.max,
            self.slope,
            self.curvature,
            self.volatility,
            self.missing,
        ]
    }

    /// Seconds until the fitted line reaches `limit` from the last value, when it moves
    /// towards it; `cap` otherwise, and at most `cap`.
    pub fn seconds_to(&self, limit: f64, cap: f64) -> f64 {
        seconds_to(self.last, self.slope, limit, cap)
    }
}

/// Block maxima a trend gathers on the stack; more use the heap.
const STACK_BLOCKS: usize = 32;

/// Statistics of `points` (oldest first, NaN for missing), spaced `step_secs` apart.
pub fn stats(points: &[f64], step_secs: f64) -> WindowStats {
    let n = points.len().max(1) as f64;
    let present = || {
        points
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(move |(i, &v)| (i as f64 * step_secs, v))
    };
    // One pass for the sums, one for the centred moments.
    let (mut k, mut sum, mut st, mut min, mut max) =
        (0usize, 0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    let (mut first, mut last) = (f64::NAN, f64::NAN);
    for (t, v) in present() {
        if k == 0 {
            first = v;
        }
        k += 1;
        sum += v;
        st += t;
        min = min.min(v);
        max = max.max(v);
        last = v;
    }
    let missing = 1.0 - k as f64 / n;
    if k == 0 {
        return WindowStats {
            last: f64::NAN,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            slope: 0.0,
            curvature: 0.0,
            volatility: 0.0,
            missing,
        };
    }
    // One more pass: the fit's centred moments, and the spread of the differences between
    // consecutive points (which sum to `last - first`).
    let (tm, vm) = (st / k as f64, sum / k as f64);
    let dm = if k > 1 {
        (last - first) / (k - 1) as f64
    } else {
        0.0
    };
    let mut m = Moments::default();
    let (mut prev, mut var) = (first, 0.0);
    let mut add = |t: f64, v: f64| {
        m.add(t - tm, v - vm);
        let d = v - prev - dm;
        var += d * d;
        prev = v;
    };
    // The first point has no difference before it: it is its own `prev`, and its term, dm²,
    // is taken back below. A window with no gap is walked without the filter.
    if k == points.len() {
        for (i, &v) in points.iter().enumerate() {
            add(i as f64 * step_secs, v);
        }
    } else {
        present().for_each(|(t, v)| add(t, v));
    }
    var = (var - dm * dm).max(0.0);
    let (slope, curvature) = if k < 2 { (0.0, 0.0) } else { m.solve(k) };
    let volatility = if k < 3 {
        0.0
    } else {
        (var / (k - 1) as f64).sqrt()
    };
    WindowStats {
        last,
        mean: sum / k as f64,
        min,
        max,
        slope,
        curvature,
        volatility,
        missing,
    }
}

/// A value below this share of the one before it is a reset (a container restarted, a log
/// rotated): trends start again after it. A garbage collector's sawtooth drops far less.
pub const RESET: f64 = 0.6;

/// The points since the last reset.
pub fn since_reset(points: &[f64]) -> &[f64] {
    let mut start = 0;
    // NaN until a point is seen: no comparison with it holds.
    let mut prev = f64::NAN;
    for (i, &v) in points.iter().enumerate() {
        if v.is_finite() {
            if prev > 0.0 && v < RESET * prev {
                start = i;
            }
            prev = v;
        }
    }
    &points[start..]
}

/// The trends of a window since its last reset: the least-squares slope (per second) of the
/// maxima of consecutive blocks of `block` points (the envelope that reaches a limit first,
/// robust to a sawtooth shorter than a block), and the newest block's maximum; over the whole
/// window, and over its newest `recent` blocks. Blocks end at the newest point, so the recent
/// blocks are the whole window's last ones and one pass over the points serves both. A trend is
/// `(0, NaN)` when fewer than two of its blocks have a present point.
pub fn envelope_trends(
    points: &[f64],
    step_secs: f64,
    block: usize,
    recent: usize,
) -> [(f64, f64); 2] {
    let points = since_reset(points);
    let block = block.max(1);
    let blocks = points.len() / block;
    // The last block is always whole; a partial one at the start is left out.
    let skip = points.len() % block;
    let maxima = points[skip..]
        .chunks(block)
        .enumerate()
        .filter_map(|(i, c)| {
            let m = c.iter().fold(f64::NEG_INFINITY, |m, &v| {
                if v.is_finite() && v > m { v } else { m }
            });
            m.is_finite().then_some((i, m))
        });
    let trends = |m: &[(usize, f64)]| {
        let first_recent = blocks.saturating_sub(recent);
        let r = m.partition_point(|p| p.0 < first_recent);
        [trend(m, block, step_secs), trend(&m[r..], block, step_secs)]
    };
    if blocks < STACK_BLOCKS {
        let mut buf = [(0, 0.0); STACK_BLOCKS];
        let mut n = 0;
        for p in maxima {
            buf[n] = p;
            n += 1;
        }
        trends(&buf[..n])
    } else {
        trends(&maxima.collect::<Vec<_>>())
    }
}

/// The slope and last value of block maxima `(block index, maximum)`.
fn trend(m: &[(usize, f64)], block: usize, step_secs: f64) -> (f64, f64) {
    match m {
        [_, .., (_, last)] => {
            let at = |i: usize| (i * block) as f64 * step_secs;
            let (st, sv) = m
                .iter()
                .fold((0.0, 0.0), |(a, b), (i, v)| (a + at(*i), b + v));
            let slope = fit_moments(m.iter().map(|(i, v)| (at(*i), *v)), m.len(), st, sv).0;
            (slope, *last)
        }
        _ => (0.0, f64::NAN),
    }
}

/// Seconds until a value at `last` moving at `slope` per second reaches `limit`: 0 at or past
/// it, `cap` when moving away from it or unknown, and at most `cap`.
pub fn seconds_to(last: f64, slope: f64, limit: f64, cap: f64) -> f64 {
    let gap = limit - last;
    if !gap.is_finite() || !slope.is_finite() {
        return cap;
    }
    if gap <= 0.0 {
        return 0.0;
    }
    if slope <= 0.0 {
        return cap;
    }
    (gap / slope).min(cap)
}

/// Slope of the least-squares line, and the second-order coefficient of the least-squares
/// parabola, over centred times, of the `n` points `p` yields, whose times sum to `st` and
/// values to `sv0` (0 when there are too few points).
fn fit_moments(p: impl Iterator<Item = (f64, f64)>, n: usize, st: f64, sv0: f64) -> (f64, f64) {
    if n < 2 {
        return (0.0, 0.0);
    }
    let (tm, vm) = (st / n as f64, sv0 / n as f64);
    let mut m = Moments::default();
    for (t, v) in p {
        m.add(t - tm, v - vm);
    }
    m.solve(n)
}

/// Centred moments of times `x` and values `y`, for the least-squares fits.
#[derive(Debug, Default)]
struct Moments {
    s2: f64,
    s3: f64,
    s4: f64,
    sv: f64,
    s2v: f64,
}

impl Moments {
    fn add(&mut self, x: f64, y: f64) {
        let x2 = x * x;
        self.s2 += x2;
        self.s3 += x2 * x;
        self.s4 += x2 * x2;
        self.sv += x * y;
        self.s2v += x2 * y;
    }

    /// Slope and curvature from the moments of `n` points.
    fn solve(&self, n: usize) -> (f64, f64) {
        let Self {
            s2,
            s3,
            s4,
            sv,
            s2v,
        } = *self;
        if s2 <= 0.0 {
            return (0.0, 0.0);
        }
        let slope = sv / s2;
        if n < 3 {
            return (slope, 0.0);
        }
        // v = a + b x + c (x² - s2/k): solve the 2×2 system for b and c.
        let q2 = s4 - s2 * s2 / n as f64;
        let det = s2 * q2 - s3 * s3;
        if det.abs() < f64::EPSILON * s2 * q2.abs().max(1.0) {
            return (slope, 0.0);
        }
        (slope, (s2 * s2v - s3 * sv) / det)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn lines_parabolas_and_gaps() {
        // v = 2 + 0.5 t, 15 s apart, one point missing.
        let line: Vec<f64> = (0..13)
            .map(|i| {
                if i == 4 {
                    f64::NAN
                } else {
                    2.0 + 0.5 * 15.0 * i as f64
                }
            })
            .collect();
        let s = stats(&line, 15.0);
        assert!(close(s.slope, 0.5) && close(s.curvature, 0.0), "{s:?}");
        assert!(close(s.last, 92.0) && close(s.min, 2.0) && close(s.missing, 1.0 / 13.0));
        assert!(close(s.seconds_to(100.0, 3600.0), 16.0));
        assert_eq!(s.seconds_to(50.0, 3600.0), 0.0);
        // v = t², curvature 1.
        let par: Vec<f64> = (0..13).map(|i| (i as f64 * 15.0).powi(2)).collect();
        assert!(close(stats(&par, 15.0).curvature, 1.0));
        // Nothing present.
        let none = stats(&[f64::NAN, f64::INFINITY], 15.0);
        assert!(none.last.is_nan() && none.missing == 1.0 && none.slope == 0.0);
        // A flat series never reaches a limit above it.
        let flat = stats(&[1.0; 5], 15.0);
        assert_eq!(flat.seconds_to(2.0, 600.0), 600.0);
        assert_eq!(flat.volatility, 0.0);
    }

    #[test]
    fn the_envelope_of_a_sawtooth_climbs_with_its_peaks() {
        // A sawtooth of period 4 around a line rising 0.01 per second; a 3-step burst
        // (shorter than a block) does not move the trend much, a gap does not stop it.
        let points: Vec<f64> = (0..60)
            .map(|i| {
                if i == 30 {
                    f64::NAN
                } else {
                    0.5 + 0.01 * 15.0 * i as f64 + 0.1 * (i % 4) as f64
                }
            })
            .collect();
        let [(slope, last), (recent, _)] = envelope_trends(&points, 15.0, 4, 5);
        assert!((recent - 0.01).abs() < 1e-9, "{recent}");
        assert!((slope - 0.01).abs() < 1e-9, "{slope}");
        assert!(close(last, 0.5 + 0.15 * 59.0 + 0.3), "{last}");
        let [(slope, last), _] = envelope_trends(&[f64::NAN; 12], 15.0, 4, 5);
        assert!(slope == 0.0 && last.is_nan());
        // A restart halfway: the trend is the climb after it, not the drop.
        let restarted: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    0.5 + 0.02 * i as f64
                } else {
                    0.3 + 0.01 * (i - 20) as f64
                }
            })
            .collect();
        let [(slope, last), _] = envelope_trends(&restarted, 15.0, 4, 5);
        assert!((slope - 0.01 / 15.0).abs() < 1e-9, "{slope}");
        assert!(close(last, 0.49));
        assert_eq!(since_reset(&restarted).len(), 20);
        assert_eq!(seconds_to(0.5, 0.01, 1.0, 600.0), 50.0);
        assert_eq!(seconds_to(0.5, -0.01, 1.0, 600.0), 600.0);
        assert_eq!(seconds_to(1.5, 0.0, 1.0, 600.0), 0.0);
    }
}
