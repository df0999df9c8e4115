//! The shared vocabulary of KubePulse.
//!
//! Every stage of the pipeline (sources, store, query, intelligence, alerting, API) speaks in the
//! types defined here: label sets and samples, log records, spans, Kubernetes events and object
//! states, ground-truth records, and the injected [`Clock`].
//!
//! This crate must never do I/O: it holds plain data and the small pure functions that belong to it.

pub mod clock;
pub mod error;
pub mod event;
pub mod gofloat;
pub mod labels;
pub mod log;
pub mod metric;
pub mod object;
pub mod span;
pub mod time;
pub mod yaml;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ModelError;
pub use event::{EventSource, EventType, K8sEvent};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use log::{LogRecord, Severity};
pub use metric::{MetricMeta, MetricType, STALE_NAN, Sample, is_stale_nan};
pub use object::{ObjectKind, ObjectRef, ObjectState};
pub use span::{Span, SpanKind, SpanStatus};
pub use time::{DurationMs, format_duration, format_rfc3339, parse_duration, parse_rfc3339};
