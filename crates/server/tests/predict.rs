//! Live failure prediction end to end: a model trained by `kubepulse train` served by
//! `kubepulse serve` over the simulated cluster; every pod and node scored into the store and
//! ranked on `/api/v1/predictions`; `/api/v1/predict` and `/api/v1/simulate/{count}` answering
//! the prototype's shape, and refusing bad requests with the field named.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;

/// A small model: three nodes, forty pods, two hours with frequent leaks, bad rollouts, CPU hogs
/// and disk fills.
fn train(out: &std::path::Path) {
    support::train_model(
        out,
        &[
            "--nodes",
            "3",
            "--pods",
            "40",
            "--duration",
            "2h",
            "--chaos-per-hour",
            "20",
            "--chaos-kinds",
            "memory_leak,bad_rollout,cpu_hog,disk_fill",
            "--trees",
            "10",
        ],
    );
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get(url: &str) -> (u16, Value) {
    let r = client().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(url: &str, body: &str) -> (u16, Value) {
    let r = client()
        .post(url)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_scores_every_object_and_answers_predict_and_simulate() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model.json");
    train(&model);
    let config = format!(
        "simulator:\n  mode: on\n  cluster:\n    nodes: 3\n    pods: 40\nprediction:\n  model: {}\n  interval: 1s\n  max_simulate: 3\n",
        model.display()
    );
    let server = support::serve(&config, &tmp.path().join("data"));
    let base = format!("http://127.0.0.1:{}", server.port);

    // Every pod and node of the simulated cluster gets scored.
    let waited = kubepulse_model::clock::Stopwatch::start();
    let data = loop {
        let (status, body) = get(&format!("{base}/api/v1/predictions?limit=1000")).await;
        if status == 200 && body["data"]["scored"].as_u64().unwrap_or(0) > 40 {
            break body["data"].clone();
        }
        assert!(
            waited.elapsed_secs() < 120.0,
            "never scored: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let list = data["predictions"].as_array().unwrap();
    let nodes = list
        .iter()
        .filter(|p| p["object"]["kind"] == "node")
        .count();
    assert_eq!(nodes, 3, "{data}");
    for p in list {
        let prob = p["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&prob), "{p}");
        assert!(
            p["explanation"].as_str().is_some_and(|s| !s.is_empty()),
            "{p}"
        );
        assert!(p["recommendation"]["description"].is_string(), "{p}");
    }
    let (_, pods_only) = get(&format!("{base}/api/v1/predictions?kind=pod&limit=5")).await;
    let pods = pods_only["data"]["predictions"].as_array().unwrap();
    assert_eq!(pods.len(), 5);
    assert!(
        pods.iter()
            .all(|p| p["object"]["kind"] == "pod" && p["object"]["namespace"].is_string())
    );
    // The scores are series that PromQL reads.
    let (_, q) = get(&format!(
        "{base}/api/v1/query?query=count(kubepulse_failure_probability)"
    ))
    .await;
    let n: f64 = q["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 40.0, "{q}");

    // One object's window, 15 minutes of a leaking pod: the working set climbs steadily to its
    // limit while everything else about the pod is ordinary.
    let window: Vec<String> = (0..61)
        .map(|i| {
            let ratio = 0.36 + 0.01 * f64::from(i);
            format!(
                "{{\"memory_limit_ratio\": {ratio}, \"memory_request_ratio\": {}, \"memory_limit_bytes\": 536870912, \"cpu_limit_ratio\": 0.3, \"cpu_request_ratio\": 0.6, \"cpu_throttled_ratio\": 0, \"fs_usage_bytes\": 1048576, \"http_error_ratio\": 0.001, \"http_latency_seconds\": 0.05, \"service_error_ratio\": 0.001, \"service_latency_seconds\": 0.05, \"node_memory_used_ratio\": 0.5, \"node_cpu_busy_ratio\": 0.4, \"node_fs_used_ratio\": 0.3}}",
                2.0 * ratio
            )
        })
        .collect();
    let (status, p) = post(
        &format!("{base}/api/v1/predict"),
        &format!("{{\"cluster_id\": \"prod\", \"namespace\": \"shop\", \"name\": \"cart-7d4b9c8f6d-x2x9z\", \"window\": [{}]}}", window.join(",")),
    ).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["cluster_id"], "prod");
    let pred = &p["prediction"];
    for field in [
        "will_have_issue",
        "issue_probability",
        "issue_type",
        "explanation",
        "eta_seconds",
    ] {
        assert!(!pred[field].is_null(), "{field} missing: {p}");
    }
    assert!(
        pred["recommendation"]["actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{p}"
    );
    assert!(
        (p["metrics"]["memory_limit_ratio"].as_f64().unwrap() - 0.96).abs() < 1e-9,
        "{p}"
    );
    // The prototype's instantaneous form, with its own names.
    let (status, p) = post(
        &format!("{base}/api/v1/predict"),
        r#"{"metrics": {"cpu_usage_percent": 95, "memory_usage_percent": 50, "node_count": 3}}"#,
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert!(
        (p["metrics"]["cpu_limit_ratio"].as_f64().unwrap() - 0.95).abs() < 1e-9,
        "{p}"
    );
    // An empty body draws a simulated object.
    let (status, p) = post(&format!("{base}/api/v1/predict"), "").await;
    assert_eq!(status, 200, "{p}");
    assert!(
        p["object"]["name"].is_string() && p["metrics"].is_object(),
        "{p}"
    );

    // Bad bodies are refused with the field named, and change nothing.
    for (body, field) in [
        (
            "{\"metrics\": {\"memory_limit_ratio\": 0.5, \"bogus\": 1}}",
            "metrics.bogus",
        ),
        (
            "{\"window\": [{\"restarts\": 1}, {\"nope\": 2}]}",
            "window[1].nope",
        ),
        (
            "{\"kind\": \"deployment\", \"metrics\": {\"restarts\": 1}}",
            "kind",
        ),
        (
            "{\"metrics\": {\"restarts\": 1}, \"window\": [{\"restarts\": 1}]}",
            "either",
        ),
        ("{\"window\": []}", "window"),
        ("{\"metric\": {}}", "metric"),
        ("not json", "body"),
        ("{\"metrics\": {\"restarts\": \"x\"}}", "body"),
    ] {
        let (status, e) = post(&format!("{base}/api/v1/predict"), body).await;
        assert_eq!(status, 400, "{body}: {e}");
        assert_eq!(e["errorType"], "bad_data");
        assert!(e["error"].as_str().unwrap().contains(field), "{body}: {e}");
    }

    // Simulated clusters, one prediction each; the count is bounded.
    let (status, sims) = get(&format!("{base}/api/v1/simulate/2")).await;
    assert_eq!(status, 200, "{sims}");
    let sims = sims.as_array().unwrap();
    assert_eq!(sims.len(), 2);
    assert_ne!(sims[0]["cluster_id"], sims[1]["cluster_id"]);
    for s in sims {
        assert!(
            s["prediction"]["issue_type"].is_string() && s["timestamp"].is_string(),
            "{s}"
        );
    }
    for bad in ["0", "4", "-1", "many"] {
        let (status, e) = get(&format!("{base}/api/v1/simulate/{bad}")).await;
        assert_eq!(status, 400, "{bad}: {e}");
        assert!(e["error"].as_str().unwrap().starts_with("count:"), "{e}");
    }
    let (status, _) = get(&format!("{base}/api/v1/predictions?kind=service")).await;
    assert_eq!(status, 400);
    // Still serving.
    let (status, _) = get(&format!("{base}/api/v1/predictions")).await;
    assert_eq!(status, 200);

    // A node that crashes is detected: its node-exporter's series go stale and the scrape's
    // `up` turns 0; two failed scrapes later it is listed down.
    let node = list
        .iter()
        .find(|p| p["object"]["kind"] == "node")
        .and_then(|p| p["object"]["name"].as_str())
        .unwrap()
        .to_string();
    let (status, f) = post(
        &format!("{base}/api/v1/simulator/faults"),
        &format!("{{\"kind\": \"node_failure\", \"node\": \"{node}\", \"severity\": 1}}"),
    )
    .await;
    assert_eq!(status, 200, "{f}");
    let waited = kubepulse_model::clock::Stopwatch::start();
    loop {
        let (_, body) = get(&format!("{base}/api/v1/predictions?kind=node")).await;
        let down = body["data"]["predictions"].as_array().and_then(|l| {
            l.iter()
                .find(|p| p["object"]["name"] == node.as_str() && p["type"] == "node_failure")
                .cloned()
        });
        if let Some(p) = down {
            assert_eq!(p["probability"], 1.0, "{p}");
            assert!(
                p["explanation"]
                    .as_str()
                    .is_some_and(|e| e.contains("stopped reporting")),
                "{p}"
            );
            break;
        }
        assert!(
            waited.elapsed_secs() < 120.0,
            "{node} never detected down: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
