//! The Prometheus HTTP API through the router, without a socket: exact JSON of each result
//! type, parameters from the URL and form bodies, errors with Prometheus' types and codes, and
//! the metadata endpoints.

#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use kubepulse_query::EngineOptions;
use support::{T0, get, load, post_form as post, setup, setup_with};

#[tokio::test]
async fn results_are_encoded_exactly_as_prometheus_does() {
    let (_tmp, _db, s) = setup();
    load(&s);
    let cases = [
        (
            "/api/v1/query?query=1%2B1&time=4",
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#,
        ),
        (
            "/api/v1/query?query=1&time=4.05",
            r#"{"status":"success","data":{"resultType":"scalar","result":[4.05,"1"]}}"#,
        ),
        (
            "/api/v1/query?query=vector(1e21)&time=1",
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1e+21"]}]}}"#,
        ),
        (
            "/api/v1/query?query=1e21&time=1",
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1000000000000000000000"]}}"#,
        ),
        (
            "/api/v1/query?query=%22hello%22&time=10",
            r#"{"status":"success","data":{"resultType":"string","result":[10,"hello"]}}"#,
        ),
        (
            "/api/v1/query?query=-1/0&time=1",
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"-Inf"]}}"#,
        ),
        (
            "/api/v1/query_range?query=1&start=0&end=10&step=2.5",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0,"1"],[2.500,"1"],[5,"1"],[7.500,"1"],[10,"1"]]}]}}"#,
        ),
        (
            "/api/v1/query?query=nothing&time=10",
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        ),
    ];
    for (uri, want) in cases {
        let (status, body) = get(&s, uri).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, want), "{uri}");
    }
    // A form body, which wins over the URL.
    let (status, body) = post(
        &s,
        "/api/v1/query?query=7&time=5",
        "query=vector(1)&time=4.5",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[4.500,"1"]}]}}"#
    );
}

#[tokio::test]
async fn queries_over_stored_data() {
    let (_tmp, _db, s) = setup();
    load(&s);
    let t = T0 / 1000;
    let (status, body) = get(&s, &format!("/api/v1/query?query=x_total&time={t}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"x_total","job":"a"}},"value":[{t},"40"]}},{{"metric":{{"__name__":"x_total","job":"b"}},"value":[{t},"80"]}}]}}}}"#
        )
    );
    let (_, body) = post(
        &s,
        "/api/v1/query_range",
        &format!(
            "query=sum(rate(x_total[1m]))&start={}&end={t}&step=60",
            t - 120
        ),
    )
    .await;
    assert!(
        body.contains(&format!(
            r#""values":[[{},"0.2"],[{},"0.2"],[{t},"0.2"]]"#,
            t - 120,
            t - 60
        )),
        "{body}"
    );
    // Annotations come as warnings.
    let (_, body) = get(&s, &format!("/api/v1/query?query=rate(up[1m])&time={t}")).await;
    assert!(
        body.ends_with(r#""warnings":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\""]}"#),
        "{body}"
    );
    let (_, body) = get(&s, &format!("/api/v1/query?query=x_total[30s]&time={t}")).await;
    assert!(
        body.contains(r#""resultType":"matrix""#) && body.contains(r#"[1767571170,"38"]"#),
        "{body}"
    );
}

#[tokio::test]
async fn bad_queries_get_prometheus_errors() {
    let (_tmp, _db, s) = setup_with(EngineOptions {
        max_samples: 100,
        ..EngineOptions::default()
    });
    load(&s);
    let t = T0 / 1000;
    let bad = |m: &str| format!(r#"{{"status":"error","errorType":"bad_data","error":"{m}"}}"#);
    let cases = [
        (
            "/api/v1/query?query=sum(up".to_string(),
            StatusCode::BAD_REQUEST,
            None,
            Some("invalid parameter \\\"query\\\": 1:7: parse error: "),
        ),
        (
            "/api/v1/query?query=rate(up)".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"query\\\": 1:6: parse error: expected type range vector in call to function \\\"rate\\\", got instant vector")),
            None,
        ),
        (
            "/api/v1/query?query=1&time=abc".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"time\\\": Invalid time value for 'time': cannot parse \\\"abc\\\" to a valid timestamp")),
            None,
        ),
        (
            "/api/v1/query?query=1&timeout=abc".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"timeout\\\": cannot parse \\\"abc\\\" to a valid duration")),
            None,
        ),
        (
            "/api/v1/query_range?query=1&start=10&end=0&step=5".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"end\\\": end timestamp must not be before start time")),
            None,
        ),
        (
            "/api/v1/query_range?query=1&start=0&end=10&step=0".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"step\\\": zero or negative query resolution step widths are not accepted. Try a positive integer")),
            None,
        ),
        (
            "/api/v1/query_range?query=1&start=0&end=11001&step=1".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")),
            None,
        ),
        (
            "/api/v1/query_range?query=1&end=10&step=1".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"start\\\": cannot parse \\\"\\\" to a valid timestamp")),
            None,
        ),
        (
            "/api/v1/query_range?query=x_total[1m]&start=0&end=10&step=1".into(),
            StatusCode::BAD_REQUEST,
            Some(bad("invalid parameter \\\"query\\\": invalid expression type \\\"range vector\\\" for range query, must be Scalar or instant Vector")),
            None,
        ),
        (
            format!("/api/v1/query?query=x_total[10m]&time={t}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#.to_string()),
            None,
        ),
        (
            format!("/api/v1/query?query=label_replace(up,%221a%22,%22%22,%22%22,%22%22)&time={t}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(r#"{"status":"error","errorType":"execution","error":"invalid destination label name in label_replace(): 1a"}"#.to_string()),
            None,
        ),
    ];
    for (uri, status, exact, prefix) in cases {
        let (got_status, body) = get(&s, &uri).await;
        assert_eq!(got_status, status, "{uri}: {body}");
        if let Some(e) = exact {
            assert_eq!(body, e, "{uri}");
        }
        if let Some(p) = prefix {
            assert!(
                body.starts_with(&format!(
                    r#"{{"status":"error","errorType":"bad_data","error":"{p}"#
                )),
                "{uri}: {body}"
            );
        }
    }
    // The store still answers afterwards.
    let (status, _) = get(&s, &format!("/api/v1/query?query=up&time={t}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn series_labels_values_and_metadata() {
    let (_tmp, _db, s) = setup();
    load(&s);
    let (status, body) = get(&s, "/api/v1/series?match[]=x_total").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"x_total","job":"a"},{"__name__":"x_total","job":"b"}]}"#
    );
    let (_, body) = post(
        &s,
        "/api/v1/series",
        "match[]=up&match[]=x_total%7Bjob%3D%22b%22%7D&limit=1",
    )
    .await;
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"up","instance":"h:1","job":"a"}],"warnings":["results truncated due to limit"]}"#
    );
    let (status, body) = get(&s, "/api/v1/series").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::BAD_REQUEST,
            r#"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#
        )
    );
    let (_, body) = get(&s, "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D").await;
    assert!(
        body.contains(
            r#"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"#
        ),
        "{body}"
    );
    let (_, body) = get(&s, "/api/v1/labels").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__","instance","job"]}"#
    );
    let (_, body) = get(&s, "/api/v1/labels?match[]=x_total").await;
    assert_eq!(body, r#"{"status":"success","data":["__name__","job"]}"#);
    let (_, body) = get(&s, "/api/v1/label/job/values").await;
    assert_eq!(body, r#"{"status":"success","data":["a","b"]}"#);
    let (_, body) = get(
        &s,
        "/api/v1/label/__name__/values?match[]=%7Bjob%3D%22b%22%7D",
    )
    .await;
    assert_eq!(body, r#"{"status":"success","data":["x_total"]}"#);
    let (status, body) = get(&s, "/api/v1/label/1bad/values").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::BAD_REQUEST,
            r#"{"status":"error","errorType":"bad_data","error":"invalid label name: \"1bad\""}"#
        )
    );
    let (_, body) = get(&s, "/api/v1/metadata").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"x_total":[{"type":"counter","help":"Things \u003cdone\u003e.","unit":""}]}}"#
    );
    let (_, body) = get(&s, "/api/v1/metadata?metric=up").await;
    assert_eq!(body, r#"{"status":"success","data":{}}"#);
    let (status, _) = get(&s, "/api/v1/metadata?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
