//! The Prometheus remote_write 1.0 receiver: a snappy-compressed (block format) protobuf
//! `WriteRequest`, decoded without copying label strings, validated, and appended to the store.
//!
//! Answers follow what senders retry on: 204 when stored; 400 (never retried) for a body that is
//! not snappy or not a `WriteRequest`, for invalid series, and when samples were refused as out
//! of order or conflicting; 413 for bodies over the limits; 503 when storage fails (retried).

mod decode;
pub mod encode;

pub use decode::{TimeSeries, WriteRequest, decode};

use kubepulse_model::{MetricMeta, MetricType};
use kubepulse_store::{Append, AppendReport, ErrorKind, SeriesWrite};

use crate::IngestMetrics;

/// Limits of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest compressed body, bytes.
    pub max_body: usize,
    /// Largest decompressed message, bytes.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 4 << 20,
            max_message: 32 << 20,
        }
    }
}

/// The outcome of one request, ready to become an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (204).
    Stored(AppendReport),
    /// Refused: the client's fault, do not retry (400 or 413).
    Refused {
        /// HTTP status.
        status: u16,
        /// Counted reason.
        reason: &'static str,
        /// Message for the client.
        message: String,
    },
    /// Storage failed: retry later (503), or an internal error (500).
    Failed {
        /// HTTP status.
        status: u16,
        /// Message for the client.
        message: String,
    },
}

fn refused(status: u16, reason: &'static str, message: String) -> Outcome {
    Outcome::Refused {
        status,
        reason,
        message,
    }
}

/// Decompresses, decodes, validates and stores one remote_write body.
pub fn receive(
    body: &[u8],
    limits: &Limits,
    store: &dyn Append,
    metrics: &IngestMetrics,
) -> Outcome {
    let outcome = handle(body, limits, store);
    match &outcome {
        Outcome::Stored(r) => {
            metrics.samples("remote_write", r.appended);
            metrics.rejected_samples("remote_write", "out_of_order", r.too_old + r.conflicts);
        }
        Outcome::Refused { reason, .. } => metrics.rejected_request("remote_write", reason),
        Outcome::Failed { .. } => metrics.rejected_request("remote_write", "storage"),
    }
    outcome
}

fn handle(body: &[u8], limits: &Limits, store: &dyn Append) -> Outcome {
    if body.len() > limits.max_body {
        return refused(
            413,
            "too_large",
            format!(
                "body of {} bytes exceeds the limit of {} bytes",
                body.len(),
                limits.max_body
            ),
        );
    }
    let len = match snap::raw::decompress_len(body) {
        Ok(n) => n,
        Err(e) => {
            return refused(
                400,
                "snappy",
                format!("body is not snappy-compressed (block format): {e}"),
            );
        }
    };
    if len > limits.max_message {
        return refused(
            413,
            "too_large",
            format!(
                "decompressed message of {len} bytes exceeds the limit of {} bytes",
                limits.max_message
            ),
        );
    }
    let raw = match snap::raw::Decoder::new().decompress_vec(body) {
        Ok(r) => r,
        Err(e) => return refused(400, "snappy", format!("body is not valid snappy: {e}")),
    };
    let req = match decode(&raw) {
        Ok(r) => r,
        Err(e) => {
            return refused(
                400,
                "protobuf",
                format!("body is not a remote_write WriteRequest: {e}"),
            );
        }
    };
    if !req.metadata.is_empty() {
        store.append_metadata(&metadata_entries(&req.metadata));
    }
    let batch: Vec<SeriesWrite<'_>> = req
        .series
        .iter()
        .map(|s| SeriesWrite {
            labels: req.labels_of(s),
            samples: req.samples_of(s),
        })
        .collect();
    match store.append(&batch) {
        Ok(r) if r.rejected() > 0 => refused(
            400,
            "out_of_order",
            format!(
                "{} samples stored; refused {} out-of-order or too old and {} with a different value for an existing timestamp",
                r.appended, r.too_old, r.conflicts
            ),
        ),
        Ok(r) => Outcome::Stored(r),
        Err(kubepulse_store::StoreError::InvalidSeries(e)) => {
            let reason = e.reason();
            refused(400, reason, format!("invalid series, nothing stored: {e}"))
        }
        Err(e) if e.kind() == ErrorKind::BadInput => refused(400, "invalid", e.to_string()),
        Err(e) if e.kind() == ErrorKind::Unavailable => Outcome::Failed {
            status: 503,
            message: e.to_string(),
        },
        Err(e) => Outcome::Failed {
            status: 500,
            message: e.to_string(),
        },
    }
}

/// Metadata entries of a request, in the store's terms.
fn metadata_entries(m: &[decode::Metadata<'_>]) -> Vec<(String, MetricMeta)> {
    m.iter()
        .map(|m| {
            let kind = match m.kind {
                1 => MetricType::Counter,
                2 => MetricType::Gauge,
                3 => MetricType::Histogram,
                4 => MetricType::Gaugehistogram,
                5 => MetricType::Summary,
                6 => MetricType::Info,
                7 => MetricType::Stateset,
                _ => MetricType::Unknown,
            };
            (
                m.family.to_string(),
                MetricMeta {
                    kind,
                    help: m.help.to_string(),
                    unit: m.unit.to_string(),
                },
            )
        })
        .collect()
}
