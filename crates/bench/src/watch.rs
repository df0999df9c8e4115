//! Memory while watching a large cluster: `kubepulse serve --kubeconfig` against a loopback API
//! server that lists `pods` pods (paged, as a real API server pages) and then streams
//! MODIFIED events in rounds. The resident set is read after start-up against an empty cluster,
//! after the initial list, and after each round of changes: bounded memory means it stops
//! growing once the objects are known, however many changes follow.

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use kubepulse_model::clock::Stopwatch;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::procfs;
use crate::servers::kubepulse_with;

struct Api {
    pods: Vec<Value>,
    events: broadcast::Sender<String>,
}

fn pod(i: usize, restarts: u32, rv: u64) -> Value {
    let rs = format!("app-{:03}-7d4b9c8f6d", i % 500);
    let name = format!("{rs}-{i:05}");
    json!({
        "metadata": {
            "name": name, "namespace": format!("ns-{:02}", i % 40),
            "uid": format!("00000000-0000-4000-8000-{i:012}"), "resourceVersion": rv.to_string(),
            "creationTimestamp": "2026-11-30T08:00:00Z",
            "labels": {"app": format!("app-{:03}", i % 500), "pod-template-hash": "7d4b9c8f6d"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                "uid": format!("10000000-0000-4000-8000-{:012}", i % 500), "controller": true,
                "blockOwnerDeletion": true}]
        },
        "spec": {
            "nodeName": format!("node-{:03}", i % 200),
            "containers": [{"name": "app", "image": "registry.example.com/app:1.4.2",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "500m", "memory": "512Mi"}}}]
        },
        "status": {
            "phase": "Running", "podIP": format!("10.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256),
            "hostIP": format!("10.0.{}.{}", (i % 200) / 256, (i % 200) % 256),
            "startTime": "2026-11-30T08:00:01Z",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-30T08:00:01Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-30T08:00:09Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-11-30T08:00:09Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-30T08:00:00Z"}
            ],
            "containerStatuses": [{"name": "app", "ready": true, "started": true,
                "restartCount": restarts, "image": "registry.example.com/app:1.4.2",
                "imageID": "registry.example.com/app@sha256:4f5e", "containerID": format!("containerd://{i:064}"),
                "state": {"running": {"startedAt": "2026-11-30T08:00:08Z"}},
                "lastState": if restarts > 0 { json!({"terminated": {"exitCode": 137, "reason": "OOMKilled",
                    "startedAt": "2026-11-30T08:00:02Z", "finishedAt": "2026-11-30T08:00:07Z"}}) } else { json!({}) }}]
        }
    })
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

async fn serve(State(api): State<Arc<Api>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let watching = query_value(&query, "watch") == Some("true");
    let kind = path.rsplit('/').next().unwrap_or("");
    if watching {
        let mut rx = (kind == "pods").then(|| api.events.subscribe());
        let secs: u64 = query_value(&query, "timeoutSeconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(290);
        let stream = async_stream(rx.take(), secs);
        return Response::builder()
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .unwrap_or_default();
    }
    let items: Vec<Value> = if kind == "pods" {
        let limit: usize = query_value(&query, "limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(api.pods.len());
        let from: usize = query_value(&query, "continue")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let end = (from + limit).min(api.pods.len());
        let page = api.pods[from.min(end)..end].to_vec();
        let cont = if end < api.pods.len() {
            end.to_string()
        } else {
            String::new()
        };
        let body = json!({"kind": "PodList", "apiVersion": "v1",
            "metadata": {"resourceVersion": "1000", "continue": cont}, "items": page});
        return ([("content-type", "application/json")], body.to_string()).into_response();
    } else {
        Vec::new()
    };
    let body = json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1000"}, "items": items});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// The events sent on `rx` as watch lines, until `secs` have passed.
fn async_stream(
    rx: Option<broadcast::Receiver<String>>,
    secs: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    futures_util::stream::unfold(rx, move |rx| async move {
        match rx {
            Some(mut r) => tokio::select! {
                _ = tokio::time::sleep_until(deadline) => None,
                m = r.recv() => match m {
                    Ok(line) => Some((Ok(Bytes::from(line + "\n")), Some(r))),
                    Err(broadcast::error::RecvError::Lagged(_)) => Some((Ok(Bytes::new()), Some(r))),
                    Err(_) => None,
                },
            },
            None => {
                tokio::time::sleep_until(deadline).await;
                None
            }
        }
    })
}

async fn start_api(pods: Vec<Value>) -> anyhow::Result<(u16, broadcast::Sender<String>)> {
    let (tx, _) = broadcast::channel(1 << 16);
    let api = Arc::new(Api {
        pods,
        events: tx.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = Router::new().fallback(serve).with_state(api);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((port, tx))
}

fn kubeconfig(dir: &Path, name: &str, port: u16) -> anyhow::Result<std::path::PathBuf> {
    let p = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )?;
    Ok(p)
}

fn config(kubeconfig: &Path) -> String {
    format!(
        "kubernetes:\n  kubeconfig: {}\n  interval: 5s\nprediction:\n  enabled: false\nanomaly:\n  enabled: false\nlog:\n  level: warn\n",
        kubeconfig.display()
    )
}

async fn pods_seen(client: &reqwest::Client, port: u16) -> f64 {
    let url = format!("http://127.0.0.1:{port}/api/v1/query?query=count(kube_pod_info)");
    let Ok(r) = client.get(&url).send().await else {
        return 0.0;
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0)
}

const MIB: f64 = 1_048_576.0;

/// Runs the benchmark.
pub async fn run(
    bin: &Path,
    dir: &Path,
    client: &reqwest::Client,
    pods: usize,
    rounds: usize,
    changes: usize,
) -> anyhow::Result<()> {
    // Baseline: the same server watching an empty cluster.
    let (empty_port, _keep) = start_api(Vec::new()).await?;
    let kc = kubeconfig(dir, "empty", empty_port)?;
    let (mut empty, _) = kubepulse_with(bin, dir, "empty", &config(&kc))?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let base = procfs::rss_bytes(empty.pid())? as f64;
    empty.terminate(Duration::from_secs(30));

    let (port, events) = start_api((0..pods).map(|i| pod(i, 0, 1000)).collect()).await?;
    let kc = kubeconfig(dir, "large", port)?;
    let (peer, kp) = kubepulse_with(bin, dir, "large", &config(&kc))?;
    let watch = Stopwatch::start();
    while pods_seen(client, kp).await < pods as f64 {
        anyhow::ensure!(watch.elapsed_secs() < 300.0, "pods never all listed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let listed_in = watch.elapsed_secs();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let listed = procfs::rss_bytes(peer.pid())? as f64;
    println!("watching {pods} pods with kubepulse serve --kubeconfig (loopback API server)");
    println!(
        "{:<34} {:>10} {:>14}",
        "moment", "RSS MiB", "over empty MiB"
    );
    println!("{:<34} {:>10.1} {:>14}", "empty cluster", base / MIB, "-");
    println!(
        "{:<34} {:>10.1} {:>14.1}   (listed in {listed_in:.1} s; {:.0} B per pod)",
        format!("{pods} pods listed"),
        listed / MIB,
        (listed - base) / MIB,
        (listed - base) / pods as f64
    );
    let mut rv = 1000u64;
    for round in 1..=rounds {
        for k in 0..changes {
            rv += 1;
            let i = (k * 7919 + round) % pods;
            let mut obj = pod(i, round as u32, rv);
            if let Some(o) = obj.as_object_mut() {
                o.insert("kind".into(), json!("Pod"));
                o.insert("apiVersion".into(), json!("v1"));
            }
            let _ = events.send(json!({"type": "MODIFIED", "object": obj}).to_string());
            if k % 1000 == 999 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tokio::time::sleep(Duration::from_secs(12)).await;
        let rss = procfs::rss_bytes(peer.pid())? as f64;
        println!(
            "{:<34} {:>10.1} {:>14.1}",
            format!("after round {round} ({changes} changes)"),
            rss / MIB,
            (rss - base) / MIB
        );
    }
    Ok(())
}
