//! OTLP traces into service graph metrics: client and server spans pair into requests between
//! services whichever export and order they come in, failures and server latency are counted,
//! lone spans expire, and any body or span structure is refused or counted without a panic.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::traces::{MAX_PENDING, ServiceGraph, WAIT_MS, decode};
use kubepulse_model::ManualClock;
use kubepulse_store::{Db, MatchOp, Matcher, Read, StoreConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use proptest::prelude::*;

const T0: i64 = 1_780_000_000_000;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// A span of `kind` in trace `trace`, with its id and parent's, lasting `ms`.
fn span(kind: SpanKind, trace: u8, id: u8, parent: Option<u8>, ms: u64, error: bool) -> Span {
    let start = 1_780_000_000_000_000_000u64;
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: "GET /".into(),
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + ms * 1_000_000,
        status: Some(Status {
            code: if error {
                StatusCode::Error
            } else {
                StatusCode::Ok
            } as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn export(service: &str, namespace: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", service),
                    kv("k8s.namespace.name", namespace),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn db() -> (tempfile::TempDir, Db) {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(
        tmp.path(),
        StoreConfig::default(),
        Arc::new(ManualClock::new(T0)),
    )
    .unwrap()
    .0;
    (tmp, db)
}

/// The newest value of `name` on the edge `client` → `server` (and `le`), if any.
fn value(db: &Db, name: &str, client: &str, server: &str, le: Option<&str>) -> Option<f64> {
    let mut m = vec![
        Matcher::new(MatchOp::Equal, "__name__", name).unwrap(),
        Matcher::new(MatchOp::Equal, "client", client).unwrap(),
        Matcher::new(MatchOp::Equal, "server", server).unwrap(),
    ];
    if let Some(le) = le {
        m.push(Matcher::new(MatchOp::Equal, "le", le).unwrap());
    }
    let s = db.select(&m, 0, i64::MAX).unwrap();
    assert!(s.len() <= 1, "{s:?}");
    s.first().and_then(|s| s.samples.last()).map(|x| x.v)
}

#[test]
fn client_and_server_spans_pair_into_requests_between_services() {
    let (_tmp, db) = db();
    let graph = ServiceGraph::new();
    let m = IngestMetrics::default();
    // checkout calls payment three times (one fails on the server) and shipping once; the
    // client spans come first for traces 1–2, the server spans first for traces 3–4.
    let checkout = export(
        "checkout",
        "shop",
        vec![
            span(SpanKind::Server, 1, 10, None, 300, false),
            span(SpanKind::Client, 1, 11, Some(10), 120, false),
            span(SpanKind::Client, 2, 21, None, 80, false),
            span(SpanKind::Internal, 2, 22, Some(21), 1, false),
        ],
    );
    let r = graph.receive(&checkout, &db, &m, T0).unwrap();
    assert_eq!((r.spans, r.paired, r.rejected), (4, 0, 0));
    assert_eq!(
        graph.pending(),
        2,
        "two client spans wait; the root server span does not"
    );
    let payment = export(
        "payment",
        "shop",
        vec![
            span(SpanKind::Server, 1, 12, Some(11), 100, false),
            span(SpanKind::Server, 2, 23, Some(21), 60, true),
            span(SpanKind::Server, 3, 31, Some(30), 2_000, false),
        ],
    );
    let r = graph.receive(&payment, &db, &m, T0 + 1_000).unwrap();
    assert_eq!((r.paired, graph.pending()), (2, 1));
    let total = |c, s| value(&db, "traces_service_graph_request_total", c, s, None);
    let failed = |c, s| value(&db, "traces_service_graph_request_failed_total", c, s, None);
    assert_eq!(total("checkout", "payment"), Some(2.0));
    assert_eq!(failed("checkout", "payment"), Some(1.0));
    // The third client span comes later, in the same export as a call to shipping.
    let later = export(
        "checkout",
        "shop",
        vec![
            span(SpanKind::Client, 3, 30, None, 2_100, false),
            span(SpanKind::Client, 4, 40, None, 5, false),
        ],
    );
    let shipping = export(
        "shipping",
        "logistics",
        vec![span(SpanKind::Server, 4, 41, Some(40), 3, false)],
    );
    graph.receive(&later, &db, &m, T0 + 2_000).unwrap();
    graph.receive(&shipping, &db, &m, T0 + 3_000).unwrap();
    assert_eq!(total("checkout", "payment"), Some(3.0));
    assert_eq!(failed("checkout", "payment"), Some(1.0));
    assert_eq!(total("checkout", "shipping"), Some(1.0));
    assert_eq!(
        failed("checkout", "shipping"),
        None,
        "created on the first failure"
    );
    assert_eq!(graph.pending(), 0);

    // Server latency: 100 ms, 60 ms and 2 s on the payment edge.
    let bucket = |le| {
        value(
            &db,
            "traces_service_graph_request_server_seconds_bucket",
            "checkout",
            "payment",
            Some(le),
        )
    };
    assert_eq!(bucket("0.05"), Some(0.0));
    assert_eq!(bucket("0.1"), Some(2.0));
    assert_eq!(bucket("1.4"), Some(2.0));
    assert_eq!(bucket("2"), Some(3.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    let sum = value(
        &db,
        "traces_service_graph_request_server_seconds_sum",
        "checkout",
        "payment",
        None,
    )
    .unwrap();
    assert!((sum - 2.16).abs() < 1e-9, "{sum}");
    // Each side's namespace is a label of its own.
    let s = db
        .select(
            &[
                Matcher::new(
                    MatchOp::Equal,
                    "__name__",
                    "traces_service_graph_request_total",
                )
                .unwrap(),
                Matcher::new(MatchOp::Equal, "server", "shipping").unwrap(),
            ],
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(s[0].labels.get("client_k8s_namespace_name"), Some("shop"));
    assert_eq!(
        s[0].labels.get("server_k8s_namespace_name"),
        Some("logistics")
    );
}

#[test]
fn lone_spans_expire_and_bad_ids_are_counted() {
    let (_tmp, db) = db();
    let graph = ServiceGraph::new();
    let m = IngestMetrics::default();
    let client = export(
        "checkout",
        "shop",
        vec![span(SpanKind::Client, 1, 11, None, 10, false)],
    );
    graph.receive(&client, &db, &m, T0).unwrap();
    // Its server span comes after the wait: the client span is gone, the server span waits.
    let server = export(
        "payment",
        "shop",
        vec![span(SpanKind::Server, 1, 12, Some(11), 10, false)],
    );
    graph.receive(&server, &db, &m, T0 + WAIT_MS + 1).unwrap();
    assert_eq!(graph.pending(), 1);
    assert_eq!(
        value(
            &db,
            "traces_service_graph_request_total",
            "checkout",
            "payment",
            None
        ),
        None
    );
    graph
        .receive(&export("x", "", vec![]), &db, &m, T0 + 3 * WAIT_MS)
        .unwrap();
    assert_eq!(graph.pending(), 0);

    let mut bad = span(SpanKind::Client, 1, 11, None, 10, false);
    bad.trace_id = vec![1; 5];
    let r = graph
        .receive(&export("checkout", "shop", vec![bad]), &db, &m, T0)
        .unwrap();
    assert_eq!((r.spans, r.rejected, graph.pending()), (1, 1, 0));
    assert_eq!(m.rejected_requests_count("otlp_traces", "invalid_id"), 1);
}

#[test]
fn bodies_are_decoded_or_refused_with_a_reason() {
    let req = export(
        "checkout",
        "shop",
        vec![span(SpanKind::Client, 1, 11, None, 10, false)],
    );
    let bytes = prost::Message::encode_to_vec(&req);
    assert_eq!(decode(&bytes, false).unwrap(), req);
    let json = serde_json::to_vec(&req).unwrap();
    assert_eq!(decode(&json, true).unwrap(), req);
    let e = decode(b"{\"resourceSpans\": 3}", true).unwrap_err();
    assert!(e.starts_with("invalid OTLP/JSON"), "{e}");
    let e = decode(&[0xff, 0xff, 0xff], false).unwrap_err();
    assert!(e.starts_with("invalid OTLP protobuf"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_body_is_refused_or_decoded(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&body, false);
        let _ = decode(&body, true);
    }

    #[test]
    fn any_spans_pair_at_most_once_and_the_wait_stays_bounded(
        spans in prop::collection::vec(
            (0u8..4, 0u8..3, 0u8..6, prop::option::of(0u8..6), 0u64..3_000, any::<bool>(),
             prop::collection::vec(any::<u8>(), 0..10)),
            0..40,
        ),
    ) {
        let (_tmp, db) = db();
        let graph = ServiceGraph::new();
        let m = IngestMetrics::default();
        let mut servers = 0;
        let mut total = 0;
        for (i, (kind, trace, id, parent, ms, error, junk)) in spans.into_iter().enumerate() {
            let kind = [SpanKind::Client, SpanKind::Server, SpanKind::Internal, SpanKind::Unspecified]
                [usize::from(kind)];
            let mut s = span(kind, trace, id, parent, ms, error);
            if junk.len() == 9 {
                s.span_id = junk;
            }
            servers += usize::from(kind == SpanKind::Server);
            let r = graph
                .receive(&export(&format!("svc{}", i % 3), "ns", vec![s]), &db, &m, T0 + i as i64)
                .unwrap();
            total += r.paired;
            prop_assert!(graph.pending() <= MAX_PENDING);
        }
        prop_assert!(total <= servers);
    }
}
