//! Ingestion endpoints through the router, without a socket: what is accepted, what is refused
//! with which status and counted reason, and that refusals change nothing already stored.

#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kubepulse_api::{AppState, router};
use kubepulse_model::is_stale_nan;
use kubepulse_store::{Db, MatchOp, Matcher, Read};
use support::{T0, setup};
use tower::ServiceExt;

/// Labels and samples of one series to send.
type Sent<'a> = (Vec<(&'a str, &'a str)>, Vec<(i64, f64)>);

fn write_request(series: &[Sent<'_>]) -> Vec<u8> {
    kubepulse_ingest::remote_write::encode::encode(series)
}

fn snappy(b: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(b).unwrap()
}

async fn post(
    state: &AppState,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let req = Request::post(path)
        .header("content-type", content_type)
        .header("content-encoding", "snappy")
        .body(Body::from(body))
        .unwrap();
    support::call(state, req).await
}

async fn write(state: &AppState, series: &[Sent<'_>]) -> (StatusCode, String) {
    post(
        state,
        "/api/v1/write",
        "application/x-protobuf",
        snappy(&write_request(series)),
    )
    .await
}

fn stored(db: &Db) -> usize {
    db.select(
        &[Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()],
        0,
        i64::MAX,
    )
    .unwrap()
    .iter()
    .map(|s| s.samples.len())
    .sum()
}

#[tokio::test]
async fn remote_write_accepts_and_refuses_with_the_right_codes() {
    let (_tmp, db, state) = setup();
    let good = vec![(
        vec![("__name__", "up"), ("job", "a")],
        vec![
            (T0, 1.0),
            (T0 + 15_000, f64::NAN),
            (T0 + 30_000, f64::INFINITY),
            (T0 + 45_000, f64::NEG_INFINITY),
        ],
    )];
    assert_eq!(write(&state, &good).await.0, StatusCode::NO_CONTENT);
    let before = stored(&db);
    assert_eq!(before, 4, "NaN and infinities are legal values");

    let mut body = snappy(&write_request(&good));
    body.truncate(body.len() / 2);
    let cases: Vec<(&str, (StatusCode, String), &str)> = vec![
        (
            "truncated snappy",
            post(&state, "/api/v1/write", "application/x-protobuf", body).await,
            "snappy",
        ),
        (
            "not protobuf",
            post(
                &state,
                "/api/v1/write",
                "application/x-protobuf",
                snappy(b"\x0a\xff\xff\xff\xff\x0f garbage"),
            )
            .await,
            "protobuf",
        ),
        (
            "invalid label name",
            write(
                &state,
                &[
                    (vec![("__name__", "up"), ("bad-name", "x")], vec![(T0, 1.0)]),
                    (vec![("__name__", "ok")], vec![(T0, 1.0)]),
                ],
            )
            .await,
            "invalid_label_name",
        ),
        (
            "duplicate label",
            write(
                &state,
                &[(
                    vec![("__name__", "up"), ("a", "1"), ("a", "2")],
                    vec![(T0, 1.0)],
                )],
            )
            .await,
            "duplicate_label",
        ),
        (
            "empty label name",
            write(
                &state,
                &[(vec![("__name__", "up"), ("", "x")], vec![(T0, 1.0)])],
            )
            .await,
            "invalid_label_name",
        ),
        (
            "no metric name",
            write(&state, &[(vec![("job", "x")], vec![(T0, 1.0)])]).await,
            "missing_metric_name",
        ),
        (
            "huge label value",
            write(
                &state,
                &[(
                    vec![("__name__", "up"), ("a", &"x".repeat(1_000_000))],
                    vec![(T0, 1.0)],
                )],
            )
            .await,
            "label_too_long",
        ),
    ];
    for (what, (status, msg), reason) in &cases {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{what}: {msg}");
        assert!(!msg.is_empty(), "{what} explains itself");
        assert!(
            state.ingest.rejected_requests_count("remote_write", reason) >= 1,
            "{what} counted as {reason}"
        );
    }
    // 10 MB: refused by size before anything is decoded.
    let big = vec![0u8; 10 << 20];
    let (status, _) = post(&state, "/api/v1/write", "application/x-protobuf", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A body that decompresses past the message limit.
    let bomb = snappy(&vec![0u8; 40 << 20]);
    assert!(bomb.len() < 4 << 20);
    let (status, msg) = post(&state, "/api/v1/write", "application/x-protobuf", bomb).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{msg}");
    assert_eq!(stored(&db), before, "nothing already accepted changed");
    // Out of order: stored samples stay, the sender learns it with a 400 it does not retry.
    let (status, msg) = write(
        &state,
        &[(
            vec![("__name__", "up"), ("job", "a")],
            vec![(T0 - 3_600_000, 1.0)],
        )],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{msg}");
    let (status, _) = write(
        &state,
        &[(vec![("__name__", "up"), ("job", "a")], vec![(T0, 1.0)])],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an exact duplicate is fine");
    let up = db
        .select(&[Matcher::equal("__name__", "up")], 0, i64::MAX)
        .unwrap();
    assert!(up[0].samples[1].v.is_nan() && !is_stale_nan(up[0].samples[1].v));
}

#[tokio::test]
async fn otlp_http_json_and_protobuf() {
    let (_tmp, db, state) = setup();
    let json = std::fs::read(kubepulse_testkit::data_dir().join("otlp/metrics.json")).unwrap();
    let req = Request::post("/v1/metrics")
        .header("content-type", "application/json")
        .body(Body::from(json.clone()))
        .unwrap();
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], 1, "{v}");
    assert_eq!(
        db.series(
            &[Matcher::new(MatchOp::RegexMatch, "__name__", "my_.*").unwrap()],
            0,
            i64::MAX
        )
        .unwrap()
        .len(),
        6
    );
    let bad = Request::post("/api/v1/otlp/v1/metrics")
        .header("content-type", "application/x-protobuf")
        .body(Body::from(vec![0xffu8; 20]))
        .unwrap();
    let resp = router(state.clone()).oneshot(bad).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let wrong = Request::post("/v1/metrics")
        .header("content-type", "text/plain")
        .body(Body::from("x"))
        .unwrap();
    assert_eq!(
        router(state.clone()).oneshot(wrong).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let mut gz = flate2_gzip(&json);
    let req = Request::post("/v1/metrics")
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(Body::from(std::mem::take(&mut gz)))
        .unwrap();
    assert_eq!(
        router(state.clone()).oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn otlp_http_traces_pair_and_refuse() {
    let (_tmp, db, state) = setup();
    let span = |service: &str, kind: u8, id: &str, parent: &str, trace: &str| {
        format!(
            r#"{{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "{service}"}}}}]}},
              "scopeSpans": [{{"spans": [{{"traceId": "{trace}", "spanId": "{id}", "parentSpanId": "{parent}",
                "name": "x", "kind": {kind}, "startTimeUnixNano": "1000000000", "endTimeUnixNano": "1250000000"}}]}}]}}"#
        )
    };
    let trace = "5b8efff798038103d269b633813fc60c";
    let body = format!(
        r#"{{"resourceSpans": [{}, {}, {}]}}"#,
        span("cart", 3, "eee19b7ec3c1b174", "", trace),
        span(
            "cart-cache",
            2,
            "eee19b7ec3c1b175",
            "eee19b7ec3c1b174",
            trace
        ),
        span("cart", 3, "eee19b7ec3c1b176", "", "0102"),
    );
    let req = Request::post("/v1/traces")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, body) = support::call(&state, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], 1, "{v}");
    let m = [
        Matcher::new(
            MatchOp::Equal,
            "__name__",
            "traces_service_graph_request_total",
        )
        .unwrap(),
        Matcher::new(MatchOp::Equal, "client", "cart").unwrap(),
        Matcher::new(MatchOp::Equal, "server", "cart-cache").unwrap(),
    ];
    assert_eq!(db.series(&m, 0, i64::MAX).unwrap().len(), 1);
    for (path, ct, body, want) in [
        (
            "/v1/traces",
            "application/x-protobuf",
            vec![0xffu8; 20],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/otlp/v1/traces",
            "application/json",
            b"{\"resourceSpans\": 1}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/otlp/v1/traces",
            "text/plain",
            b"x".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let req = Request::post(path)
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap();
        let (status, text) = support::call(&state, req).await;
        assert_eq!(status, want, "{path}: {text}");
    }
}

#[tokio::test]
async fn health_and_self_metrics() {
    let (_tmp, _db, state) = setup();
    for path in ["/-/healthy", "/-/ready"] {
        let resp = router(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = router(state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        body.contains("kubepulse_store_head_series") && body.ends_with("# EOF\n"),
        "{body}"
    );
}

fn flate2_gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}
