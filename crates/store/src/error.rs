//! Errors of the store.

use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The key-value store failed.
    #[error("storage error: {0}")]
    Disk(String),
    /// The data directory holds another format or version.
    #[error("unsupported on-disk format: {0}")]
    Format(String),
    /// Stored data could not be decoded.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A chunk could not be encoded.
    #[error("codec error: {0}")]
    Codec(String),
    /// A label matcher is invalid.
    #[error("invalid matcher: {0}")]
    BadMatcher(String),
    /// A series' labels are invalid.
    #[error("invalid series: {0}")]
    InvalidSeries(#[from] crate::append::InvalidSeries),
    /// A log line is invalid.
    #[error("invalid log line: {0}")]
    InvalidLog(String),
    /// A setting is invalid.
    #[error("invalid setting `{key}`: {message}")]
    Config {
        /// The setting.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Broad classes of errors, for mapping to responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something invalid: do not retry.
    BadInput,
    /// Storage is failing: retrying later may work.
    Unavailable,
    /// Stored data is damaged or of another version.
    Internal,
}

impl StoreError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadMatcher(_)
            | Self::InvalidSeries(_)
            | Self::InvalidLog(_)
            | Self::Config { .. } => ErrorKind::BadInput,
            Self::Io { .. } | Self::Disk(_) => ErrorKind::Unavailable,
            Self::Format(_) | Self::Corrupt(_) | Self::Codec(_) => ErrorKind::Internal,
        }
    }
}
