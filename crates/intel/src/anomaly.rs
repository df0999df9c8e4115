//! Streaming anomaly detection on one series: each point updates a fixed-size state in constant
//! time and yields a score in [0, 1] with a reason. Several views of normal are kept side by
//! side, and the most surprised one speaks:
//!
//! - **new level**: a value at a level the series has not visited in the last week or two
//!   (see [`levels`]), once a day of history has been seen: the surest sign, scored 1;
//! - **spike**: distance from a slow exponentially weighted mean, in its standard deviations;
//! - **level shift**: a fast mean drifting away from the slow one;
//! - **seasonal deviation**: distance from what this hour of the day and of the week usually
//!   hold (learnt online, once a bin has been visited a few times);
//! - **flatline**: a value repeated far longer than the series ever repeats.
//!
//! Surprise is reported as novelty: a view's score rises only when its deviation exceeds the
//! largest it showed over the recent past, so one anomaly is one burst of high scores, not a
//! long plateau (and a series that is always noisy does not keep alarming). Once a point is
//! reported (its score reaches [`Settings::report`]), the detector keeps learning but stays
//! quiet for [`Settings::hold`] points: one anomaly, one report.
//!
//! A counter is judged by its rate: the detector made with [`Detector::counter`] scores the
//! increase per second between points, and a drop is a reset (the counter restarted from zero,
//! as Prometheus' `rate` reads it), not an anomaly. The whole state is plain data
//! (serializable), so it survives a restart of the process that keeps it.

use serde::{Deserialize, Serialize};

mod levels;

use levels::Levels;

/// Why a point scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Still learning what normal looks like.
    WarmingUp,
    /// Nothing unusual.
    Normal,
    /// Far from the usual level.
    Spike,
    /// The level moved and stayed.
    LevelShift,
    /// Far from what this time of day or week usually holds.
    SeasonalDeviation,
    /// The value stopped changing.
    Flatline,
    /// A level the series has not been at lately.
    NewLevel,
}

/// Settings; one set serves every series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    /// Score from which a point is reported as an anomaly.
    pub report: f64,
    /// Points the detector stays quiet after a report.
    pub hold: u32,
    /// Points whose spread sets the width of the level bins.
    pub calibrate: u32,
    /// History (ms) needed before new levels are reported: levels visited at other times of
    /// the day are not new.
    pub levels_after_ms: i64,
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
            report: 0.8,
            hold: 100,
            calibrate: 300,
            levels_after_ms: 86_400_000,
        }
    }
}

/// An exponentially weighted mean and variance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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

const VIEWS: usize = 4;
/// The new-level view's score: above every other view's, as it is the surest sign.
const NEW_LEVEL_SCORE: f64 = 1.0;
const DAY_BINS: usize = 24;
const WEEK_BINS: usize = 24 * 7;

/// One series' detector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detector {
    s: Settings,
    n: u32,
    /// For a counter, the last raw point (the detector scores the rate between points).
    counter: Option<Option<(i64, f64)>>,
    /// Points left to stay quiet after a report.
    quiet: u32,
    slow: Ew,
    fast: Ew,
    last: Option<f64>,
    flat_run: u32,
    longest_flat: u32,
    day: Vec<Ew>,
    week: Vec<Ew>,
    /// Per view, the largest deviation remembered (fading).
    seen: [f64; VIEWS],
    /// The time of the first point.
    first: Option<i64>,
    levels: Levels,
}

/// A scored point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
            counter: None,
            quiet: 0,
            slow: Ew::default(),
            fast: Ew::default(),
            last: None,
            flat_run: 0,
            longest_flat: 0,
            day: vec![Ew::default(); DAY_BINS],
            week: vec![Ew::default(); WEEK_BINS],
            seen: [0.0; VIEWS],
            first: None,
            levels: Levels::default(),
        }
    }

    /// Bytes of state per series.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + (DAY_BINS + WEEK_BINS) * std::mem::size_of::<Ew>()
            + Levels::state_bytes()
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
        let Some(x) = self.rate(t, x) else {
            return Score {
                score: 0.0,
                reason: Reason::WarmingUp,
            };
        };
        let s = self.score(t, x);
        if self.quiet > 0 {
            self.quiet -= 1;
            return Score {
                score: 0.0,
                reason: Reason::Normal,
            };
        }
        if s.score >= self.s.report {
            self.quiet = self.s.hold;
        }
        s
    }

    /// A detector for a counter: it scores the increase per second between points, and reads
    /// a drop as a reset.
    pub fn counter(s: Settings) -> Self {
        Self {
            counter: Some(None),
            ..Self::new(s)
        }
    }

    /// The value to score: `x` itself for a gauge; for a counter, its rate since the previous
    /// point (none for the first point, or when time did not move forward).
    fn rate(&mut self, t: i64, x: f64) -> Option<f64> {
        let Some(prev) = self.counter.as_mut() else {
            return Some(x);
        };
        let last = prev.replace((t, x));
        let (t0, x0) = last?;
        if t <= t0 {
            *prev = Some((t0, x0));
            return None;
        }
        let increase = if x >= x0 { x - x0 } else { x };
        Some(increase * 1000.0 / (t - t0) as f64)
    }

    fn score(&mut self, t: i64, x: f64) -> Score {
        let hour = (t.div_euclid(3_600_000)).rem_euclid(24) as usize;
        // 1970-01-01 was a Thursday; bins only need to be consistent.
        let week_hour = (t.div_euclid(3_600_000)).rem_euclid(24 * 7) as usize;
        let eps = 1e-9 + 1e-6 * self.slow.mean.abs();
        let sd = self.slow.sd() + eps;
        let mut dev = [0.0; VIEWS];
        dev[0] = (x - self.slow.mean).abs() / sd;
        dev[1] = (self.fast.mean - self.slow.mean).abs() / sd;
        let seasonal = [&self.day[hour], &self.week[week_hour]]
            .into_iter()
            .filter(|b| b.n >= self.s.seasonal_visits)
            .map(|b| (x - b.mean).abs() / (b.sd() + 0.5 * sd))
            .fold(f64::INFINITY, f64::min);
        dev[2] = if seasonal.is_finite() { seasonal } else { 0.0 };
        // Flatline: the current run against the longest seen, once runs are meaningful.
        let same = self.last == Some(x);
        if same {
            self.flat_run += 1;
        } else {
            self.longest_flat = self.longest_flat.max(self.flat_run);
            self.flat_run = 0;
        }
        dev[3] = self.s.midpoint * f64::from(self.flat_run)
            / (2.0 * f64::from(self.longest_flat.max(2)));
        let first = *self.first.get_or_insert(t);
        let new_level = self.levels.visit(t, x, self.s.calibrate as usize) == Some(true)
            && t - first >= self.s.levels_after_ms;
        // Learn.
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
        let mut best = if new_level {
            (NEW_LEVEL_SCORE, Reason::NewLevel)
        } else {
            (0.0, Reason::Normal)
        };
        let reasons = [
            Reason::Spike,
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

    /// The usual level and spread (one standard deviation) learnt so far, of the values the
    /// detector scores (a counter's rate per second).
    pub fn usual(&self) -> (f64, f64) {
        (self.slow.mean, self.slow.sd())
    }

    /// The last value scored (a counter's rate per second), if any.
    pub fn last_scored(&self) -> Option<f64> {
        self.last
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.s
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
            Reason::Spike | Reason::NewLevel | Reason::SeasonalDeviation
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
    fn a_counter_reset_is_not_an_anomaly_but_a_burst_is() {
        let mut d = Detector::counter(Settings::default());
        let mut total = 0.0;
        let mut top: f64 = 0.0;
        for i in 0..600u64 {
            // The process restarts just after a scrape: its counter starts again from zero.
            total = if i == 400 { 0.0 } else { total } + 10.0 + noise(i);
            let s = d.update(i as i64 * 15_000, total);
            if i > 100 {
                top = top.max(s.score);
            }
        }
        assert!(top < 0.5, "a reset scored {top}");
        total += 200.0;
        let s = d.update(600 * 15_000, total);
        assert!(s.score > 0.9, "{s:?}");
    }

    #[test]
    fn one_anomaly_is_reported_once_then_the_detector_holds() {
        let mut d = Detector::new(Settings::default());
        for i in 0..500u64 {
            d.update(i as i64 * 60_000, 10.0 + noise(i));
        }
        assert!(d.update(500 * 60_000, 40.0).score > 0.9);
        let next = d.update(501 * 60_000, 45.0);
        assert_eq!(next.score, 0.0, "{next:?}");
    }

    #[test]
    fn the_state_round_trips_through_serde() -> Result<(), serde_json::Error> {
        let mut d = Detector::new(Settings::default());
        for i in 0..300u64 {
            d.update(i as i64 * 60_000, 5.0 + noise(i));
        }
        let mut back: Detector = serde_json::from_str(&serde_json::to_string(&d)?)?;
        for i in 300..400u64 {
            let x = 5.0 + noise(i) + if i == 350 { 30.0 } else { 0.0 };
            assert_eq!(
                d.update(i as i64 * 60_000, x),
                back.update(i as i64 * 60_000, x)
            );
        }
        Ok(())
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
