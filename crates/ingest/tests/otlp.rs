//! OTLP metrics: the shared example request decodes and is stored as Prometheus would store it,
//! plus the delta sums and histograms KubePulse turns into cumulative series.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::{OtlpMetrics, decode, receive};
use kubepulse_model::ManualClock;
use kubepulse_store::{Db, Matcher, Read, StoreConfig};

fn example() -> Vec<u8> {
    std::fs::read(kubepulse_testkit::data_dir().join("otlp/metrics.json")).unwrap()
}

fn series(db: &Db) -> Vec<(String, f64, i64)> {
    let all = db
        .select(
            &[Matcher::new(kubepulse_store::MatchOp::RegexMatch, "__name__", ".+").unwrap()],
            0,
            i64::MAX,
        )
        .unwrap();
    let mut out: Vec<(String, f64, i64)> = all
        .iter()
        .map(|s| (s.labels.to_string(), s.samples[0].v, s.samples[0].t))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn example_request_is_stored_exactly() {
    let req = decode(&example(), true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(
        tmp.path(),
        StoreConfig::default(),
        Arc::new(ManualClock::new(1_544_712_660_300)),
    )
    .unwrap()
    .0;
    let state = OtlpMetrics::default();
    let export = receive(&req, &state, &db, &IngestMetrics::default()).unwrap();
    assert_eq!(
        export.rejected_points, 1,
        "the exponential histogram: {:?}",
        export.messages
    );
    let got = series(&db);
    let want = [
        (
            r#"my_counter_total{job="my.service", my_counter_attr="some value"}"#,
            5.0,
        ),
        (
            r#"my_gauge_ratio{job="my.service", my_gauge_attr="some value"}"#,
            10.0,
        ),
        (
            r#"my_histogram_bucket{job="my.service", le="+Inf", my_histogram_attr="some value"}"#,
            2.0,
        ),
        (
            r#"my_histogram_bucket{job="my.service", le="1", my_histogram_attr="some value"}"#,
            1.0,
        ),
        (
            r#"my_histogram_count{job="my.service", my_histogram_attr="some value"}"#,
            2.0,
        ),
        (
            r#"my_histogram_sum{job="my.service", my_histogram_attr="some value"}"#,
            2.0,
        ),
    ];
    assert_eq!(
        got.iter().map(|g| (g.0.as_str(), g.1)).collect::<Vec<_>>(),
        want
    );
    assert!(got.iter().all(|g| g.2 == 1_544_712_660_300));
    // The same JSON as protobuf gives the same series.
    let bytes = prost::Message::encode_to_vec(&req);
    let again = decode(&bytes, false).unwrap();
    assert_eq!(again, req);
    assert!(decode(b"{\"resourceMetrics\": 5}", true).is_err());
    assert!(decode(&[0xff, 0xff, 0xff], false).is_err());
}

#[test]
fn deltas_accumulate_across_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(
        tmp.path(),
        StoreConfig::default(),
        Arc::new(ManualClock::new(1_544_712_660_300)),
    )
    .unwrap()
    .0;
    let state = OtlpMetrics::default();
    let first = decode(&example(), true).unwrap();
    receive(&first, &state, &db, &IngestMetrics::default()).unwrap();
    // The next delta starts where the first ended, one minute later, with the same values.
    let text = String::from_utf8(example()).unwrap();
    let next = text.replace(
        "\"startTimeUnixNano\": \"1544712660300000000\"",
        "\"startTimeUnixNano\": \"1544712660300000000X\"",
    );
    let next = next
        .replace(
            "\"timeUnixNano\": \"1544712660300000000\"",
            "\"timeUnixNano\": \"1544712720300000000\"",
        )
        .replace("1544712660300000000X", "1544712660300000000");
    let req = decode(next.as_bytes(), true).unwrap();
    receive(&req, &state, &db, &IngestMetrics::default()).unwrap();
    let counter = db
        .select(
            &[Matcher::equal("__name__", "my_counter_total")],
            0,
            i64::MAX,
        )
        .unwrap();
    let v: Vec<f64> = counter[0].samples.iter().map(|s| s.v).collect();
    assert_eq!(v, vec![5.0, 10.0], "aligned deltas add up");
    let count = db
        .select(
            &[Matcher::equal("__name__", "my_histogram_count")],
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(
        count[0].samples.iter().map(|s| s.v).collect::<Vec<_>>(),
        vec![2.0, 4.0]
    );
}

#[test]
fn sums_and_histograms_without_a_temporality_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(
        tmp.path(),
        StoreConfig::default(),
        Arc::new(ManualClock::new(1_544_712_660_300)),
    )
    .unwrap()
    .0;
    let text = String::from_utf8(example()).unwrap().replace(
        "\"aggregationTemporality\": 1",
        "\"aggregationTemporality\": 0",
    );
    let req = decode(text.as_bytes(), true).unwrap();
    let e = receive(
        &req,
        &OtlpMetrics::default(),
        &db,
        &IngestMetrics::default(),
    )
    .unwrap();
    assert!(e.rejected_points >= 2, "{e:?}");
    for what in ["sum", "histogram"] {
        assert!(
            e.messages
                .iter()
                .any(|m| m.starts_with(what) && m.ends_with("has no aggregation temporality")),
            "{what}: {:?}",
            e.messages
        );
    }
    // The gauges still arrive.
    let names: Vec<String> = series(&db).into_iter().map(|s| s.0).collect();
    assert!(names.iter().any(|n| n.starts_with("my_gauge")), "{names:?}");
    assert!(
        !names.iter().any(|n| n.contains("my_counter_total")),
        "{names:?}"
    );
}
