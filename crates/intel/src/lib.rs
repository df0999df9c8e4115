//! KubePulse's algorithms, free of storage and HTTP: they take matrices and series and return
//! plain data: the random forest behind failure prediction, its training targets, calibration
//! and alarm threshold, predictions with their ETA, explanation and recommendation, the threshold
//! rules it is compared with, and its event-level scoring.

pub mod anomaly;
pub mod baseline;
pub mod calibrate;
mod error;
pub mod evaluate;
pub mod explain;
pub mod findings;
pub mod forest;
pub mod labels;
pub mod loghub;
pub mod model;
pub mod nab;
pub mod predict;
pub mod recommend;
pub mod rows;
pub mod templates;
pub mod thresholds;
pub mod train;

pub use error::{ErrorKind, IntelError};
