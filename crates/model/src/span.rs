//! Trace spans, as OpenTelemetry describes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The role of a span in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    /// Not specified.
    Unspecified,
    /// Internal operation.
    Internal,
    /// Server side of a call.
    Server,
    /// Client side of a call.
    Client,
    /// Producer of a message.
    Producer,
    /// Consumer of a message.
    Consumer,
}

/// Outcome of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanStatus {
    /// Not set.
    Unset,
    /// Succeeded.
    Ok,
    /// Failed.
    Error,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Trace id, 32 lowercase hex characters.
    pub trace_id: String,
    /// Span id, 16 lowercase hex characters.
    pub span_id: String,
    /// Parent span id, empty for a root span.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_span_id: String,
    /// Operation name, e.g. `GET /cart`.
    pub name: String,
    /// The `service.name` resource attribute.
    pub service: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the epoch.
    pub start_ns: i64,
    /// End, nanoseconds since the epoch.
    pub end_ns: i64,
    /// Outcome.
    pub status: SpanStatus,
    /// Span attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Resource attributes other than `service.name` (`k8s.pod.name`, `k8s.namespace.name`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource: BTreeMap<String, String>,
}

impl Span {
    /// Duration in nanoseconds.
    pub fn duration_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }
}
