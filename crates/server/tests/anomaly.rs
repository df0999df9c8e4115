//! Live anomaly detection end to end: `kubepulse serve` over the simulated cluster watches the
//! pods', nodes' and services' signals, writes `kubepulse_anomaly_score` series that PromQL
//! reads, lists them on `/api/v1/anomalies`, refuses bad parameters, and keeps the detectors'
//! state in the data directory across a restart. The simulated containers' logs are stored and
//! mined alongside.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;

async fn get(url: &str) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::Client::new().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const CONFIG: &str = "simulator:\n  mode: on\n  cluster:\n    nodes: 2\n    pods: 30\nprediction:\n  enabled: false\nanomaly:\n  interval: 1s\n  watch:\n    - name: node_rx_bytes\n      expr: node_network_receive_bytes_total\n";

#[tokio::test(flavor = "multi_thread")]
async fn serve_watches_pods_nodes_and_services() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let server = support::serve(CONFIG, &data_dir);
    let base = format!("http://127.0.0.1:{}", server.port);
    let waited = kubepulse_model::clock::Stopwatch::start();
    let data = loop {
        let (status, body) = get(&format!("{base}/api/v1/anomalies?limit=10000")).await;
        let has = |s: &str| {
            body["data"]["anomalies"]
                .as_array()
                .is_some_and(|l| l.iter().any(|a| a["signal"] == s))
        };
        // Rates need two scrapes: wait for every kind of watch.
        if status == 200
            && has("node_cpu_busy_ratio")
            && has("service_request_rate")
            && has("node_rx_bytes")
        {
            break body["data"].clone();
        }
        assert!(
            waited.elapsed_secs() < 60.0,
            "never watched: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let list = data["anomalies"].as_array().unwrap();
    let signal = |s: &str| list.iter().filter(|a| a["signal"] == s).count();
    assert!(signal("memory_limit_ratio") >= 10, "{data}");
    assert_eq!(signal("node_cpu_busy_ratio"), 2, "{data}");
    assert!(signal("service_request_rate") >= 1, "{data}");
    // A configured counter: scored by its rate.
    assert!(signal("node_rx_bytes") >= 2, "{data}");
    for a in list {
        let score = a["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{a}");
        assert!(a["reason"].is_string() && a["usual"].is_number(), "{a}");
    }
    // The scores are series that PromQL (and so rules and dashboards) reads.
    let (_, q) = get(&format!(
        "{base}/api/v1/query?query=count(kubepulse_anomaly_score%7Bsignal%3D%22memory_limit_ratio%22%7D)"
    ))
    .await;
    let n: f64 = q["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 10.0, "{q}");
    // The simulated containers' logs reach the log store and get templates.
    let waited = kubepulse_model::clock::Stopwatch::start();
    loop {
        let (_, labels) = get(&format!("{base}/loki/api/v1/labels")).await;
        let (_, templates) = get(&format!("{base}/api/v1/log_templates?namespace=shop")).await;
        let has_pods = labels["data"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == "pod"));
        let mined = templates["data"]["total"].as_u64().unwrap_or(0);
        if has_pods && mined > 0 {
            break;
        }
        assert!(
            waited.elapsed_secs() < 60.0,
            "no logs: {labels} {templates}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Filters, and bad parameters named.
    let (_, only) = get(&format!(
        "{base}/api/v1/anomalies?signal=service_request_rate"
    ))
    .await;
    let only = only["data"]["anomalies"].as_array().unwrap().clone();
    assert!(!only.is_empty() && only.iter().all(|a| a["signal"] == "service_request_rate"));
    let (status, body) = get(&format!("{base}/api/v1/anomalies?min_score=2")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("min_score"),
        "{body}"
    );
    let (status, body) = get(&format!("{base}/api/v1/anomalies?limit=100000")).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("limit"), "{body}");

    // A clean stop saves the detectors' state, and the next start restores it.
    let mut server = server;
    assert!(server.peer.terminate(Duration::from_secs(30)));
    assert!(data_dir.join("anomaly-state.json.zst").is_file());
    let server = support::serve(CONFIG, &data_dir);
    let waited = kubepulse_model::clock::Stopwatch::start();
    while !server.peer.output().contains("anomaly detectors restored") {
        assert!(
            waited.elapsed_secs() < 30.0,
            "the state was not restored: {}",
            server.peer.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
