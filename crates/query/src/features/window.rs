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

/// Statistics of `points` (oldest first, NaN for missing), spaced `step_secs` apart.
pub fn stats(points: &[f64], step_secs: f64) -> WindowStats {
    stats_in(points, &Shape::new(points.len(), step_secs))
}

/// [`stats`] of a window of `shape` (the constants of its length and spacing, worked out once
/// for many windows).
pub fn stats_in(points: &[f64], shape: &Shape) -> WindowStats {
    if points.len() != shape.len {
        return stats(points, shape.step_secs);
    }
    let stats = whole(points, shape).unwrap_or_else(|| gappy(points));
    // Fitted per step; per second.
    WindowStats {
        slope: stats.slope * shape.per_sec,
        curvature: stats.curvature * shape.per_sec * shape.per_sec,
        ..stats
    }
}

/// What the times of a window with every point present fix: its length and spacing, and the
/// moments of its centred times (in steps) the fits divide by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    len: usize,
    step_secs: f64,
    /// Steps per second.
    per_sec: f64,
    /// The oldest point's time from the centre (steps, negative).
    from: f64,
    inv_len: f64,
    /// Σ x², and its inverse.
    s2: f64,
    inv_s2: f64,
    /// 1 / (Σ x⁴ - (Σ x²)² / len): the parabola's.
    inv_q2: f64,
    /// 1 / (len - 1): per difference between consecutive points.
    inv_diffs: f64,
}

impl Shape {
    /// The shape of windows of `len` points `step_secs` apart.
    pub fn new(len: usize, step_secs: f64) -> Self {
        let n = len as f64;
        // Centred times -(n-1)/2 ..= (n-1)/2: their sum and third moment are 0.
        let s2 = n * (n * n - 1.0) / 12.0;
        let s4 = n * (n * n - 1.0) * (3.0 * n * n - 7.0) / 240.0;
        let inv = |x: f64| if x > 0.0 { 1.0 / x } else { 0.0 };
        Self {
            len,
            step_secs,
            per_sec: 1.0 / step_secs,
            from: -(n - 1.0) / 2.0,
            inv_len: inv(n),
            s2,
            inv_s2: inv(s2),
            inv_q2: inv(s4 - s2 * s2 * inv(n)),
            inv_diffs: inv(n - 1.0),
        }
    }
}

/// The statistics of a window of `shape` with no point missing, in one pass (`None` at the
/// first missing point); slope and curvature per step. With every point present the times are
/// fixed, and so are their moments: only the values' are summed. Values are taken relative to
/// the first (and differences relative to the first difference), so that a large level (bytes)
/// does not swamp its changes, a flat line has exactly no slope, and equal steps have exactly no
/// volatility.
fn whole(points: &[f64], shape: &Shape) -> Option<WindowStats> {
    let (&first, &last) = (points.first()?, points.last()?);
    if !first.is_finite() {
        return None;
    }
    let d0 = points.get(1).map_or(0.0, |v| v - first);
    // The first point adds nothing to the sums: its value is their origin, and it has no
    // difference before it.
    let (mut sum, mut sx, mut sxx, mut sd, mut sdd) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut min, mut max, mut prev, mut x) = (first, first, first, shape.from);
    for &v in &points[1..] {
        if !v.is_finite() {
            return None;
        }
        x += 1.0;
        let y = v - first;
        sum += y;
        sx += x * y;
        sxx += x * x * y;
        min = min.min(v);
        max = max.max(v);
        let e = v - prev - d0;
        sd += e;
        sdd += e * e;
        prev = v;
    }
    let mean = sum * shape.inv_len;
    let (slope, curvature) = match points.len() {
        0 | 1 => (0.0, 0.0),
        2 => (sx * shape.inv_s2, 0.0),
        // Σ x² (v - mean), over the parabola's second moment.
        _ => (sx * shape.inv_s2, (sxx - mean * shape.s2) * shape.inv_q2),
    };
    let volatility = if points.len() < 3 {
        0.0
    } else {
        ((sdd - sd * sd * shape.inv_diffs).max(0.0) * shape.inv_diffs).sqrt()
    };
    Some(WindowStats {
        last,
        mean: first + mean,
        min,
        max,
        slope,
        curvature,
        volatility,
        missing: 0.0,
    })
}

/// The statistics of a window with points missing, over the present ones; slope and curvature
/// per step.
fn gappy(points: &[f64]) -> WindowStats {
    let n = points.len().max(1) as f64;
    let present = || {
        points
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| (i as f64, v))
    };
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
    // consecutive present points (which sum to `last - first`).
    let (tm, vm) = (st / k as f64, sum / k as f64);
    let dm = if k > 1 {
        (last - first) / (k - 1) as f64
    } else {
        0.0
    };
    let mut m = Moments::default();
    let (mut prev, mut var) = (first, 0.0);
    for (t, v) in present() {
        m.add(t - tm, v - vm);
        let d = v - prev - dm;
        var += d * d;
        prev = v;
    }
    // The first point has no difference before it: it is its own `prev`, and its term, dm²,
    // is taken back.
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

/// The trends of a window since its last reset: the least-squares slope (per second) of the
/// maxima of consecutive blocks of `block` points (the envelope that reaches a limit first,
/// robust to a sawtooth shorter than a block), and the newest block's maximum; over the whole
/// window, and over its newest `recent` blocks. Blocks end at the newest point (a partial one
/// at the start is left out), so the recent blocks are the whole window's last ones: one walk
/// from the newest point back to the last reset serves both. A trend is `(0, NaN)` when fewer
/// than two of its blocks have a present point.
pub fn envelope_trends(
    points: &[f64],
    step_secs: f64,
    block: usize,
    recent: usize,
) -> [(f64, f64); 2] {
    let block = block.max(1);
    let mut env = Envelope {
        fits: [Fit::default(); 2],
        top: f64::NAN,
        recent,
    };
    if unbroken(points) {
        // Every point present and no reset: the blocks' maxima alone.
        for (back, c) in points.rchunks_exact(block).enumerate() {
            env.add(
                back,
                c.iter()
                    .fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m }),
            );
        }
    } else {
        walk(points, block, &mut env);
    }
    // Blocks counted back in time: a block further back is `block` steps earlier.
    let per_block = -(block as f64) * step_secs;
    env.fits.map(|f| match f.slope() {
        Some(s) => (s / per_block, env.top),
        None => (0.0, f64::NAN),
    })
}

/// Whether every point is present and none is a reset: checked for all at once, without
/// stopping at the first (most windows are unbroken, and a check without branches is fast).
fn unbroken(points: &[f64]) -> bool {
    let first = points.first().is_none_or(|v| v.is_finite());
    let broken = points
        .iter()
        .zip(points.iter().skip(1))
        .fold(false, |broken, (&p, &v)| {
            broken | !v.is_finite() | (p > 0.0 && v < RESET * p)
        });
    first && !broken
}

/// Adds to `env` the maxima of the blocks of `points` since its last reset, walking back from
/// the newest point to it.
fn walk(points: &[f64], block: usize, env: &mut Envelope) {
    // The newest block with a present point not yet added, (blocks back, first index, maximum):
    // held until it is known not to reach back past a reset (then it is partial).
    let mut pending: Option<(usize, usize, f64)> = None;
    // The nearest present point after the one looked at: NaN until one is seen, and no
    // comparison with NaN holds.
    let (mut later, mut at) = (f64::NAN, points.len());
    let (mut top, mut filled, mut back) = (f64::NEG_INFINITY, 0, 0);
    for (i, &v) in points.iter().enumerate().rev() {
        if v.is_finite() {
            if v > 0.0 && later < RESET * v {
                // A reset at `at`: nothing before it counts.
                pending = pending.filter(|p| p.1 >= at);
                break;
            }
            (later, at) = (v, i);
            top = top.max(v);
        }
        filled += 1;
        if filled == block {
            if top.is_finite()
                && let Some((b, _, m)) = pending.replace((back, i, top))
            {
                env.add(b, m);
            }
            (top, filled, back) = (f64::NEG_INFINITY, 0, back + 1);
        }
    }
    if let Some((b, _, m)) = pending {
        env.add(b, m);
    }
}

/// The fits of an envelope, its blocks added newest first.
struct Envelope {
    /// Over every block, and over the recent ones.
    fits: [Fit; 2],
    /// The newest block's maximum: the origin of the values fitted.
    top: f64,
    recent: usize,
}

impl Envelope {
    fn add(&mut self, back: usize, max: f64) {
        if self.top.is_nan() {
            self.top = max;
        }
        let (x, y) = (back as f64, max - self.top);
        self.fits[0].add(x, y);
        if back < self.recent {
            self.fits[1].add(x, y);
        }
    }
}

/// Sums for a least-squares line.
#[derive(Debug, Default, Clone, Copy)]
struct Fit {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
}

impl Fit {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.sxy += x * y;
    }

    /// The slope, with at least two points.
    fn slope(&self) -> Option<f64> {
        if self.n < 2.0 {
            return None;
        }
        let den = self.n * self.sxx - self.sx * self.sx;
        Some(if den > 0.0 {
            (self.n * self.sxy - self.sx * self.sy) / den
        } else {
            0.0
        })
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
mod tests;
