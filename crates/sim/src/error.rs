//! Errors of the simulator: bad settings, bad scenario files, dataset I/O.

use thiserror::Error;

/// What went wrong in the simulator.
#[derive(Debug, Error)]
pub enum SimError {
    /// A simulator setting is out of range.
    #[error("invalid setting `{key}`: {message}")]
    Config {
        /// The setting at fault.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A scenario file is malformed or refers to something that does not exist.
    #[error("{file}:{line}:{column}: `{field}`: {message}")]
    Scenario {
        /// The scenario file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// Key path of the field at fault (`faults[2].target.workload`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A fault cannot be injected (unknown target, wrong target kind).
    #[error("cannot inject fault: {0}")]
    Inject(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A dataset file is malformed.
    #[error("dataset {path}: {message}")]
    Dataset {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Broad classes of [`SimError`], for callers that map errors to responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input is wrong.
    BadInput,
    /// The environment failed (disk, permissions).
    Io,
}

impl SimError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config { .. }
            | Self::Scenario { .. }
            | Self::Inject(_)
            | Self::Dataset { .. } => ErrorKind::BadInput,
            Self::Io { .. } => ErrorKind::Io,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    pub(crate) fn config(key: &str, message: impl Into<String>) -> Self {
        Self::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}
