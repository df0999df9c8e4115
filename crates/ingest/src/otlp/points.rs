//! The points of one OTLP metric as Prometheus samples: gauges, sums (delta ones accumulated),
//! histograms as `_bucket`/`_sum`/`_count`, summaries as quantiles, with the family's metadata.

use std::collections::BTreeMap;

use kubepulse_model::gofloat::format_f;
use kubepulse_model::{MetricMeta, MetricType, STALE_NAN};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, metric, number_data_point,
};
use xxhash_rust::xxh3::xxh3_64;

use super::delta::DeltaState;
use super::names::{NameKind, metric_name};
use super::{Export, OwnedSeries, attribute_labels, ms};

/// Where the points of one resource's metrics go.
pub(super) struct Ctx<'a> {
    pub(super) base: BTreeMap<String, String>,
    pub(super) out: &'a mut Vec<OwnedSeries>,
    pub(super) export: &'a mut Export,
    pub(super) delta: &'a mut DeltaState,
    pub(super) resource_key: u64,
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

    /// Whether a `what` metric's temporality is delta (or else cumulative); `None`, with its
    /// `points` rejected, when it is neither.
    fn is_delta(
        &mut self,
        what: &str,
        temporality: i32,
        points: usize,
        m: &Metric,
    ) -> Option<bool> {
        if temporality == AggregationTemporality::Delta as i32 {
            return Some(true);
        }
        if temporality == AggregationTemporality::Cumulative as i32 {
            return Some(false);
        }
        self.reject(
            points,
            format!("{what} {:?} has no aggregation temporality", m.name),
        );
        None
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

/// Emits the points of one metric; returns the newest point time (ns).
pub(super) fn metric_points(ctx: &mut Ctx<'_>, m: &Metric) -> u64 {
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
            let Some(is_delta) =
                ctx.is_delta("sum", s.aggregation_temporality, s.data_points.len(), m)
            else {
                return 0;
            };
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
            let Some(is_delta) = ctx.is_delta(
                "histogram",
                h.aggregation_temporality,
                h.data_points.len(),
                m,
            ) else {
                return 0;
            };
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
                        &[("le", format_f(*bound))],
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
                        &[("quantile", format_f(q.quantile))],
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
