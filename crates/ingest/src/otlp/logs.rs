//! OTLP logs into log lines. Stream labels come from the resource, as Kubernetes names them:
//! `k8s.namespace.name` → `namespace`, `k8s.pod.name` → `pod`, `k8s.container.name` →
//! `container`, `k8s.node.name` → `node`, `service.name` → `service_name` (Loki's name for it;
//! `unknown_service` when absent). Everything else — other resource attributes, the scope, the
//! record's attributes — is kept as the line's attributes, values as strings (arrays and maps
//! as JSON). Severity comes from the severity number, else the text, else the line.

use std::collections::BTreeMap;

use kubepulse_model::{Labels, LogRecord, Severity};
use kubepulse_store::Append;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::Value;

use crate::IngestMetrics;
use crate::logs::severity_of;

/// Resource attributes that become stream labels.
const STREAM_LABELS: [(&str, &str); 5] = [
    ("k8s.namespace.name", "namespace"),
    ("k8s.pod.name", "pod"),
    ("k8s.container.name", "container"),
    ("k8s.node.name", "node"),
    ("service.name", "service_name"),
];

fn json(v: &AnyValue) -> Value {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => Value::from(s.as_str()),
        Some(any_value::Value::BoolValue(b)) => Value::from(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => Value::from(*d),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(json).collect()),
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(
            kv.values
                .iter()
                .map(|k| (k.key.clone(), k.value.as_ref().map_or(Value::Null, json)))
                .collect(),
        ),
        Some(any_value::Value::BytesValue(b)) => {
            Value::from(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        }
        // A reference into a profiles dictionary: logs have none to resolve it against.
        Some(any_value::Value::StringValueStrindex(_)) | None => Value::Null,
    }
}

/// A value as text: strings as they are, everything else as JSON.
fn text(v: Option<&AnyValue>) -> String {
    match v.map(json) {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn put(attrs: &mut BTreeMap<String, String>, kvs: &[KeyValue]) {
    for kv in kvs {
        attrs.insert(kv.key.clone(), text(kv.value.as_ref()));
    }
}

/// The lines of an export.
pub fn records(req: &ExportLogsServiceRequest) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let mut labels: Vec<(&str, String)> = Vec::new();
        let mut base = BTreeMap::new();
        for kv in resource {
            match STREAM_LABELS.iter().find(|(k, _)| *k == kv.key) {
                Some((_, name)) => labels.push((name, text(kv.value.as_ref()))),
                None => {
                    base.insert(kv.key.clone(), text(kv.value.as_ref()));
                }
            }
        }
        if !labels.iter().any(|(n, _)| *n == "service_name") {
            labels.push(("service_name", "unknown_service".into()));
        }
        let labels = Labels::from_pairs(labels).unwrap_or_default();
        for sl in &rl.scope_logs {
            let mut scoped = base.clone();
            if let Some(scope) = &sl.scope {
                if !scope.name.is_empty() {
                    scoped.insert("otel.scope.name".into(), scope.name.clone());
                }
                if !scope.version.is_empty() {
                    scoped.insert("otel.scope.version".into(), scope.version.clone());
                }
                put(&mut scoped, &scope.attributes);
            }
            for r in &sl.log_records {
                let mut attributes = scoped.clone();
                put(&mut attributes, &r.attributes);
                let body = text(r.body.as_ref());
                let severity = match Severity::from_otel_number(r.severity_number) {
                    Severity::Unspecified => severity_of(
                        Some(r.severity_text.as_str()).filter(|s| !s.is_empty()),
                        &body,
                    ),
                    s => s,
                };
                let t = if r.time_unix_nano > 0 {
                    r.time_unix_nano
                } else {
                    r.observed_time_unix_nano
                };
                out.push(LogRecord {
                    t_ns: i64::try_from(t).unwrap_or(i64::MAX),
                    labels: labels.clone(),
                    severity,
                    body,
                    trace_id: hex(&r.trace_id),
                    span_id: hex(&r.span_id),
                    attributes,
                });
            }
        }
    }
    out
}

/// Decodes an OTLP/HTTP logs body: protobuf, or JSON when `json` is set.
pub fn decode(body: &[u8], json: bool) -> Result<ExportLogsServiceRequest, String> {
    if json {
        serde_json::from_slice(body).map_err(|e| format!("invalid OTLP/JSON: {e}"))
    } else {
        prost::Message::decode(body).map_err(|e| format!("invalid OTLP protobuf: {e}"))
    }
}

pub use super::Refusal;

/// Stores an export's lines; returns how many.
pub fn receive(
    req: &ExportLogsServiceRequest,
    store: &dyn Append,
    metrics: &IngestMetrics,
) -> Result<usize, Refusal> {
    let records = records(req);
    match store.append_logs(&records) {
        Ok(()) => {
            metrics.samples("otlp_logs", records.len() as u64);
            Ok(records.len())
        }
        Err(e) => {
            let r = Refusal::from(e);
            if matches!(r, Refusal::Invalid(_)) {
                metrics.rejected_request("otlp_logs", "invalid_line");
            }
            Err(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_example_translates_exactly() -> Result<(), String> {
        let path = kubepulse_testkit::data_dir().join("otlp/logs.json");
        let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let req = decode(&body, true)?;
        let r = records(&req);
        assert_eq!(r.len(), 1);
        let l = &r[0];
        assert_eq!(l.t_ns, 1_544_712_660_300_000_000);
        assert_eq!(l.body, "Example log record");
        assert_eq!(l.severity, Severity::Info);
        assert_eq!(l.trace_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(l.span_id, "eee19b7ec3c1b174");
        assert_eq!(l.labels.get("service_name"), Some("my.service"));
        let a = |k: &str| l.attributes.get(k).map(String::as_str);
        assert_eq!(a("string.attribute"), Some("some string"));
        assert_eq!(a("boolean.attribute"), Some("true"));
        assert_eq!(a("int.attribute"), Some("10"));
        assert_eq!(a("double.attribute"), Some("637.704"));
        assert_eq!(a("array.attribute"), Some(r#"["many","values"]"#));
        assert_eq!(a("otel.scope.name"), Some("my.library"));
        assert_eq!(a("my.scope.attribute"), Some("some scope attribute"));
        assert!(a("map.attribute").is_some_and(|m| m.starts_with('{')));
        Ok(())
    }

    #[test]
    fn kubernetes_resources_become_stream_labels() {
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        };
        let req = ExportLogsServiceRequest {
            resource_logs: vec![opentelemetry_proto::tonic::logs::v1::ResourceLogs {
                resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                    attributes: vec![
                        kv("k8s.namespace.name", "shop"),
                        kv("k8s.pod.name", "cart-1"),
                        kv("k8s.container.name", "cart"),
                        kv("k8s.node.name", "node-1"),
                        kv("host.arch", "amd64"),
                    ],
                    ..Default::default()
                }),
                scope_logs: vec![opentelemetry_proto::tonic::logs::v1::ScopeLogs {
                    log_records: vec![opentelemetry_proto::tonic::logs::v1::LogRecord {
                        observed_time_unix_nano: 5,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("level=error boom".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let r = records(&req);
        let l = &r[0];
        assert_eq!(l.t_ns, 5);
        assert_eq!(l.severity, Severity::Error);
        assert_eq!(
            l.labels.to_string(),
            r#"{container="cart", namespace="shop", node="node-1", pod="cart-1", service_name="unknown_service"}"#
        );
        assert_eq!(
            l.attributes.get("host.arch").map(String::as_str),
            Some("amd64")
        );
    }
}
