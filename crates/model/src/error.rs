//! Errors of the shared vocabulary: invalid names and unparsable values.

use thiserror::Error;

/// What went wrong when building or parsing one of the shared types.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
    /// The same label name appears twice in one label set.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// A label set without a metric name where one is required.
    #[error("missing metric name")]
    MissingMetricName,
    /// A duration string such as `15s` or `1h30m` could not be parsed.
    #[error(
        "invalid duration {0:?}: expected a number with a unit (ms, s, m, h, d, w, y), e.g. 15s or 1h30m"
    )]
    InvalidDuration(String),
}
