//! Training one kind of object's failure model from labelled windows: a forest grown with
//! objects bagged whole, each class calibrated on its out-of-bag scores (isotonic), and alarm
//! thresholds per class whose out-of-bag alarms stay within a false-alarm budget together.

use std::collections::{BTreeMap, HashMap};

use crate::IntelError;
use crate::calibrate::Isotonic;
use crate::evaluate::EventScoring;
use crate::forest::{Forest, ForestParams};
use crate::labels::{Failure, FailureClass};
use crate::model::{KindModel, calibrate_all, sign_indexes, without_signs};
use crate::rows::Rows;
use crate::thresholds;

/// Labelled feature windows of one kind of object.
#[derive(Debug, Default, Clone)]
pub struct Windows {
    /// Object of each row (unique across the episodes the rows come from).
    pub objects: Vec<String>,
    /// End of each row's window (ms).
    pub times: Vec<i64>,
    /// Features.
    pub rows: Rows,
    /// Class index of each row.
    pub labels: Vec<u16>,
    /// Time from the window's end to the failure it is labelled with (ms; 0 for none).
    pub to_failure: Vec<i64>,
    /// Whether a model learns from the row (rows in the grace period before a failure's
    /// horizon are scored but not learnt from).
    pub trainable: Vec<bool>,
    /// Per object, when the data about it ends (ms; absent: no end): an alarm closer to it
    /// than the horizon cannot be judged.
    pub data_end: HashMap<String, i64>,
}

impl Windows {
    /// Appends `other`, whose objects are renamed with `prefix` so that episodes stay apart;
    /// its rows must be as wide as these.
    fn extend(&mut self, other: Windows, prefix: &str) -> Result<(), IntelError> {
        self.rows.extend(other.rows)?;
        self.objects
            .extend(other.objects.into_iter().map(|o| format!("{prefix}{o}")));
        self.times.extend(other.times);
        self.labels.extend(other.labels);
        self.to_failure.extend(other.to_failure);
        self.trainable.extend(other.trainable);
        self.data_end
            .extend((other.data_end.into_iter()).map(|(o, end)| (format!("{prefix}{o}"), end)));
        Ok(())
    }

    /// `parts` one after the other, each part's objects renamed with its prefix. The rows are
    /// copied into room reserved for all of them at once, and each part is freed once copied,
    /// so that gathering takes little more memory than the result.
    pub fn concat(parts: Vec<(Windows, String)>) -> Result<Windows, IntelError> {
        let n: usize = parts.iter().map(|(w, _)| w.objects.len()).sum();
        let width = parts.iter().map(|(w, _)| w.rows.width()).max().unwrap_or(0);
        let mut all = Windows {
            objects: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
            rows: Rows::with_capacity(n, width),
            labels: Vec::with_capacity(n),
            to_failure: Vec::with_capacity(n),
            trainable: Vec::with_capacity(n),
            data_end: HashMap::new(),
        };
        for (w, prefix) in parts {
            all.extend(w, &prefix)?;
        }
        Ok(all)
    }

    /// Windows labelled with a failure.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|l| **l != 0).count()
    }

    /// Rows a model learns from.
    pub fn trainable_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.trainable
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.then_some(i))
    }

    /// Scores by object, in time order, as event scoring takes them.
    pub fn by_object(&self, scores: &[f64]) -> BTreeMap<String, Vec<(i64, f64)>> {
        let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for ((o, t), p) in self.objects.iter().zip(&self.times).zip(scores) {
            let p = if p.is_nan() { 0.0 } else { *p };
            out.entry(o.clone()).or_default().push((*t, p));
        }
        out.values_mut().for_each(|v| v.sort_by_key(|x| x.0));
        out
    }
}

/// How a kind's model is fitted.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Forest settings.
    pub params: ForestParams,
    /// Event scoring used to choose the thresholds (its `threshold` is ignored).
    pub scoring: EventScoring,
    /// False alarms per 1,000 object-hours the thresholds are chosen to stay within.
    pub false_alarm_budget: f64,
}

impl Default for Fit {
    fn default() -> Self {
        Self {
            params: ForestParams::default(),
            scoring: EventScoring::default(),
            false_alarm_budget: 1.0,
        }
    }
}

/// Cut points for the features that count down to an event in seconds (a limit reached, the
/// container's next exit): every step up to twice the horizon. A window's label turns where
/// the event comes within the horizon, and quantiles over values that span hours would leave
/// no cut near it; with these a split can fall exactly there.
pub fn countdown_cuts(features: &[String], scoring: &EventScoring) -> Vec<Vec<f64>> {
    let step = scoring.step.max(1_000) as f64 / 1000.0;
    let steps = (2 * scoring.horizon / scoring.step.max(1_000)).clamp(0, 200);
    features
        .iter()
        .map(|name| {
            let counts_down = name.ends_with("seconds_to_limit")
                || name
                    .strip_prefix("run_left_seconds.")
                    .is_some_and(|stat| ["last", "mean", "min", "max"].contains(&stat));
            match counts_down {
                true => (0..=steps).map(|k| k as f64 * step).collect(),
                false => Vec::new(),
            }
        })
        .collect()
}

/// Trains a kind's model on `w` with feature names `features`; `failures` are the failures of
/// `w`'s objects, `averted` those that were coming when their cause ended (alarms before them
/// are not false). `on_tree` is called after each tree.
pub fn fit(
    w: &Windows,
    features: Vec<String>,
    failures: &[Failure],
    averted: &[Failure],
    f: &Fit,
    on_tree: &mut dyn FnMut(),
) -> Result<KindModel, IntelError> {
    let learn: Vec<usize> = w.trainable_rows().collect();
    let rows: Vec<&[f32]> = learn.iter().map(|&i| w.rows.row(i)).collect();
    let labels: Vec<u16> = learn.iter().map(|&i| w.labels[i]).collect();
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let groups: Vec<u32> = learn
        .iter()
        .map(|&i| {
            let n = ids.len() as u32;
            *ids.entry(w.objects[i].as_str()).or_insert(n)
        })
        .collect();
    let n_classes = FailureClass::ALL.len();
    let mut params = f.params.clone();
    if params.cuts.is_empty() {
        params.cuts = countdown_cuts(&features, &f.scoring);
    }
    let (forest, oob) =
        Forest::train_grouped(&rows, &labels, Some(&groups), n_classes, &params, on_tree)?;
    // Each class calibrated on its out-of-bag probabilities against "this class within the
    // horizon".
    let calibration: Vec<Isotonic> = (0..n_classes)
        .map(|k| {
            let pairs: Vec<(f64, bool)> = oob
                .iter()
                .zip(&labels)
                .map(|(p, l)| (p[k], *l as usize == k))
                .collect();
            Isotonic::fit(&pairs)
        })
        .collect();
    // Every row's honest calibrated probabilities: out of bag where it was learnt from, the
    // whole forest's where it was not learnt from at all.
    let mut calibrated = vec![Vec::new(); w.rows.len()];
    for (&i, p) in learn.iter().zip(&oob) {
        calibrated[i] = calibrate_all(&calibration, p);
    }
    for (i, row) in w.rows.iter().enumerate() {
        if !w.trainable[i] {
            calibrated[i] = calibrate_all(&calibration, &forest.predict_proba(row));
        }
    }
    let signs = sign_indexes(&features);
    for (i, p) in calibrated.iter_mut().enumerate() {
        let row = w.rows.row(i);
        without_signs(&signs, |j| row.get(j).map(|&v| f64::from(v)), p);
    }
    let thresholds = thresholds::choose(
        w,
        &calibrated,
        failures,
        averted,
        &f.scoring,
        f.false_alarm_budget,
    );
    Ok(KindModel {
        features,
        forest,
        windows: w.rows.len(),
        positives: w.positives(),
        calibration,
        thresholds,
        typical_eta_ms: typical_eta(w, n_classes),
        signs,
    })
}

/// Per class, the median time from a labelled window to its failure.
fn typical_eta(w: &Windows, n_classes: usize) -> Vec<i64> {
    let mut by_class: Vec<Vec<i64>> = vec![Vec::new(); n_classes];
    for (l, d) in w.labels.iter().zip(&w.to_failure) {
        if *l != 0
            && let Some(v) = by_class.get_mut(*l as usize)
        {
            v.push(*d);
        }
    }
    by_class
        .into_iter()
        .map(|mut v| {
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Objects whose feature 0 climbs to 1 in the minutes before they fail, and healthy ones
    /// whose feature 0 wanders below 0.5.
    pub(crate) fn windows() -> (Windows, Vec<Failure>) {
        let mut w = Windows::default();
        let mut failures = Vec::new();
        for o in 0..40 {
            let fails = o % 4 == 0;
            let name = format!("pod-{o}");
            let fail_at = 200 * 15_000;
            if fails {
                failures.push(Failure {
                    t: fail_at,
                    object: name.clone(),
                    class: FailureClass::Oom,
                    cause: None,
                    runup: None,
                    until: None,
                });
            }
            for i in 0..200 {
                let t = i * 15_000;
                let to = fail_at - t;
                let x = if fails && to <= 600_000 {
                    1.0 - to as f64 / 600_000.0 * 0.5
                } else {
                    0.2 + 0.2 * ((o * 7 + i) % 5) as f64 / 5.0
                };
                let label = if fails && to <= 300_000 { 1 } else { 0 };
                w.objects.push(name.clone());
                w.times.push(t);
                w.rows.push(&[x, (i % 3) as f64]).unwrap();
                w.labels.push(label);
                w.to_failure.push(if label != 0 { to } else { 0 });
                w.trainable.push(true);
            }
        }
        (w, failures)
    }

    #[test]
    fn countdowns_get_a_cut_at_every_step_up_to_twice_the_horizon() {
        let names: Vec<String> = [
            "run_left_seconds.last",
            "run_left_seconds.slope",
            "memory_limit_ratio.trend_seconds_to_limit",
            "memory_limit_ratio.last",
        ]
        .map(String::from)
        .to_vec();
        let cuts = countdown_cuts(&names, &EventScoring::default());
        let every_step: Vec<f64> = (0..=40).map(|k| f64::from(k) * 15.0).collect();
        assert_eq!(cuts[0], every_step);
        assert!(cuts[1].is_empty() && cuts[3].is_empty());
        assert_eq!(cuts[2], every_step);
    }

    #[test]
    fn fits_a_calibrated_model_with_a_threshold_within_budget() {
        let (w, failures) = windows();
        let mut trees = 0;
        let fit_settings = Fit {
            params: ForestParams {
                trees: 20,
                ..ForestParams::default()
            },
            ..Fit::default()
        };
        let m = fit(
            &w,
            vec!["x".into(), "noise".into()],
            &failures,
            &[],
            &fit_settings,
            &mut || trees += 1,
        )
        .unwrap();
        assert_eq!(trees, 20);
        assert_eq!((m.windows, m.positives), (8000, 10 * 20));
        // Only the class with failures alarms.
        assert!(
            m.thresholds[1] > 0.0 && m.thresholds[1] <= 1.0,
            "{:?}",
            m.thresholds
        );
        assert!(
            m.thresholds[2..]
                .iter()
                .all(|t| *t == crate::thresholds::NEVER)
        );
        // Healthy rows stay below the threshold, rows just before a failure reach it.
        assert!(!m.alarms(&m.score(&[0.3, 1.0])));
        let s = m.score(&[0.98, 1.0]);
        assert!(m.alarms(&s) && s.class == FailureClass::Oom, "{s:?}");
        // Labelled windows lie 0–5 minutes before their failure: the median is about 2.5.
        let eta = m.typical_eta_ms[1];
        assert!((120_000..=180_000).contains(&eta), "{eta}");
    }
}
