//! What Grafana's Prometheus data source and other clients probe: status endpoints, the health
//! check, and a whole data-source session replayed in Grafana's order and encoding.

#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::{T0, call, get, load, post_form as post, setup};

#[tokio::test]
async fn status_and_what_grafana_probes() {
    let (_tmp, _db, s) = setup();
    let (_, body) = get(&s, "/api/v1/status/buildinfo").await;
    assert!(body.starts_with(r#"{"status":"success","data":{"version":"2.53.0","revision":"kubepulse-test","branch":"kubepulse","#), "{body}");
    assert!(!body.contains("features"));
    let (_, body) = get(&s, "/api/v1/status/runtimeinfo").await;
    assert!(body.contains(r#""storageRetention":"15d""#), "{body}");
    let (_, body) = get(&s, "/api/v1/rules").await;
    assert_eq!(body, r#"{"status":"success","data":{"groups":[]}}"#);
    let (status, body) = get(&s, "/api/v1/query_exemplars?query=1").await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    let (_, body) = get(
        &s,
        "/api/v1/query_exemplars?query=test&start=1795351459000&end=1795353259000",
    )
    .await;
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
    let (_, body) = get(
        &s,
        "/api/v1/format_query?query=sum(rate(foo%5B5m%5D))by(job)",
    )
    .await;
    assert_eq!(
        body,
        r#"{"status":"success","data":"sum by (job) (rate(foo[5m]))"}"#
    );
    // Grafana's health check.
    let (status, body) = post(&s, "/api/v1/query", "query=1%2B1&time=4").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
        )
    );
}

/// The calls Grafana's Prometheus data source makes (10.x and 11.x), in its order and its
/// encoding: the health check, version detection, start-up probes, the metric browser and
/// autocomplete, template variables, and a panel with exemplars. Every one succeeds.
#[tokio::test]
async fn grafana_data_source_session() {
    let (_tmp, _db, s) = setup();
    load(&s);
    let t = T0 / 1000;
    // The language provider snaps its window to whole minutes; panels align to the step.
    let (snap_start, snap_end) = ((t - 3600) / 60 * 60, (t + 59) / 60 * 60);
    let (start, end) = ((t - 600) / 15 * 15, t / 15 * 15);
    let window = format!("start={snap_start}&end={snap_end}");
    let sel = "match%5B%5D=x_total%7Bjob%3D%22a%22%7D";
    let rate = "sum+by+%28job%29+%28rate%28x_total%5B1m%5D%29%29";
    let calls: Vec<(&str, String, String, &str)> = vec![
        (
            "POST",
            "/api/v1/query".into(),
            "query=1%2B1&time=4".into(),
            r#""result":[4,"2"]"#,
        ),
        (
            "GET",
            "/api/v1/status/buildinfo".into(),
            String::new(),
            r#""version":"2.53.0""#,
        ),
        (
            "GET",
            "/api/v1/rules".into(),
            String::new(),
            r#""groups":[]"#,
        ),
        (
            "GET",
            format!(
                "/api/v1/query_exemplars?query=test&start={}&end={}",
                T0 - 1_800_000,
                T0
            ),
            String::new(),
            r#""data":[]"#,
        ),
        (
            "GET",
            format!("/api/v1/label/__name__/values?{window}"),
            String::new(),
            r#"["up","x_total"]"#,
        ),
        (
            "GET",
            "/api/v1/metadata".into(),
            String::new(),
            r#""x_total":[{"type":"counter""#,
        ),
        (
            "POST",
            "/api/v1/labels".into(),
            window.clone(),
            r#"["__name__","instance","job"]"#,
        ),
        (
            "GET",
            "/api/v1/label/job/values".into(),
            String::new(),
            r#"["a","b"]"#,
        ),
        (
            "GET",
            "/api/v1/label/instance/values".into(),
            String::new(),
            r#"["h:1"]"#,
        ),
        (
            "GET",
            format!("/api/v1/label/job/values?{window}&{sel}"),
            String::new(),
            r#"["a"]"#,
        ),
        (
            "POST",
            "/api/v1/labels".into(),
            format!("end={snap_end}&{sel}&start={snap_start}"),
            r#"["__name__","job"]"#,
        ),
        (
            "POST",
            "/api/v1/series".into(),
            format!("end={snap_end}&limit=40000&match%5B%5D=x_total&start={snap_start}"),
            r#"[{"__name__":"x_total","job":"a"},{"__name__":"x_total","job":"b"}]"#,
        ),
        (
            "POST",
            "/api/v1/query_range".into(),
            format!("end={end}&query={rate}&start={start}&step=15"),
            r#""resultType":"matrix","result":[{"metric":{"job":"a"},"values":[["#,
        ),
        (
            "POST",
            "/api/v1/query".into(),
            format!("query={rate}&time={t}.123"),
            r#""resultType":"vector","result":[{"metric":{"job":"a"},"value":["#,
        ),
        (
            "POST",
            "/api/v1/query".into(),
            format!("query=x_total&time={t}"),
            r#"{"metric":{"__name__":"x_total","job":"b"},"value":["#,
        ),
        (
            "POST",
            "/api/v1/query_exemplars".into(),
            format!("end={end}&query=x_total&start={start}"),
            r#""data":[]"#,
        ),
    ];
    for (method, uri, form, expect) in calls {
        let mut req = Request::builder()
            .method(method)
            .uri(&uri)
            .header("x-grafana-cache", "private, max-age=60");
        if method == "POST" {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let (status, body) = call(&s, req.body(Body::from(form.clone())).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{method} {uri} {form}: {body}");
        assert!(
            body.starts_with(r#"{"status":"success","data":"#) && body.contains(expect),
            "{method} {uri} {form}: {body}"
        );
    }
}
