//! KubePulse's algorithms, free of storage and HTTP: they take matrices and series and return
//! plain data: the random forest behind failure prediction, its training targets, and its
//! event-level scoring.

pub mod calibrate;
mod error;
pub mod evaluate;
pub mod forest;
pub mod labels;
pub mod model;

pub use error::{ErrorKind, IntelError};
