//! The failure model as a file: a forest per kind of object, the feature names it was trained
//! on (scoring checks them), and how it was trained.

use serde::{Deserialize, Serialize};

use crate::IntelError;
use crate::calibrate::Isotonic;
use crate::forest::Forest;
use crate::labels::FailureClass;
use crate::thresholds::NEVER;

/// Format tag of model files.
pub const FORMAT: &str = "kubepulse-failure-model";
/// Version of the model file layout this build writes and reads.
pub const VERSION: u32 = 2;

/// One kind of object's model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindModel {
    /// Feature names, in row order.
    pub features: Vec<String>,
    /// The forest.
    pub forest: Forest,
    /// Windows trained on.
    pub windows: usize,
    /// Of which labelled with a failure.
    pub positives: usize,
    /// Per class (index 0, `none`, unused): from the forest's probability of the class to a
    /// calibrated one. Classes are calibrated apart so that a class the features separate well
    /// is not drowned by one they barely do.
    pub calibration: Vec<Isotonic>,
    /// Per class (index 0 unused), the calibrated probability at or above which the model
    /// alarms for it ([`crate::thresholds::NEVER`] for classes it never alarms for).
    pub thresholds: Vec<f64>,
    /// Per class, the median time from a training window to its failure (ms): the ETA when no
    /// forecast gives one.
    pub typical_eta_ms: Vec<i64>,
    /// Per class (index 0 unused), the features of which at least one must be above zero for
    /// the class to have any probability (none: always possible); see [`signs_of`]. Files
    /// written before signs existed have none.
    #[serde(default)]
    pub signs: Vec<Vec<usize>>,
}

/// A kind model's verdict on one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The forest's class probabilities (uncalibrated).
    pub proba: Vec<f64>,
    /// The failure class closest to (or furthest past) its alarm threshold.
    pub class: FailureClass,
    /// Its calibrated probability.
    pub probability: f64,
    /// Its calibrated probability over its threshold: the model alarms at 1 or more.
    pub alarm_score: f64,
}

impl KindModel {
    /// Scores a row.
    pub fn score(&self, row: &[f64]) -> Score {
        let proba = self.forest.predict_proba(row);
        let mut calibrated = calibrate_all(&self.calibration, &proba);
        without_signs(&self.signs, |j| row.get(j).copied(), &mut calibrated);
        let (class, probability, alarm_score) = top_class(&self.thresholds, &calibrated);
        Score {
            proba,
            class,
            probability,
            alarm_score,
        }
    }

    /// Whether a score alarms.
    pub fn alarms(&self, s: &Score) -> bool {
        s.alarm_score >= 1.0
    }
}

/// Calibrated probabilities of every class (0 for class 0).
pub fn calibrate_all(calibration: &[Isotonic], proba: &[f64]) -> Vec<f64> {
    calibration
        .iter()
        .zip(proba)
        .enumerate()
        .map(|(k, (c, p))| if k == 0 { 0.0 } else { c.apply(*p) })
        .collect()
}

/// Signs that a container is failing: restarts, an error exit, back-off, probe failures,
/// kills. A crash loop needs a crash: a container that shows none of them gives no evidence of
/// one to come, whatever the workload's history. Error lines are no such sign: a container
/// logs them for every request that fails downstream.
const FAILING_CONTAINER: &[&str] = &[
    "restarts.max",
    "last_terminated_error.max",
    "events.BackOff.long",
    "events.Killing.long",
    "events.Unhealthy.long",
    "events.Failed.long",
];

/// The features of which at least one must be above zero in a window for `class` to be
/// possible (empty: no condition).
pub fn signs_of(class: FailureClass) -> &'static [&'static str] {
    match class {
        FailureClass::CrashLoop => FAILING_CONTAINER,
        _ => &[],
    }
}

/// Per class (index 0 unused), the indexes in `features` of the class's signs; empty where the
/// class has none or `features` hold none of them.
pub fn sign_indexes(features: &[String]) -> Vec<Vec<usize>> {
    FailureClass::ALL
        .iter()
        .map(|&c| {
            signs_of(c)
                .iter()
                .filter_map(|s| features.iter().position(|f| f == s))
                .collect()
        })
        .collect()
}

/// Sets to 0 the probability of every class none of whose `signs` shows in the row
/// (`value(j)`: its feature `j`; missing values show nothing).
pub fn without_signs(signs: &[Vec<usize>], value: impl Fn(usize) -> Option<f64>, p: &mut [f64]) {
    for (k, signs) in signs.iter().enumerate() {
        let shows = |&j: &usize| value(j).is_some_and(|v| v > 0.0);
        if !signs.is_empty()
            && !signs.iter().any(shows)
            && let Some(p) = p.get_mut(k)
        {
            *p = 0.0;
        }
    }
}

/// The failure class whose calibrated probability stands highest against its threshold, its
/// calibrated probability and that ratio (`none`, 0, 0 when there are no failure classes).
pub fn top_class(thresholds: &[f64], calibrated: &[f64]) -> (FailureClass, f64, f64) {
    let mut best = (FailureClass::None, 0.0, 0.0);
    for (k, &p) in calibrated.iter().enumerate().skip(1) {
        let t = thresholds.get(k).copied().unwrap_or(NEVER);
        let ratio = if p.is_nan() { 0.0 } else { p / t };
        if ratio > best.2 {
            best = (FailureClass::from_index(k), p, ratio);
        }
    }
    best
}

/// A trained failure model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureModel {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Failures this far after a window were its target (ms).
    pub horizon_ms: i64,
    /// Window length (ms).
    pub window_ms: i64,
    /// Window step (ms).
    pub step_ms: i64,
    /// Long window, for trends and event counts (ms).
    pub long_window_ms: i64,
    /// Pods.
    pub pod: KindModel,
    /// Nodes.
    pub node: KindModel,
    /// Where the training data came from, in words.
    pub trained_on: String,
    /// The baseline it is compared with: a forest on instantaneous CPU and the cluster's node
    /// count alone, trained on the same windows.
    pub baseline: Baseline,
}

/// The CPU-and-node-count baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Pods: features `[CPU of the limit, nodes]`.
    pub pod: KindModel,
    /// Nodes: features `[CPU busy, nodes]`.
    pub node: KindModel,
}

impl FailureModel {
    /// The model as JSON.
    pub fn to_json(&self) -> Result<String, IntelError> {
        serde_json::to_string(self).map_err(|e| IntelError::Data(e.to_string()))
    }

    /// Reads a model, refusing other formats and versions.
    pub fn from_json(text: &str) -> Result<Self, IntelError> {
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
        }
        let head: Head = serde_json::from_str(text)
            .map_err(|e| IntelError::Data(format!("not a model file: {e}")))?;
        if head.format != FORMAT {
            return Err(IntelError::Data(format!(
                "format {:?} is not {FORMAT:?}",
                head.format
            )));
        }
        if head.version != VERSION {
            return Err(IntelError::Data(format!(
                "model version {} is not supported (this build reads version {VERSION})",
                head.version
            )));
        }
        serde_json::from_str(text).map_err(|e| IntelError::Data(format!("model file: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_loop_needs_a_sign_of_a_failing_container() {
        let features: Vec<String> = [
            "memory_limit_ratio.last",
            "restarts.max",
            "events.BackOff.long",
        ]
        .map(String::from)
        .to_vec();
        let signs = sign_indexes(&features);
        assert_eq!(signs[FailureClass::CrashLoop.index() as usize], vec![1, 2]);
        assert!(signs[FailureClass::Oom.index() as usize].is_empty());
        let p = |row: [f64; 3]| {
            let mut p = vec![0.0; FailureClass::ALL.len()];
            p[FailureClass::Oom.index() as usize] = 0.4;
            p[FailureClass::CrashLoop.index() as usize] = 0.9;
            without_signs(&signs, |j| row.get(j).copied(), &mut p);
            (
                p[FailureClass::Oom.index() as usize],
                p[FailureClass::CrashLoop.index() as usize],
            )
        };
        // No restart, no back-off (or no events collected): no crash loop; other classes
        // untouched.
        assert_eq!(p([0.5, 0.0, 0.0]), (0.4, 0.0));
        assert_eq!(p([0.5, 0.0, f64::NAN]), (0.4, 0.0));
        // One restart or a back-off: the forest's word stands.
        assert_eq!(p([0.5, 1.0, 0.0]), (0.4, 0.9));
        assert_eq!(p([0.5, 0.0, 0.2]), (0.4, 0.9));
        // A model without the signs' features (or from before signs) keeps every class.
        let none = sign_indexes(&["x".to_string()]);
        let mut q = vec![0.0, 0.1, 0.9];
        without_signs(&none, |_| Some(0.0), &mut q);
        assert_eq!(q, vec![0.0, 0.1, 0.9]);
    }
}
