//! `kubepulse serve --kubeconfig FILE --context NAME` against a loopback API server serving the
//! hand-written payloads of `crates/ingest/tests/fixtures/k8s` (no Kubernetes API server can
//! run here): the cluster's objects become the series the dashboard reads, its problems become
//! findings and a pending or firing `KubePulseFinding`, its kubelets are scraped through the
//! API server's node proxy, its pods are scored by the failure model, and the dashboard's pages
//! show them.

#![allow(clippy::unwrap_used)]

#[path = "../../ingest/tests/apiserver/mod.rs"]
mod apiserver;
mod support;

use std::time::Duration;

use apiserver::{ApiServer, Watch, lines};
use kubepulse_model::clock::Stopwatch;
use serde_json::Value;

async fn get(url: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn page(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

async fn until(what: &str, secs: f64, mut f: impl AsyncFnMut() -> bool) {
    let w = Stopwatch::start();
    while !f().await {
        assert!(w.elapsed_secs() < secs, "{what} not within {secs} s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn scalar(v: &Value) -> f64 {
    v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_watches_a_kubeconfig_cluster_and_shows_it() {
    let api = ApiServer::start().await;
    api.watch("/api/v1/pods", Watch::Lines(lines("pods.watch.jsonl")));
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let model = tmp.path().join("model.json");
    support::train_model(
        &model,
        &[
            "--nodes",
            "3",
            "--pods",
            "40",
            "--duration",
            "30m",
            "--trees",
            "5",
        ],
    );
    let config = format!(
        "kubernetes:\n  kubeconfig: {}\n  context: recorded\n  interval: 1s\nprediction:\n  model: {}\n  interval: 1s\nrules:\n  evaluation_interval: 1s\nanomaly:\n  enabled: false\n",
        kubeconfig.display(),
        model.display()
    );
    let server = support::serve(&config, &tmp.path().join("data"));
    let base = format!("http://127.0.0.1:{}", server.port);

    // The objects, as series.
    let w = Stopwatch::start();
    loop {
        let v = get(&format!("{base}/api/v1/query?query=count(kube_pod_info)")).await;
        if scalar(&v) == 17.0 {
            break;
        }
        assert!(
            w.elapsed_secs() < 60.0,
            "pods as series: {v}\n{}",
            server.peer.output()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let v = get(&format!(
        "{base}/api/v1/query?query=sum(kube_node_status_condition{{condition=%22Ready%22,status=%22true%22}})"
    ))
    .await;
    assert_eq!(scalar(&v), 2.0, "{v}");
    // Findings, and the alert on them.
    let v = get(&format!(
        "{base}/api/v1/query?query=kubepulse_finding{{reason=%22CrashLoopBackOff%22}}"
    ))
    .await;
    assert_eq!(
        v["data"]["result"][0]["metric"]["name"], "cart-7d4b9c8f6d-p8n4m",
        "{v}"
    );
    until("KubePulseFinding pending or firing", 30.0, async || {
        let v = get(&format!("{base}/api/v1/alerts")).await;
        v["data"]["alerts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| a["labels"]["alertname"] == "KubePulseFinding")
        })
    })
    .await;
    // The kubelets' metrics, through the API server's node proxy.
    until("kubelet metrics", 30.0, async || {
        let v = get(&format!(
            "{base}/api/v1/query?query=count(container_memory_working_set_bytes{{job=%22kubelet%22,node=%22node-a%22}})"
        ))
        .await;
        scalar(&v) > 0.0
    })
    .await;
    // Predictions for the watched pods.
    until("watched pods scored", 60.0, async || {
        let v = get(&format!("{base}/api/v1/predictions?kind=pod&limit=1000")).await;
        v["data"]["predictions"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["object"]["name"] == "cart-7d4b9c8f6d-p8n4m")
        })
    })
    .await;
    // The dashboard.
    let overview = page(&base).await;
    assert!(overview.contains("2 / 3"), "nodes ready on the overview");
    let shop = page(&format!("{base}/workloads?namespace=shop")).await;
    assert!(shop.contains("cart-7d4b9c8f6d-p8n4m"), "{shop}");
    // (The recorded events date from the payloads' 2024 snapshot, older than the events
    // page's ranges; the store holds them, as the watcher tests check.)
    let alerts = page(&format!("{base}/alerts")).await;
    assert!(alerts.contains("KubePulseFinding"), "alerts page");
    let pod = page(&format!("{base}/pods/shop/cart-7d4b9c8f6d-p8n4m")).await;
    assert!(pod.contains("node-"), "pod page names its node");
}
