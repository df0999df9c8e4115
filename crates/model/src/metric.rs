//! Samples, staleness markers and metric metadata.

use serde::{Deserialize, Serialize};

/// Prometheus' staleness marker: a NaN with this exact bit pattern marks the end of a series.
pub const STALE_NAN: f64 = f64::from_bits(0x7ff0_0000_0000_0002);

/// True when `v` is the staleness marker (and not an ordinary NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN.to_bits()
}

/// One float sample: a timestamp in milliseconds and a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; NaN and ±Inf are legal, [`STALE_NAN`] marks staleness.
    pub v: f64,
}

/// The type of a metric family, as in the exposition formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// A monotonically increasing counter.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A classic histogram (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// A summary (quantiles, `_sum`, `_count`).
    Summary,
    /// An info metric (value 1, information in labels).
    Info,
    /// A state set (one series per state, value 0 or 1).
    Stateset,
    /// A gauge histogram.
    Gaugehistogram,
    /// Type not declared.
    #[default]
    Unknown,
}

impl MetricType {
    /// The name used by Prometheus' metadata API.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::Stateset => "stateset",
            Self::Gaugehistogram => "gaugehistogram",
            Self::Unknown => "unknown",
        }
    }
}

/// Metadata of a metric family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MetricMeta {
    /// The family type.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// The help text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    /// The unit, when declared.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_distinct_from_nan() {
        assert!(STALE_NAN.is_nan());
        assert!(is_stale_nan(STALE_NAN));
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(1.0));
    }
}
