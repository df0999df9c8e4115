//! The failure model as a file: a forest per kind of object, the feature names it was trained
//! on (scoring checks them), and how it was trained.

use serde::{Deserialize, Serialize};

use crate::IntelError;
use crate::calibrate::Isotonic;
use crate::forest::Forest;

/// Format tag of model files.
pub const FORMAT: &str = "kubepulse-failure-model";
/// Version of the model file layout this build writes and reads.
pub const VERSION: u32 = 1;

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
    /// From the forest's probability of any failure to a calibrated one.
    pub calibration: Isotonic,
    /// Calibrated probability at or above which the model alarms.
    pub threshold: f64,
}

impl KindModel {
    /// Class probabilities of a row, and the calibrated probability of any failure.
    pub fn score(&self, row: &[f64]) -> (Vec<f64>, f64) {
        let p = self.forest.predict_proba(row);
        let fail = 1.0 - p.first().copied().unwrap_or(1.0);
        let calibrated = self.calibration.apply(fail);
        (p, calibrated)
    }
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
    /// Pods.
    pub pod: KindModel,
    /// Nodes.
    pub node: KindModel,
    /// Where the training data came from, in words.
    pub trained_on: String,
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
