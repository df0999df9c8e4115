//! Loki's push and query API end to end through the router: lines pushed as JSON and as
//! snappy protobuf, read back by LogQL with filters, parsers, formats and metric queries, the
//! label endpoints, bad input refused with the reason named, and a session of Grafana's Loki
//! data source replayed in its order and encoding.

#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kubepulse_ingest::loki::{Entry, PushRequest, Stream, encode_protobuf};
use serde_json::Value;
use support::{T0, call, get, setup};

/// T0 in ns.
const NS: i64 = T0 * 1_000_000;
const SEC: i64 = 1_000_000_000;

async fn push_json(s: &kubepulse_api::AppState, body: &str) -> (StatusCode, String) {
    let req = Request::post("/loki/api/v1/push")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    call(s, req).await
}

fn enc(q: &str) -> String {
    form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn json(s: &kubepulse_api::AppState, uri: &str) -> Value {
    let (status, body) = get(s, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Sixty lines over the minute before T0 from two pods of `shop`: every tenth an error.
async fn load(s: &kubepulse_api::AppState) {
    let values = |pod: &str| {
        (0..30)
            .map(|i| {
                let t = NS - 60 * SEC + i * 2 * SEC + if pod == "web-1" { SEC } else { 0 };
                let level = if i % 10 == 0 { "error" } else { "info" };
                let status = if i % 10 == 0 { 503 } else { 200 };
                format!(
                    r#"["{t}", "{{\"level\":\"{level}\",\"method\":\"GET\",\"status\":{status},\"path\":\"/p/{i}\"}}"]"#
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let body = format!(
        r#"{{"streams":[{{"stream":{{"namespace":"shop","pod":"cart-1","container":"cart"}},"values":[{}]}}]}}"#,
        values("cart-1")
    );
    assert_eq!(push_json(s, &body).await.0, StatusCode::NO_CONTENT);
    // The second pod over protobuf, as Promtail and Alloy send it.
    let req = PushRequest {
        streams: vec![Stream {
            labels: vec![
                ("container".into(), "web".into()),
                ("namespace".into(), "shop".into()),
                ("pod".into(), "web-1".into()),
            ],
            entries: (0..30)
                .map(|i| Entry {
                    t_ns: NS - 59 * SEC + i * 2 * SEC,
                    line: format!(
                        "level={} method=POST status={} duration={}ms",
                        if i % 10 == 0 { "error" } else { "info" },
                        if i % 10 == 0 { 500 } else { 201 },
                        i * 10
                    ),
                    metadata: vec![("trace_id".into(), format!("{i:032x}"))],
                })
                .collect(),
        }],
    };
    let r = Request::post("/loki/api/v1/push")
        .header("content-type", "application/x-protobuf")
        .body(Body::from(encode_protobuf(&req)))
        .unwrap();
    let (status, body) = call(s, r).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

fn lines(v: &Value) -> Vec<String> {
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter())
        .map(|p| p[1].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn logql_reads_what_was_pushed() {
    let (_tmp, _db, s) = setup();
    load(&s).await;
    let range = format!("start={}&end={}", NS - 120 * SEC, NS);

    // Newest first by default, limited.
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&{range}&limit=5",
            enc(r#"{namespace="shop"}"#)
        ),
    )
    .await;
    assert_eq!(v["data"]["resultType"], "streams");
    let got = lines(&v);
    assert_eq!(got.len(), 5);
    assert!(
        got[0].contains("/p/29") || got[0].contains("duration=290ms"),
        "{got:?}"
    );

    // A line filter, forward.
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&{range}&direction=forward",
            enc(r#"{pod="web-1"} |= "status=500""#)
        ),
    )
    .await;
    assert_eq!(lines(&v).len(), 3);
    // Regex filters and their negation.
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&{range}&limit=1000",
            enc(r#"{namespace="shop"} |~ "status.?.?50[03]" !~ "POST""#)
        ),
    )
    .await;
    assert_eq!(lines(&v).len(), 3);

    // json with a label filter and line_format.
    let q = r#"{pod="cart-1"} | json | status >= 500 | line_format "{{.method}} {{.path}} {{.status}}""#;
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&{range}&direction=forward",
            enc(q)
        ),
    )
    .await;
    assert_eq!(
        lines(&v),
        vec!["GET /p/0 503", "GET /p/10 503", "GET /p/20 503"]
    );
    let stream = &v["data"]["result"][0]["stream"];
    assert_eq!(stream["status"], "503");
    assert_eq!(stream["pod"], "cart-1");

    // logfmt with a duration filter.
    let q = r#"{pod="web-1"} | logfmt | duration > 250ms"#;
    let v = json(
        &s,
        &format!("/loki/api/v1/query_range?query={}&{range}", enc(q)),
    )
    .await;
    assert_eq!(lines(&v).len(), 4);

    // Metric queries: count by pod over the whole minute, and errors per second.
    let q = r#"sum by (pod) (count_over_time({namespace="shop"}[2m]))"#;
    let v = json(
        &s,
        &format!("/loki/api/v1/query?query={}&time={}", enc(q), NS),
    )
    .await;
    assert_eq!(v["data"]["resultType"], "vector");
    let r = v["data"]["result"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|x| x["value"][1] == "30"), "{v}");
    let q = r#"sum(rate({namespace="shop"} |= "error" [1m]))"#;
    let v = json(
        &s,
        &format!("/loki/api/v1/query?query={}&time={}", enc(q), NS),
    )
    .await;
    // Five error lines in the minute's window (cart-1's first falls on its open edge).
    let rate: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((rate - 5.0 / 60.0).abs() < 1e-9, "{v}");
    let q = r#"topk(1, sum by (pod) (bytes_over_time({namespace="shop"}[2m])))"#;
    let v = json(
        &s,
        &format!("/loki/api/v1/query?query={}&time={}", enc(q), NS),
    )
    .await;
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["result"][0]["metric"]["pod"], "cart-1", "{v}");
    // A range: a point every 10 s (summed: each line carries its detected level, as in Loki 3).
    let q = r#"sum(count_over_time({pod="cart-1"}[10s]))"#;
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&start={}&end={}&step=10s",
            enc(q),
            NS - 50 * SEC,
            NS
        ),
    )
    .await;
    assert_eq!(v["data"]["resultType"], "matrix");
    let points = v["data"]["result"][0]["values"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    assert_eq!(points[1][1], "5", "{v}");

    // Labels, values and series.
    let v = json(&s, &format!("/loki/api/v1/labels?{range}")).await;
    assert_eq!(
        v["data"],
        serde_json::json!(["container", "namespace", "pod"])
    );
    let v = json(&s, &format!("/loki/api/v1/label/pod/values?{range}")).await;
    assert_eq!(v["data"], serde_json::json!(["cart-1", "web-1"]));
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/label/pod/values?{range}&query={}",
            enc(r#"{container="web"}"#)
        ),
    )
    .await;
    assert_eq!(v["data"], serde_json::json!(["web-1"]));
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/series?match[]={}&{range}",
            enc(r#"{pod=~"cart.*"}"#)
        ),
    )
    .await;
    assert_eq!(v["data"][0]["pod"], "cart-1");
}

#[tokio::test]
async fn bad_input_is_refused_and_named() {
    let (_tmp, _db, s) = setup();
    load(&s).await;
    for (q, named) in [
        (r#"{pod="cart-1"} | pattern "<ip> <_>""#, "pattern"),
        (r#"{pod="cart-1"} | unwrap latency"#, "unwrap"),
        (
            r#"sum(quantile_over_time(0.5, {a="b"}[1m]))"#,
            "quantile_over_time",
        ),
        (r#"{pod="cart-1""#, "expected"),
        (r#"{pod=""}"#, "at least one label matcher"),
    ] {
        let (status, body) = get(&s, &format!("/loki/api/v1/query_range?query={}", enc(q))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert!(body.contains(named), "{q}: {body}");
    }
    let (status, body) = get(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&limit=x",
            enc(r#"{a="b"}"#)
        ),
    )
    .await;
    assert!(
        status == StatusCode::BAD_REQUEST && body.contains("limit"),
        "{body}"
    );
    let (status, body) = get(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&direction=up",
            enc(r#"{a="b"}"#)
        ),
    )
    .await;
    assert!(
        status == StatusCode::BAD_REQUEST && body.contains("direction"),
        "{body}"
    );
    // Bad pushes change nothing.
    for body in [
        "not json",
        r#"{"streams":[{"stream":{},"values":[["1","x"]]}]}"#,
        r#"{"streams":[{"stream":{"a":"b"},"values":[["soon","x"]]}]}"#,
    ] {
        let (status, _) = push_json(&s, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let r = Request::post("/loki/api/v1/push")
        .header("content-type", "application/x-protobuf")
        .body(Body::from("definitely not snappy"))
        .unwrap();
    assert_eq!(call(&s, r).await.0, StatusCode::BAD_REQUEST);
    let v = json(&s, &format!("/loki/api/v1/labels?start={}&end={}", 0, NS)).await;
    assert_eq!(
        v["data"],
        serde_json::json!(["container", "namespace", "pod"])
    );
}

/// The calls Grafana's Loki data source makes (10.x and 11.x), in its order and encoding: the
/// health check, the label browser, an Explore query with its logs volume, and a panel. Every
/// one succeeds with the shape Grafana reads.
#[tokio::test]
async fn grafana_loki_data_source_session() {
    let (_tmp, _db, s) = setup();
    load(&s).await;
    let (start, end) = (NS - 3600 * SEC, NS);
    // Health check and the label browser.
    let v = json(&s, &format!("/loki/api/v1/labels?start={start}&end={end}")).await;
    assert_eq!(v["status"], "success");
    assert!(!v["data"].as_array().unwrap().is_empty());
    let v = json(
        &s,
        &format!("/loki/api/v1/label/namespace/values?start={start}&end={end}"),
    )
    .await;
    assert_eq!(v["data"], serde_json::json!(["shop"]));
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/series?match%5B%5D=%7Bnamespace%3D%22shop%22%7D&start={start}&end={end}"
        ),
    )
    .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let v = json(&s, "/loki/api/v1/status/buildinfo").await;
    assert!(v["version"].is_string());
    // The query editor's statistics of a selector.
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/index/stats?query={}&start={start}&end={end}",
            enc(r#"{namespace="shop"}"#)
        ),
    )
    .await;
    assert_eq!(
        (v["streams"].as_u64(), v["entries"].as_u64()),
        (Some(2), Some(60)),
        "{v}"
    );
    assert!(
        v["bytes"].as_u64().unwrap() > 1000 && v["chunks"] == 2,
        "{v}"
    );
    // Explore: the logs query, then the logs volume by level.
    let v = json(&s, &format!("/loki/api/v1/query_range?direction=backward&end={end}&limit=1000&query=%7Bnamespace%3D%22shop%22%7D&start={start}&step=2000ms")).await;
    assert_eq!(lines(&v).len(), 60);
    let volume = "sum by (level, detected_level) (count_over_time({namespace=\"shop\"} | drop __error__[60s]))";
    let v = json(&s, &format!("/loki/api/v1/query_range?direction=backward&end={end}&limit=1000&query={}&start={start}&step=60000ms", enc(volume))).await;
    assert_eq!(v["data"]["resultType"], "matrix");
    let levels: Vec<&str> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"]["detected_level"].as_str().unwrap_or(""))
        .collect();
    assert!(levels.contains(&"error") && levels.contains(&"info"), "{v}");
    // A time-series panel: errors per pod.
    let panel =
        "sum by (pod) (rate({namespace=\"shop\"} |= \"error\" [$__auto]))".replace("$__auto", "1m");
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?direction=backward&end={end}&query={}&start={start}&step=15",
            enc(&panel)
        ),
    )
    .await;
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 2);
    // Grafana's older health check, an instant query.
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query?query={}&time={end}",
            enc("vector(1)+vector(1)")
        ),
    )
    .await;
    assert_eq!(v["data"]["result"][0]["value"][1], "2", "{v}");
}

/// OTLP/HTTP JSON logs (the specification's example) are stored and read back through LogQL.
#[tokio::test]
async fn otlp_json_logs_are_queryable() {
    let (_tmp, _db, s) = setup();
    let body = std::fs::read(kubepulse_testkit::data_dir().join("otlp/logs.json")).unwrap();
    let req = Request::post("/v1/logs")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, answer) = call(&s, req).await;
    assert_eq!((status, answer.as_str()), (StatusCode::OK, "{}"));
    let v = json(
        &s,
        &format!(
            "/loki/api/v1/query_range?query={}&start=1544712660000000000&end=1544712661000000000",
            enc(r#"{service_name="my.service"}"#)
        ),
    )
    .await;
    assert_eq!(lines(&v), vec!["Example log record"]);
    assert_eq!(v["data"]["result"][0]["stream"]["detected_level"], "info");
    // A body that is not OTLP is refused with a reason, in the request's encoding.
    let req = Request::post("/v1/logs")
        .header("content-type", "application/json")
        .body(Body::from("{\"resourceLogs\": 5}"))
        .unwrap();
    let (status, answer) = call(&s, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.contains("invalid OTLP/JSON"), "{answer}");
}
