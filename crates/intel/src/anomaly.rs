//! Streaming anomaly detection on one series: each point updates a fixed-size state in constant
//! time and yields a score in [0, 1] with a reason. Several views of normal are kept side by
//! side, and the most surprised one speaks:
//!
//! - **spike**: distance from a slow exponentially weighted mean, in its standard deviations;
//! - **jump**: the step from the previous point against the typical step size;
//! - **level shift**: a fast mean drifting away from the slow one;
//! - **seasonal deviation**: distance from what this hour of the day and of the week usually
//!   hold (learnt online, once a bin has been visited a few times);
//! - **flatline**: a value repeated far longer than the series ever repeats.
//!
//! Surprise is reported as novelty: a view's score rises only when its deviation exceeds the
//! largest it showed over the recent past, so one anomaly is one burst of high scores, not a
//! long plateau (and a series that is always noisy does not keep alarming).

use serde::Serialize;

/// Why a point scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Still learning what normal looks like.
    WarmingUp,
    /// Nothing unusual.
    Normal,
    /// Far from the usual level.
    Spike,
    /// A step much larger than usual.
    Jump,
    /// The level moved and stayed.
    LevelShift,
    /// Far from what this time of day or week usually holds.
    SeasonalDeviation,
    /// The value stopped changing.
    Flatline,
}

/// Settings; one set serves every series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Points before scores are given.
    pub warm_up: u32,
    /// Weight of a new point in the slow statistics.
    pub slow: f64,
    /// Weight of a new point in the fast mean.
    pub fast: f64,
    /// Weight of a new visit in a seasonal bin.
    pub seasonal: f64,
    /// Visits before a seasonal bin is trusted.
    pub seasonal_visits: u32,
    /// How fast the remembered largest deviation fades, per point.
    pub fade: f64,
    /// Deviation (in standard deviations) at which the score is 0.5.
    pub midpoint: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            warm_up: 60,
            slow: 0.01,
            fast: 0.2,
            seasonal: 0.2,
            seasonal_visits: 4,
            fade: 0.995,
            midpoint: 3.0,
        }
    }
}

/// An exponentially weighted mean and variance.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Ew {
    mean: f64,
    var: f64,
    n: u32,
}

impl Ew {
    fn update(&mut self, x: f64, alpha: f64) {
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let a = alpha.max(1.0 / f64::from(self.n + 1));
            let d = x - self.mean;
            self.mean += a * d;
            self.var = (1.0 - a) * (self.var + a * d * d);
        }
        self.n = self.n.saturating_add(1);
    }

    fn sd(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
}

const VIEWS: usize = 5;
const DAY_BINS: usize = 24;
const WEEK_BINS: usize = 24 * 7;

/// One series' detector.
#[derive(Debug, Clone)]
pub struct Detector {
    s: Settings,
    n: u32,
    slow: Ew,
    fast: Ew,
    step: Ew,
    last: Option<f64>,
    flat_run: u32,
    longest_flat: u32,
    day: Vec<Ew>,
    week: Vec<Ew>,
    /// Per view, the largest deviation remembered (fading).
    seen: [f64; VIEWS],
}

/// A scored point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// In [0, 1].
    pub score: f64,
    /// Why.
    pub reason: Reason,
}

impl Detector {
    /// A fresh detector.
    pub fn new(s: Settings) -> Self {
        Self {
            s,
            n: 0,
            slow: Ew::default(),
            fast: Ew::default(),
            step: Ew::default(),
            last: None,
            flat_run: 0,
            longest_flat: 0,
            day: vec![Ew::default(); DAY_BINS],
            week: vec![Ew::default(); WEEK_BINS],
            seen: [0.0; VIEWS],
        }
    }

    /// Bytes of state per series.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + (DAY_BINS + WEEK_BINS) * std::mem::size_of::<Ew>()
    }

    /// Takes the point `x` at `t` (ms since the epoch) and scores it. Non-finite values are
    /// skipped (a gap).
    pub fn update(&mut self, t: i64, x: f64) -> Score {
        if !x.is_finite() {
            return Score {
                score: 0.0,
                reason: Reason::Normal,
            };
        }
        let hour = (t.div_euclid(3_600_000)).rem_euclid(24) as usize;
        // 1970-01-01 was a Thursday; bins only need to be consistent.
        let week_hour = (t.div_euclid(3_600_000)).rem_euclid(24 * 7) as usize;
        let eps = 1e-9 + 1e-6 * self.slow.mean.abs();
        let sd = self.slow.sd() + eps;
        let mut dev = [0.0; VIEWS];
        dev[0] = (x - self.slow.mean).abs() / sd;
        if let Some(last) = self.last {
            dev[1] = (x - last).abs() / (self.step.mean + eps);
        }
        dev[2] = (self.fast.mean - self.slow.mean).abs() / sd;
        let seasonal = [&self.day[hour], &self.week[week_hour]]
            .into_iter()
            .filter(|b| b.n >= self.s.seasonal_visits)
            .map(|b| (x - b.mean).abs() / (b.sd() + 0.5 * sd))
            .fold(f64::INFINITY, f64::min);
        dev[3] = if seasonal.is_finite() { seasonal } else { 0.0 };
        // Flatline: the current run against the longest seen, once runs are meaningful.
        let same = self.last == Some(x);
        if same {
            self.flat_run += 1;
        } else {
            self.longest_flat = self.longest_flat.max(self.flat_run);
            self.flat_run = 0;
        }
        dev[4] = self.s.midpoint * f64::from(self.flat_run)
            / (2.0 * f64::from(self.longest_flat.max(2)));
        // Learn.
        if let Some(last) = self.last {
            self.step.update((x - last).abs(), self.s.slow);
        }
        self.slow.update(x, self.s.slow);
        self.fast.update(x, self.s.fast);
        self.day[hour].update(x, self.s.seasonal);
        self.week[week_hour].update(x, self.s.seasonal);
        self.last = Some(x);
        self.n = self.n.saturating_add(1);
        if self.n <= self.s.warm_up {
            self.longest_flat = self.longest_flat.max(self.flat_run);
        }
        if self.n <= self.s.warm_up {
            for (s, d) in self.seen.iter_mut().zip(dev) {
                *s = s.max(d);
            }
            return Score {
                score: 0.0,
                reason: Reason::WarmingUp,
            };
        }
        // Novelty: how far each view goes past the largest deviation it recently showed.
        let mut best = (0.0, Reason::Normal);
        let reasons = [
            Reason::Spike,
            Reason::Jump,
            Reason::LevelShift,
            Reason::SeasonalDeviation,
            Reason::Flatline,
        ];
        for ((seen, d), reason) in self.seen.iter_mut().zip(dev).zip(reasons) {
            let novel = (d - *seen).max(0.0);
            let level = d.min(novel + self.s.midpoint);
            *seen = (*seen * self.s.fade).max(d);
            let score = 1.0 / (1.0 + (-(level - self.s.midpoint)).exp());
            if novel > 0.0 && score > best.0 {
                best = (score, reason);
            }
        }
        Score {
            score: best.0,
            reason: best.1,
        }
    }

    /// Whether it is still warming up.
    pub fn warming_up(&self) -> bool {
        self.n <= self.s.warm_up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(i: u64) -> f64 {
        // A deterministic, roughly uniform noise in [-1, 1].
        let x = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as f64 / (1u64 << 31) as f64) - 1.0
    }

    #[test]
    fn a_spike_scores_high_with_its_reason_and_noise_does_not() {
        let mut d = Detector::new(Settings::default());
        let mut highest_noise: f64 = 0.0;
        for i in 0..2000u64 {
            let s = d.update(i as i64 * 300_000, 10.0 + noise(i));
            if i > 200 {
                highest_noise = highest_noise.max(s.score);
            }
        }
        assert!(highest_noise < 0.5, "{highest_noise}");
        let s = d.update(2000 * 300_000, 30.0);
        assert!(s.score > 0.9, "{s:?}");
        assert!(matches!(
            s.reason,
            Reason::Spike | Reason::Jump | Reason::SeasonalDeviation
        ));
        assert!(d.state_bytes() < 8192, "{}", d.state_bytes());
    }

    #[test]
    fn warming_up_says_so_and_gaps_are_skipped() {
        let mut d = Detector::new(Settings::default());
        let s = d.update(0, 1.0);
        assert_eq!(s.reason, Reason::WarmingUp);
        assert!(d.warming_up());
        assert_eq!(d.update(1, f64::NAN).score, 0.0);
    }

    #[test]
    fn a_flatline_is_noticed() {
        let mut d = Detector::new(Settings::default());
        for i in 0..1500u64 {
            d.update(i as i64 * 300_000, 50.0 + 5.0 * noise(i));
        }
        let mut top = Score {
            score: 0.0,
            reason: Reason::Normal,
        };
        for i in 1500..1700u64 {
            let s = d.update(i as i64 * 300_000, 42.0);
            if s.score > top.score {
                top = s;
            }
        }
        assert!(top.score > 0.5, "{top:?}");
    }
}
