//! The Loki push API, `POST /loki/api/v1/push`: a snappy-compressed (block format) protobuf
//! `PushRequest`, or the same as JSON (`{"streams":[{"stream":{…},"values":[["<ns>","<line>",
//! {metadata}]]}]}`). Streams' labels become the lines' stream labels, structured metadata
//! their attributes; the severity comes from a `level` (or `severity`, `detected_level`) label
//! or metadata entry, else from the line itself. A request is stored whole or refused whole.

mod decode;
mod labels;

pub use decode::{Entry, PushRequest, Stream, decode_json, decode_protobuf, encode_protobuf};
pub use labels::parse_labels;

use kubepulse_model::{Labels, LogRecord};
use kubepulse_store::{Append, ErrorKind};

use crate::IngestMetrics;
use crate::logs::severity_of;
use crate::remote_write::{Limits, Outcome};

const PROTOCOL: &str = "loki";

fn refused(metrics: &IngestMetrics, status: u16, reason: &'static str, message: String) -> Outcome {
    metrics.rejected_request(PROTOCOL, reason);
    Outcome::Refused {
        status,
        reason,
        message,
    }
}

/// The lines of a push request.
pub fn records(req: &PushRequest) -> Result<Vec<LogRecord>, String> {
    let mut out = Vec::new();
    for (i, s) in req.streams.iter().enumerate() {
        let labels = Labels::from_pairs(s.labels.iter().map(|(a, b)| (a.as_str(), b.as_str())))
            .map_err(|e| format!("stream {i}: {e}"))?;
        if labels.is_empty() {
            return Err(format!("stream {i} has no labels"));
        }
        for e in &s.entries {
            let mut attributes = std::collections::BTreeMap::new();
            for (k, v) in &e.metadata {
                attributes.insert(k.clone(), v.clone());
            }
            let hint = ["level", "severity", "detected_level"]
                .iter()
                .find_map(|k| {
                    labels
                        .get(k)
                        .or_else(|| attributes.get(*k).map(String::as_str))
                });
            let trace_id = attributes.get("trace_id").cloned().unwrap_or_default();
            out.push(LogRecord {
                t_ns: e.t_ns,
                labels: labels.clone(),
                severity: severity_of(hint, &e.line),
                body: e.line.clone(),
                trace_id,
                span_id: String::new(),
                attributes,
            });
        }
    }
    Ok(out)
}

/// Decodes, validates and stores one push request.
pub fn receive(
    body: &[u8],
    json: bool,
    limits: &Limits,
    store: &dyn Append,
    metrics: &IngestMetrics,
) -> Outcome {
    if body.len() > limits.max_body {
        return refused(
            metrics,
            413,
            "too_large",
            format!(
                "body of {} bytes exceeds {} bytes",
                body.len(),
                limits.max_body
            ),
        );
    }
    let req = if json {
        decode_json(body)
    } else {
        decode_protobuf(body, limits.max_message)
    };
    let req = match req {
        Ok(r) => r,
        Err(e) => return refused(metrics, 400, "decode", e),
    };
    let records = match records(&req) {
        Ok(r) => r,
        Err(e) => return refused(metrics, 400, "invalid_stream", e),
    };
    match store.append_logs(&records) {
        Ok(()) => {
            metrics.samples(PROTOCOL, records.len() as u64);
            Outcome::Stored(kubepulse_store::AppendReport {
                appended: records.len() as u64,
                ..Default::default()
            })
        }
        Err(e) if e.kind() == ErrorKind::BadInput => {
            refused(metrics, 400, "invalid_line", e.to_string())
        }
        Err(e) => Outcome::Failed {
            status: 503,
            message: e.to_string(),
        },
    }
}
