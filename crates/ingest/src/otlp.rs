//! OTLP metrics into Prometheus series, as Prometheus' OTLP receiver translates them (names,
//! labels, `job`, `instance`, `target_info`), with one addition: delta sums and histograms are
//! turned into cumulative ones instead of being dropped. Exponential histograms are counted as
//! rejected points. Logs (`logs`) and traces (`traces`, into service graph metrics) arrive
//! through the submodules.

pub mod delta;
pub mod logs;
pub mod names;
mod points;
pub mod traces;

/// Why an export of logs or traces was not stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The export is invalid (400, INVALID_ARGUMENT).
    Invalid(String),
    /// Storage failed (503, UNAVAILABLE).
    Unavailable(String),
}

impl From<kubepulse_store::StoreError> for Refusal {
    /// The store refused what was sent (invalid), or could not take it (unavailable).
    fn from(e: kubepulse_store::StoreError) -> Self {
        if e.kind() == kubepulse_store::ErrorKind::BadInput {
            Self::Invalid(e.to_string())
        } else {
            Self::Unavailable(e.to_string())
        }
    }
}

use std::collections::BTreeMap;
use std::sync::Mutex;

use kubepulse_model::MetricMeta;
use kubepulse_store::{Append, AppendReport, ErrorKind, SeriesWrite, StoreError};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use xxhash_rust::xxh3::xxh3_64;

use crate::IngestMetrics;
use delta::DeltaState;
use names::label_name;
use points::{Ctx, metric_points};

/// One series to store.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedSeries {
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Samples.
    pub samples: Vec<(i64, f64)>,
}

/// The result of one export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Export {
    /// What the store did.
    pub report: AppendReport,
    /// Data points refused.
    pub rejected_points: i64,
    /// Why points were refused, for the partial-success message.
    pub messages: Vec<String>,
    /// Metadata of the metrics, by Prometheus family name.
    pub metadata: Vec<(String, MetricMeta)>,
}

/// Translation state kept between exports (running totals of delta streams).
#[derive(Debug, Default)]
pub struct OtlpMetrics {
    delta: Mutex<DeltaState>,
}

/// A string form of an attribute value, as pdata's `AsString` gives it.
fn value_string(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// Attributes as sanitised labels; keys that collide have their values joined by `;` in key order.
fn attribute_labels(attrs: &[KeyValue]) -> BTreeMap<String, String> {
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let name = label_name(&kv.key);
        let v = value_string(&kv.value);
        out.entry(name)
            .and_modify(|e| {
                e.push(';');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|k| k.key == key)
        .map(|k| value_string(&k.value))
        .filter(|v| !v.is_empty())
}

fn ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

impl OtlpMetrics {
    /// Translates an export request into series.
    pub fn translate(
        &self,
        req: &ExportMetricsServiceRequest,
        out: &mut Vec<OwnedSeries>,
        export: &mut Export,
    ) {
        let mut delta = match self.delta.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        let mut newest = 0u64;
        for rm in &req.resource_metrics {
            let attrs = rm
                .resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or(&[]);
            let mut base = BTreeMap::new();
            if let Some(name) = attr(attrs, "service.name") {
                let job = match attr(attrs, "service.namespace") {
                    Some(ns) => format!("{ns}/{name}"),
                    None => name,
                };
                base.insert("job".to_string(), job);
            }
            if let Some(i) = attr(attrs, "service.instance.id") {
                base.insert("instance".to_string(), i);
            }
            let resource_key = xxh3_64(format!("{attrs:?}").as_bytes());
            let mut ctx = Ctx {
                base: base.clone(),
                out: &mut *out,
                export: &mut *export,
                delta: &mut delta,
                resource_key,
            };
            let mut latest = 0u64;
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    latest = latest.max(metric_points(&mut ctx, m));
                }
            }
            newest = newest.max(latest);
            let others: Vec<KeyValue> = attrs
                .iter()
                .filter(|k| {
                    !matches!(
                        k.key.as_str(),
                        "service.name" | "service.namespace" | "service.instance.id"
                    )
                })
                .cloned()
                .collect();
            if !others.is_empty() && latest > 0 && !base.is_empty() {
                let mut l = attribute_labels(&others);
                l.extend(base);
                l.insert("__name__".into(), "target_info".into());
                out.push(OwnedSeries {
                    labels: l.into_iter().collect(),
                    samples: vec![(ms(latest), 1.0)],
                });
            }
        }
        delta.expire(newest);
    }
}

/// Decodes an OTLP/HTTP metrics body: protobuf, or JSON when `json` is set.
pub fn decode(body: &[u8], json: bool) -> Result<ExportMetricsServiceRequest, String> {
    if json {
        serde_json::from_slice(body).map_err(|e| format!("invalid OTLP/JSON: {e}"))
    } else {
        prost::Message::decode(body).map_err(|e| format!("invalid OTLP protobuf: {e}"))
    }
}

/// Translates and stores an export. Series with invalid names are refused individually;
/// storage failures are errors.
pub fn receive(
    req: &ExportMetricsServiceRequest,
    state: &OtlpMetrics,
    store: &dyn Append,
    metrics: &IngestMetrics,
) -> Result<Export, StoreError> {
    let mut series = Vec::new();
    let mut export = Export::default();
    state.translate(req, &mut series, &mut export);
    store.append_metadata(&std::mem::take(&mut export.metadata));
    let mut labels = Vec::with_capacity(series.len());
    for s in &series {
        let l: Vec<(&str, &str)> = s
            .labels
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let mut check = l.clone();
        match kubepulse_store::append::normalize(
            &mut check,
            &kubepulse_store::StoreConfig::default(),
        ) {
            Ok(()) => labels.push((l, &s.samples)),
            Err(e) => {
                export.rejected_points += 1;
                if export.messages.len() < 8 {
                    export.messages.push(format!("series refused: {e}"));
                }
            }
        }
    }
    let batch: Vec<SeriesWrite<'_>> = labels
        .iter()
        .map(|(l, s)| SeriesWrite {
            labels: l,
            samples: s,
        })
        .collect();
    match store.append(&batch) {
        Ok(r) => {
            export.report = r;
            metrics.samples("otlp", r.appended);
            metrics.rejected_samples("otlp", "translation", export.rejected_points as u64);
            Ok(export)
        }
        Err(e) if e.kind() == ErrorKind::BadInput => {
            export.rejected_points += batch.len() as i64;
            export.messages.push(e.to_string());
            Ok(export)
        }
        Err(e) => Err(e),
    }
}
