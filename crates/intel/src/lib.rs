//! KubePulse's algorithms, free of storage and HTTP: they take matrices and series and return
//! plain data. So far: the random forest behind failure prediction.

mod error;
pub mod forest;

pub use error::{ErrorKind, IntelError};
