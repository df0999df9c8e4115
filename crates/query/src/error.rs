//! Errors of a query, with the kind that decides how the HTTP API answers.

use thiserror::Error;

/// Why a query failed.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum QueryError {
    /// The query does not parse or type-check (the rendered `line:col: parse error: …`).
    #[error("{0}")]
    Parse(String),
    /// Evaluation refused the data or the arguments.
    #[error("{0}")]
    Execution(String),
    /// The query would hold more samples in memory than allowed.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// The query ran out of time.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The client went away before the answer.
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// The store failed.
    #[error("{0}")]
    Storage(String),
}

/// How the API classifies an error (Prometheus' `errorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `bad_data`, 400.
    BadData,
    /// `execution`, 422.
    Execution,
    /// `timeout`, 503.
    Timeout,
    /// `canceled`, 499.
    Canceled,
    /// `internal`, 500.
    Internal,
}

impl QueryError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Parse(_) => ErrorKind::BadData,
            Self::Execution(_) | Self::TooManySamples(_) => ErrorKind::Execution,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Canceled(_) => ErrorKind::Canceled,
            Self::Storage(_) => ErrorKind::Internal,
        }
    }
}

impl From<kubepulse_store::StoreError> for QueryError {
    fn from(e: kubepulse_store::StoreError) -> Self {
        Self::Storage(e.to_string())
    }
}

/// Shorthand for an execution error.
pub(crate) fn exec(msg: impl Into<String>) -> QueryError {
    QueryError::Execution(msg.into())
}
