//! Errors of the algorithms.

use thiserror::Error;

/// Why an algorithm refused its input.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum IntelError {
    /// The data cannot be used as given.
    #[error("{0}")]
    Data(String),
}

/// How callers classify an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input.
    Data,
}

impl IntelError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Data(_) => ErrorKind::Data,
        }
    }
}
