//! OTLP metrics into Prometheus series, as Prometheus' OTLP receiver translates them (names,
//! labels, `job`, `instance`, `target_info`), with one addition: delta sums and histograms are
//! turned into cumulative ones instead of being dropped. Exponential histograms are counted as
//! rejected points.

pub mod delta;
pub mod names;

use std::collections::BTreeMap;
use std::sync::Mutex;

use kubepulse_model::{MetricMeta, MetricType, STALE_NAN};
use kubepulse_store::{Append, AppendReport, ErrorKind, SeriesWrite, StoreError};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, metric, number_data_point,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::IngestMetrics;
use delta::DeltaState;
use names::{NameKind, label_name, metric_name};

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

/// Formats a bucket bound or quantile as Prometheus does: the shortest decimal that round-trips,
/// never in exponent form (Rust's float formatting already is), `+Inf` for infinity.
pub fn format_bound(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{v}")
}

struct Ctx<'a> {
    base: BTreeMap<String, String>,
    out: &'a mut Vec<OwnedSeries>,
    export: &'a mut Export,
    delta: &'a mut DeltaState,
    resource_key: u64,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        name: &str,
        point: &BTreeMap<String, String>,
        extra: &[(&str, String)],
        t: i64,
        v: f64,
    ) {
        let mut l = point.clone();
        for (k, v) in &self.base {
            l.insert(k.clone(), v.clone());
        }
        for (k, v) in extra {
            l.insert(k.to_string(), v.clone());
        }
        l.insert("__name__".into(), name.to_string());
        self.out.push(OwnedSeries {
            labels: l.into_iter().collect(),
            samples: vec![(t, v)],
        });
    }

    fn describe(&mut self, family: &str, kind: MetricType, m: &Metric) {
        self.export.metadata.push((
            family.to_string(),
            MetricMeta {
                kind,
                help: m.description.clone(),
                unit: m.unit.clone(),
            },
        ));
    }

    fn reject(&mut self, n: usize, why: String) {
        self.export.rejected_points += n as i64;
        if self.export.messages.len() < 8 {
            self.export.messages.push(why);
        }
    }

    fn stream_key(&self, metric: &str, point: &BTreeMap<String, String>) -> u64 {
        let mut s = format!("{}\u{1}{metric}", self.resource_key);
        for (k, v) in point {
            s.push('\u{1}');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        xxh3_64(s.as_bytes())
    }
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

/// Emits the points of one metric; returns the newest point time (ns).
fn metric_points(ctx: &mut Ctx<'_>, m: &Metric) -> u64 {
    let mut latest = 0;
    let Some(data) = &m.data else {
        ctx.reject(
            1,
            format!("metric {:?} has no data (unsupported or malformed)", m.name),
        );
        return 0;
    };
    let stale = |flags: u32, v: f64| if flags & 1 == 1 { STALE_NAN } else { v };
    match data {
        metric::Data::Gauge(g) => {
            let name = metric_name(&m.name, &m.unit, NameKind::Gauge);
            ctx.describe(&name, MetricType::Gauge, m);
            for p in &g.data_points {
                latest = latest.max(p.time_unix_nano);
                let Some(v) = number(&p.value) else {
                    ctx.reject(1, format!("gauge {:?} has a point without a value", m.name));
                    continue;
                };
                ctx.push(
                    &name,
                    &attribute_labels(&p.attributes),
                    &[],
                    ms(p.time_unix_nano),
                    stale(p.flags, v),
                );
            }
        }
        metric::Data::Sum(s) => {
            let kind = if s.is_monotonic {
                NameKind::Counter
            } else {
                NameKind::Other
            };
            let name = metric_name(&m.name, &m.unit, kind);
            let family_kind = if s.is_monotonic {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            ctx.describe(&name, family_kind, m);
            let is_delta = s.aggregation_temporality == AggregationTemporality::Delta as i32;
            if !is_delta && s.aggregation_temporality != AggregationTemporality::Cumulative as i32 {
                ctx.reject(
                    s.data_points.len(),
                    format!("sum {:?} has no aggregation temporality", m.name),
                );
                return 0;
            }
            for p in &s.data_points {
                latest = latest.max(p.time_unix_nano);
                let Some(mut v) = number(&p.value) else {
                    ctx.reject(1, format!("sum {:?} has a point without a value", m.name));
                    continue;
                };
                let labels = attribute_labels(&p.attributes);
                if is_delta {
                    let key = ctx.stream_key(&name, &labels);
                    match ctx.delta.accumulate(
                        key,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        &[v],
                        &[],
                    ) {
                        Some(c) => v = c[0],
                        None => {
                            ctx.reject(
                                1,
                                format!(
                                    "delta point of {:?} is older than the previous one",
                                    m.name
                                ),
                            );
                            continue;
                        }
                    }
                }
                ctx.push(&name, &labels, &[], ms(p.time_unix_nano), stale(p.flags, v));
            }
        }
        metric::Data::Histogram(h) => {
            let name = metric_name(&m.name, &m.unit, NameKind::Other);
            ctx.describe(&name, MetricType::Histogram, m);
            let is_delta = h.aggregation_temporality == AggregationTemporality::Delta as i32;
            if !is_delta && h.aggregation_temporality != AggregationTemporality::Cumulative as i32 {
                ctx.reject(
                    h.data_points.len(),
                    format!("histogram {:?} has no aggregation temporality", m.name),
                );
                return 0;
            }
            for p in &h.data_points {
                latest = latest.max(p.time_unix_nano);
                let labels = attribute_labels(&p.attributes);
                let n = p.explicit_bounds.len().min(p.bucket_counts.len());
                let mut values: Vec<f64> = vec![p.count as f64, p.sum.unwrap_or(0.0)];
                values.extend(p.bucket_counts[..n].iter().map(|c| *c as f64));
                if is_delta {
                    let key = ctx.stream_key(&name, &labels);
                    match ctx.delta.accumulate(
                        key,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        &values,
                        &p.explicit_bounds,
                    ) {
                        Some(c) => values = c,
                        None => {
                            ctx.reject(
                                1,
                                format!(
                                    "delta point of {:?} is older than the previous one",
                                    m.name
                                ),
                            );
                            continue;
                        }
                    }
                }
                let t = ms(p.time_unix_nano);
                let mut cum = 0.0;
                for (i, bound) in p.explicit_bounds[..n].iter().enumerate() {
                    cum += values[2 + i];
                    ctx.push(
                        &format!("{name}_bucket"),
                        &labels,
                        &[("le", format_bound(*bound))],
                        t,
                        stale(p.flags, cum),
                    );
                }
                ctx.push(
                    &format!("{name}_bucket"),
                    &labels,
                    &[("le", "+Inf".into())],
                    t,
                    stale(p.flags, values[0]),
                );
                if p.sum.is_some() {
                    ctx.push(
                        &format!("{name}_sum"),
                        &labels,
                        &[],
                        t,
                        stale(p.flags, values[1]),
                    );
                }
                ctx.push(
                    &format!("{name}_count"),
                    &labels,
                    &[],
                    t,
                    stale(p.flags, values[0]),
                );
            }
        }
        metric::Data::Summary(s) => {
            let name = metric_name(&m.name, &m.unit, NameKind::Other);
            ctx.describe(&name, MetricType::Summary, m);
            for p in &s.data_points {
                latest = latest.max(p.time_unix_nano);
                let labels = attribute_labels(&p.attributes);
                let t = ms(p.time_unix_nano);
                ctx.push(
                    &format!("{name}_sum"),
                    &labels,
                    &[],
                    t,
                    stale(p.flags, p.sum),
                );
                ctx.push(
                    &format!("{name}_count"),
                    &labels,
                    &[],
                    t,
                    stale(p.flags, p.count as f64),
                );
                for q in &p.quantile_values {
                    ctx.push(
                        &name,
                        &labels,
                        &[("quantile", format_bound(q.quantile))],
                        t,
                        stale(p.flags, q.value),
                    );
                }
            }
        }
        metric::Data::ExponentialHistogram(e) => {
            ctx.reject(
                e.data_points.len(),
                format!("exponential histogram {:?} is not supported", m.name),
            );
        }
    }
    latest
}

fn number(v: &Option<number_data_point::Value>) -> Option<f64> {
    match v {
        Some(number_data_point::Value::AsDouble(d)) => Some(*d),
        Some(number_data_point::Value::AsInt(i)) => Some(*i as f64),
        None => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_never_use_exponents() {
        assert_eq!(format_bound(1.0), "1");
        assert_eq!(format_bound(0.005), "0.005");
        assert_eq!(format_bound(1e6), "1000000");
        assert_eq!(format_bound(f64::INFINITY), "+Inf");
    }
}
