//! Event-level scoring of a failure predictor: how many failures it announced, how far ahead,
//! and how often it raised an alarm for nothing.
//!
//! An object alarms from a score at the threshold until its score falls below a share of it
//! (hysteresis); alarming windows form episodes (gaps up to `merge_gap` closed). A failure is announced `L` ahead when an episode started at
//! least `L` before it, at most `max_lead` before it, and still alarmed within the horizon before
//! it; its lead time is the time from the episode's start. An episode followed by no failure of
//! its object within the horizon after its end is a false alarm, unless a failure that was
//! averted (its cause ended before it came) would have followed it: such an alarm saw a real
//! failure coming and is counted apart. An episode no failure followed that starts less than
//! the horizon before the data ends cannot be judged (what came next is not known) and is left
//! out.

use std::collections::BTreeMap;

/// The share of its threshold below which an alarm clears.
pub const CLEAR: f64 = 0.5;

/// Scoring settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventScoring {
    /// Probability at or above which a window alarms.
    pub threshold: f64,
    /// A failure this soon after an episode's last alarm belongs to it (ms).
    pub horizon: i64,
    /// Longest lead time credited (ms).
    pub max_lead: i64,
    /// Alarm windows this close together form one episode (ms). An alarm says "a failure
    /// within the horizon", so it holds for the horizon after its last alarming window, as an
    /// alert rule's `keep_firing_for` would: by default the gap is the horizon.
    pub merge_gap: i64,
    /// Spacing of scored windows (ms), for object-hours.
    pub step: i64,
    /// Once alarming, an object keeps alarming while its score stays at `threshold × clear`
    /// or above (1 turns the hysteresis off).
    pub clear: f64,
}

impl Default for EventScoring {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            horizon: 300_000,
            max_lead: 1_800_000,
            merge_gap: 300_000,
            step: 15_000,
            clear: CLEAR,
        }
    }
}

/// What the scoring found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventReport {
    /// Failures scored.
    pub failures: usize,
    /// Failures announced at least 1, 5 and 10 minutes ahead.
    pub ahead: [usize; 3],
    /// Median lead time of announced failures (s); NaN when none was.
    pub median_lead_secs: f64,
    /// Alarm episodes followed by no failure.
    pub false_alarms: usize,
    /// Alarm episodes followed by no failure but by an averted one (not false alarms).
    pub averted: usize,
    /// Alarm episodes followed by no failure up to the end of the data, which came sooner than
    /// the horizon after their first alarm (not judged).
    pub unjudged: usize,
    /// Object-hours scored.
    pub object_hours: f64,
    /// Every failure scored, in object order, with its lead time when it was announced.
    pub outcomes: Vec<Outcome>,
    /// Every alarm episode no failure followed, in object order.
    pub unfollowed: Vec<Unfollowed>,
}

/// An alarm episode no failure followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfollowed {
    /// The object that alarmed.
    pub object: String,
    /// First alarming window (ms).
    pub from: i64,
    /// Last alarming window (ms).
    pub to: i64,
    /// Whether an averted failure followed it (not a false alarm).
    pub averted: bool,
}

/// What became of one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The object that failed.
    pub object: String,
    /// When (ms).
    pub t: i64,
    /// How long before it an alarm episode announcing it started (ms), if one did.
    pub lead: Option<i64>,
}

impl EventReport {
    /// Share of failures announced at least 1, 5 and 10 minutes ahead.
    pub fn recall_ahead(&self) -> [f64; 3] {
        self.ahead.map(|a| a as f64 / self.failures.max(1) as f64)
    }

    /// False alarms per 1,000 object-hours.
    pub fn false_alarms_per_1000h(&self) -> f64 {
        if self.object_hours <= 0.0 {
            return 0.0;
        }
        self.false_alarms as f64 * 1000.0 / self.object_hours
    }
}

/// What became of the objects scored, keyed like the scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Truth {
    /// Object → failure times.
    pub failures: BTreeMap<String, Vec<i64>>,
    /// Object → the times failures that were averted would have come.
    pub averted: BTreeMap<String, Vec<i64>>,
    /// Object → the end of the data about it (ms; absent: no end).
    pub data_end: BTreeMap<String, i64>,
}

/// Scores `scores` (object → windows `(t, probability of a failure)`, in time order) against
/// `truth`.
pub fn score_events(
    scores: &BTreeMap<String, Vec<(i64, f64)>>,
    truth: &Truth,
    s: &EventScoring,
) -> EventReport {
    let mut report = EventReport::default();
    let mut leads = Vec::new();
    let none = Vec::new();
    let failures = &truth.failures;
    for (object, windows) in scores {
        report.object_hours += windows.len() as f64 * s.step as f64 / 3_600_000.0;
        let episodes = episodes(windows, s);
        let fails = failures.get(object).unwrap_or(&none);
        let saved = truth.averted.get(object).unwrap_or(&none);
        let data_end = truth.data_end.get(object).copied().unwrap_or(i64::MAX);
        for &(from, to) in &episodes {
            let averted = match verdict((from, to), fails, saved, data_end, s) {
                Verdict::Followed => continue,
                Verdict::Unjudged => {
                    report.unjudged += 1;
                    continue;
                }
                Verdict::Averted => {
                    report.averted += 1;
                    true
                }
                Verdict::False => {
                    report.false_alarms += 1;
                    false
                }
            };
            report.unfollowed.push(Unfollowed {
                object: object.clone(),
                from,
                to,
                averted,
            });
        }
        for &f in fails {
            report.failures += 1;
            let lead = lead(&episodes, f, s);
            report.outcomes.push(Outcome {
                object: object.clone(),
                t: f,
                lead,
            });
            if let Some(l) = lead {
                for (i, min) in [60_000, 300_000, 600_000].iter().enumerate() {
                    if l >= *min {
                        report.ahead[i] += 1;
                    }
                }
                leads.push(l as f64 / 1000.0);
            }
        }
    }
    // Failures of objects that were never scored count as missed.
    for (object, fails) in failures {
        if !scores.contains_key(object) {
            report.failures += fails.len();
            report.outcomes.extend(fails.iter().map(|&t| Outcome {
                object: object.clone(),
                t,
                lead: None,
            }));
        }
    }
    leads.sort_by(f64::total_cmp);
    report.median_lead_secs = match leads.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => leads[n / 2],
        n => (leads[n / 2 - 1] + leads[n / 2]) / 2.0,
    };
    report
}

/// Whether an object alarms, window by window: it starts at `threshold` and, once alarming,
/// holds while the score stays at `threshold × clear` or above (hysteresis, so that a score
/// wavering around the threshold is one alarm).
pub fn alarming<'a>(
    windows: &'a [(i64, f64)],
    threshold: f64,
    clear: f64,
) -> impl Iterator<Item = (i64, bool)> + 'a {
    let mut on = false;
    windows.iter().map(move |&(t, p)| {
        on = p >= threshold || (on && p >= threshold * clear);
        (t, on)
    })
}

/// What an alarm episode came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A failure of its object followed it within the horizon.
    Followed,
    /// None did, but one that was averted would have.
    Averted,
    /// Neither did, as far as the data reaches: it began less than the horizon before the
    /// data ends.
    Unjudged,
    /// A false alarm.
    False,
}

/// What episode `e` of an object came to, given the object's failures (`fails`), the times
/// its averted failures would have come (`averted`) and the end of its data.
fn verdict(
    e: (i64, i64),
    fails: &[i64],
    averted: &[i64],
    data_end: i64,
    s: &EventScoring,
) -> Verdict {
    if !unfollowed(e, fails, s) {
        Verdict::Followed
    } else if !unfollowed(e, averted, s) {
        Verdict::Averted
    } else if !judged(e, data_end, s) {
        Verdict::Unjudged
    } else {
        Verdict::False
    }
}

/// How many of an object's alarm `episodes` are false alarms (see [`verdict`]).
pub(crate) fn false_alarms(
    episodes: &[(i64, i64)],
    fails: &[i64],
    averted: &[i64],
    data_end: i64,
    s: &EventScoring,
) -> usize {
    episodes
        .iter()
        .filter(|&&e| verdict(e, fails, averted, data_end, s) == Verdict::False)
        .count()
}

/// Whether the data about an object (ending at `data_end`) reaches the horizon after an
/// episode's first alarm, so that whether that alarm came true is known (an episode alarming
/// on to the end of the data is judged by its start: it promised a failure long before).
fn judged((from, _): (i64, i64), data_end: i64, s: &EventScoring) -> bool {
    from.saturating_add(s.horizon) <= data_end
}

/// Whether no failure of the object (`fails`) comes during an alarm episode or within the
/// horizon after it.
fn unfollowed((start, end): (i64, i64), fails: &[i64], s: &EventScoring) -> bool {
    !fails.iter().any(|&f| f >= start && f <= end + s.horizon)
}

/// How far ahead an object's alarm `episodes` announced its failure at `f`, if they did.
pub(crate) fn lead(episodes: &[(i64, i64)], f: i64, s: &EventScoring) -> Option<i64> {
    episodes
        .iter()
        .filter(|&&(start, end)| start < f && end + s.horizon >= f)
        .map(|&(start, _)| (f - start).min(s.max_lead))
        .max()
}

/// Alarm episodes `(first alarm, last alarm)` of one object.
pub(crate) fn episodes(windows: &[(i64, f64)], s: &EventScoring) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (t, _) in alarming(windows, s.threshold, s.clear).filter(|w| w.1) {
        match out.last_mut() {
            Some(e) if t - e.1 <= s.merge_gap => e.1 = t,
            _ => out.push((t, t)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_before_an_averted_failure_are_not_false() {
        // Three objects alarm from 105 s to 195 s and nothing follows. For a, the failure was
        // averted and would have come at 400 s; for b, it would have come at 900 s, further
        // than the horizon after the alarm; c had nothing coming.
        let windows: Vec<(i64, f64)> = (0..40)
            .map(|i| (i * 15_000, if (7..=13).contains(&i) { 0.9 } else { 0.0 }))
            .collect();
        let scores: BTreeMap<String, Vec<(i64, f64)>> = ["a", "b", "c"]
            .map(|o| (o.to_string(), windows.clone()))
            .into();
        let averted = BTreeMap::from([
            ("a".to_string(), vec![400_000]),
            ("b".to_string(), vec![900_000]),
        ]);
        let s = EventScoring::default();
        let truth = Truth {
            averted,
            ..Truth::default()
        };
        let r = score_events(&scores, &truth, &s);
        assert_eq!((r.false_alarms, r.averted, r.failures), (2, 1, 0));
        // Averted failures are not failures to announce: nothing is missed for them.
        assert!(r.outcomes.is_empty());
        // Data about c that ends 4 minutes after its alarm began cannot tell whether it was
        // false; data that ends 5 minutes after can, however long the alarm went on.
        let ending = |end: i64| Truth {
            data_end: BTreeMap::from([("c".to_string(), end)]),
            ..truth.clone()
        };
        let r = score_events(&scores, &ending(105_000 + 240_000), &s);
        assert_eq!((r.false_alarms, r.averted, r.unjudged), (1, 1, 1));
        let r = score_events(&scores, &ending(105_000 + 300_000), &s);
        assert_eq!((r.false_alarms, r.averted, r.unjudged), (2, 1, 0));
    }

    /// What happened: `failures` and nothing else.
    fn only(failures: BTreeMap<String, Vec<i64>>) -> Truth {
        Truth {
            failures,
            ..Truth::default()
        }
    }

    fn series(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
        points.to_vec()
    }

    #[test]
    fn lead_times_and_false_alarms() {
        let min = 60_000;
        // Object a: alarms from 20 to 30 min, fails at 31 min (lead 11 min), and a lone alarm
        // at 50 min that nothing follows. Object b: fails at 10 min unannounced. Object c: a
        // failure but never scored.
        let mut a: Vec<(i64, f64)> = (0..240).map(|i| (i * 15_000, 0.1)).collect();
        for w in a.iter_mut() {
            if (20 * min..=30 * min).contains(&w.0) || w.0 == 50 * min {
                w.1 = 0.9;
            }
        }
        let scores = BTreeMap::from([
            ("a".to_string(), a),
            ("b".to_string(), series(&[(0, 0.2), (15_000, 0.4)])),
        ]);
        let failures = BTreeMap::from([
            ("a".to_string(), vec![31 * min]),
            ("b".to_string(), vec![10 * min]),
            ("c".to_string(), vec![5 * min]),
        ]);
        let r = score_events(&scores, &only(failures), &EventScoring::default());
        assert_eq!(r.failures, 3);
        assert_eq!(r.ahead, [1, 1, 1]);
        assert_eq!(r.median_lead_secs, 660.0);
        assert_eq!(r.false_alarms, 1);
        let leads: Vec<_> = r
            .outcomes
            .iter()
            .map(|o| (o.object.as_str(), o.lead))
            .collect();
        assert_eq!(
            leads,
            [("a", Some(11 * min)), ("b", None), ("c", None)],
            "one outcome per failure"
        );
        assert!((r.object_hours - (240.0 + 2.0) * 15.0 / 3600.0).abs() < 1e-9);
        let recall = r.recall_ahead();
        assert!((recall[1] - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.false_alarms_per_1000h() - 1000.0 / r.object_hours).abs() < 1e-9);
    }

    #[test]
    fn a_flickering_alarm_is_one_episode() {
        let min = 60_000;
        // Alarms at 10 and 13 minutes, nothing between; the failure comes at 17.
        let scores = BTreeMap::from([(
            "a".to_string(),
            (0..80)
                .map(|i| (i * 15_000, if i == 40 || i == 52 { 0.9 } else { 0.0 }))
                .collect(),
        )]);
        let failures = BTreeMap::from([("a".to_string(), vec![17 * min])]);
        let r = score_events(&scores, &only(failures), &EventScoring::default());
        assert_eq!((r.ahead, r.false_alarms), ([1, 1, 0], 0));
        assert_eq!(r.median_lead_secs, 420.0);
    }

    #[test]
    fn alarms_hold_above_the_clear_level() {
        let w = [(0, 0.2), (1, 0.9), (2, 0.6), (3, 0.44), (4, 0.5), (5, 1.0)];
        let on: Vec<bool> = alarming(&w, 0.9, 0.5).map(|x| x.1).collect();
        assert_eq!(on, [false, true, true, false, false, true]);
        let plain: Vec<bool> = alarming(&w, 0.9, 1.0).map(|x| x.1).collect();
        assert_eq!(plain, [false, true, false, false, false, true]);
    }

    #[test]
    fn an_alarm_that_stopped_long_before_the_failure_does_not_announce_it() {
        let min = 60_000;
        let scores = BTreeMap::from([(
            "a".to_string(),
            (0..120)
                .map(|i| (i * 15_000, if i < 8 { 0.9 } else { 0.0 }))
                .collect(),
        )]);
        let failures = BTreeMap::from([("a".to_string(), vec![25 * min])]);
        let r = score_events(&scores, &only(failures), &EventScoring::default());
        assert_eq!((r.ahead, r.false_alarms), ([0, 0, 0], 1));
        assert!(r.median_lead_secs.is_nan());
    }
}
