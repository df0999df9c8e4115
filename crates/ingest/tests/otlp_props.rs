//! Property tests of OTLP metrics decoding and translation: any body is refused or decoded
//! without a panic, and any request of gauges and sums translates into exactly one sample per
//! data point, whatever its names, attributes and values.

#![allow(clippy::unwrap_used)]

use kubepulse_ingest::otlp::{Export, OtlpMetrics, decode};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;

fn kv(k: String, v: String) -> KeyValue {
    KeyValue {
        key: k,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..Default::default()
    }
}

fn point() -> impl Strategy<Value = NumberDataPoint> {
    let value = prop_oneof![
        any::<f64>().prop_map(number_data_point::Value::AsDouble),
        any::<i64>().prop_map(number_data_point::Value::AsInt),
    ];
    (
        prop::collection::btree_map("[a-z.]{1,6}", ".{0,8}", 0..3),
        value,
        1_000_000_000u64..4_000_000_000_000_000_000,
    )
        .prop_map(|(attrs, v, t)| NumberDataPoint {
            attributes: attrs.into_iter().map(|(k, v)| kv(k, v)).collect(),
            start_time_unix_nano: 0,
            time_unix_nano: t,
            value: Some(v),
            ..Default::default()
        })
}

fn metric() -> impl Strategy<Value = Metric> {
    (
        "[a-zA-Z][a-zA-Z0-9_./ -]{0,20}",
        prop_oneof![
            Just(""),
            Just("By"),
            Just("s"),
            Just("1"),
            Just("{request}")
        ],
        prop::collection::vec(point(), 0..4),
        0..3u8,
    )
        .prop_map(|(name, unit, points, kind)| {
            let data = match kind {
                0 => metric::Data::Gauge(Gauge {
                    data_points: points,
                }),
                1 => metric::Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
                _ => metric::Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: false,
                }),
            };
            Metric {
                name,
                unit: unit.to_string(),
                data: Some(data),
                ..Default::default()
            }
        })
}

fn request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    (
        prop::collection::btree_map(
            prop_oneof![
                Just("service.name".to_string()),
                Just("service.instance.id".to_string()),
                "[a-z.]{1,8}"
            ],
            ".{0,10}",
            0..4,
        ),
        prop::collection::vec(metric(), 0..5),
    )
        .prop_map(|(attrs, metrics)| ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: attrs.into_iter().map(|(k, v)| kv(k, v)).collect(),
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
}

fn points(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Sum(s)) => s.data_points.len(),
            _ => 0,
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&body, false);
        let _ = decode(&body, true);
    }

    #[test]
    fn protobuf_and_json_decode_what_was_encoded(req in request()) {
        let pb = prost::Message::encode_to_vec(&req);
        prop_assert_eq!(&decode(&pb, false).unwrap(), &req);
        let json = serde_json::to_vec(&req).unwrap();
        let back = decode(&json, true).unwrap();
        prop_assert_eq!(points(&back), points(&req));
    }

    #[test]
    fn every_point_becomes_one_sample(req in request()) {
        let mut out = Vec::new();
        let mut export = Export::default();
        OtlpMetrics::default().translate(&req, &mut out, &mut export);
        // Resource attributes beyond the job and instance ones add a `target_info` series.
        let samples: usize = out
            .iter()
            .filter(|s| !s.labels.contains(&("__name__".into(), "target_info".into())))
            .map(|s| s.samples.len())
            .sum();
        prop_assert_eq!(samples as i64 + export.rejected_points, points(&req) as i64);
        for s in &out {
            prop_assert!(s.labels.iter().any(|(n, _)| n == "__name__"));
            prop_assert!(s.labels.windows(2).all(|w| w[0].0 < w[1].0), "{:?}", s.labels);
        }
    }
}
