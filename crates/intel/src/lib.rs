//! KubePulse's algorithms, free of storage and HTTP: they take matrices and series and return
//! plain data: the random forest behind failure prediction and its training targets.

mod error;
pub mod forest;
pub mod labels;

pub use error::{ErrorKind, IntelError};
