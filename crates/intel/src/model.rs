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
        let (class, probability, alarm_score) =
            top_class(&self.calibration, &self.thresholds, &proba);
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

/// The failure class whose calibrated probability stands highest against its threshold, its
/// calibrated probability and that ratio (`none`, 0, 0 when there are no failure classes).
pub fn top_class(
    calibration: &[Isotonic],
    thresholds: &[f64],
    proba: &[f64],
) -> (FailureClass, f64, f64) {
    let mut best = (FailureClass::None, 0.0, 0.0);
    for (k, p) in calibrate_all(calibration, proba)
        .into_iter()
        .enumerate()
        .skip(1)
    {
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
