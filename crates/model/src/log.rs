//! Log records: one line of a container's output with its stream labels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Labels;

/// Severity levels, numbered as OpenTelemetry's `SeverityNumber` ranges start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Severity not known.
    Unspecified,
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warn.
    Warn,
    /// Error.
    Error,
    /// Fatal.
    Fatal,
}

impl Severity {
    /// The OpenTelemetry severity number of the first value in this level's range.
    pub fn otel_number(&self) -> i32 {
        match self {
            Self::Unspecified => 0,
            Self::Trace => 1,
            Self::Debug => 5,
            Self::Info => 9,
            Self::Warn => 13,
            Self::Error => 17,
            Self::Fatal => 21,
        }
    }

    /// The level of an OpenTelemetry severity number.
    pub fn from_otel_number(n: i32) -> Self {
        match n {
            1..=4 => Self::Trace,
            5..=8 => Self::Debug,
            9..=12 => Self::Info,
            13..=16 => Self::Warn,
            17..=20 => Self::Error,
            21..=24 => Self::Fatal,
            _ => Self::Unspecified,
        }
    }

    /// Lowercase name as used in the `level` label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unspecified => "unknown",
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Fatal => "fatal",
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Nanoseconds since the Unix epoch.
    pub t_ns: i64,
    /// Stream labels: `namespace`, `pod`, `container`, `node`, …
    pub labels: Labels,
    /// Severity.
    pub severity: Severity,
    /// The line (may span several lines, e.g. a stack trace).
    pub body: String,
    /// Trace id (32 hex characters) when the line was written inside a traced request.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_id: String,
    /// Span id (16 hex characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub span_id: String,
    /// Structured attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otel_numbers_round_trip() {
        for s in [
            Severity::Trace,
            Severity::Debug,
            Severity::Info,
            Severity::Warn,
            Severity::Error,
            Severity::Fatal,
        ] {
            assert_eq!(Severity::from_otel_number(s.otel_number()), s);
            assert_eq!(Severity::from_otel_number(s.otel_number() + 3), s);
        }
        assert_eq!(Severity::from_otel_number(99), Severity::Unspecified);
    }
}
