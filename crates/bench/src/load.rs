//! Load: realistic Kubernetes-like series, their samples round by round, encoded as remote_write
//! request bodies before any measurement starts, and sent with a fixed number of connections.

use std::sync::Arc;

use kubepulse_ingest::remote_write::encode;
use kubepulse_sim::rng::SimRng;

const METRICS: [(&str, bool); 20] = [
    ("container_cpu_usage_seconds_total", true),
    ("container_memory_working_set_bytes", false),
    ("container_memory_rss", false),
    ("container_network_receive_bytes_total", true),
    ("container_network_transmit_bytes_total", true),
    ("container_fs_usage_bytes", false),
    ("container_cpu_cfs_throttled_periods_total", true),
    ("container_cpu_cfs_periods_total", true),
    ("kube_pod_container_status_restarts_total", true),
    ("kube_pod_status_ready", false),
    ("kube_pod_container_resource_requests", false),
    ("kube_pod_container_resource_limits", false),
    ("http_requests_total", true),
    ("http_request_duration_seconds_sum", true),
    ("http_request_duration_seconds_count", true),
    ("process_open_fds", false),
    ("go_goroutines", false),
    ("go_memstats_heap_inuse_bytes", false),
    ("process_resident_memory_bytes", false),
    ("grpc_server_handled_total", true),
];

/// The label sets of `n` series: 20 metrics for each of `n / 20` pods.
pub fn series(n: usize) -> Vec<Vec<(String, String)>> {
    let mut rng = SimRng::new(42);
    (0..n)
        .map(|i| {
            let pod = i / METRICS.len();
            let ns = format!("team-{:02}", pod % 40);
            let (name, _) = METRICS[i % METRICS.len()];
            vec![
                ("__name__".to_string(), name.to_string()),
                ("container".to_string(), format!("app-{}", pod % 7)),
                (
                    "instance".to_string(),
                    format!(
                        "10.{}.{}.{}:8080",
                        pod / 65_536 % 256,
                        pod / 256 % 256,
                        pod % 256
                    ),
                ),
                ("job".to_string(), "kubernetes-pods".to_string()),
                ("namespace".to_string(), ns),
                (
                    "node".to_string(),
                    format!(
                        "ip-10-0-{}-{}.eu-west-1.compute.internal",
                        pod % 16,
                        pod % 250
                    ),
                ),
                (
                    "pod".to_string(),
                    format!(
                        "svc-{}-{}-{}",
                        pod % 311,
                        rng.k8s_suffix(10),
                        rng.k8s_suffix(5)
                    ),
                ),
            ]
        })
        .collect()
}

/// Request bodies for `rounds` rounds of one sample per series, `batch` series per request,
/// with timestamps `start + round * step`.
pub fn requests(
    labels: &[Vec<(String, String)>],
    rounds: usize,
    start: i64,
    step: i64,
    batch: usize,
) -> Vec<Vec<u8>> {
    let mut rng = SimRng::new(7);
    let mut values: Vec<f64> = (0..labels.len())
        .map(|i| {
            if METRICS[i % METRICS.len()].1 {
                rng.range(0.0, 1e6).round()
            } else {
                rng.range(1e6, 1e9).round()
            }
        })
        .collect();
    let mut out = Vec::new();
    for r in 0..rounds {
        let t = start + r as i64 * step;
        for (i, v) in values.iter_mut().enumerate() {
            if METRICS[i % METRICS.len()].1 {
                *v += rng.below(200) as f64;
            } else if rng.chance(0.3) {
                *v = (*v * (1.0 + 0.02 * rng.normal())).round();
            }
        }
        for chunk in (0..labels.len()).collect::<Vec<_>>().chunks(batch) {
            let series: Vec<encode::Series<&str>> = chunk
                .iter()
                .map(|&i| {
                    (
                        labels[i]
                            .iter()
                            .map(|(a, b)| (a.as_str(), b.as_str()))
                            .collect(),
                        vec![(t, values[i])],
                    )
                })
                .collect();
            out.push(encode::body(&series));
        }
    }
    out
}

/// Sends every body to `url` over `concurrency` connections. Like Prometheus' own sender, each
/// series always goes through the same connection (shard), so that its samples arrive in order:
/// body `i` belongs to shard `(i % per_round) % concurrency`. Fails on any answer but 2xx.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    per_round: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for shard in 0..concurrency {
        let (client, url, bodies) = (client.clone(), url.to_string(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            for (i, body) in bodies
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % per_round.max(1)) % concurrency == shard)
            {
                let resp = client
                    .post(&url)
                    .header("content-encoding", "snappy")
                    .header("content-type", "application/x-protobuf")
                    .header("x-prometheus-remote-write-version", "0.1.0")
                    .body(body.clone())
                    .send()
                    .await?;
                if !resp.status().is_success() {
                    anyhow::bail!(
                        "{url}: request {i} answered {}: {}",
                        resp.status(),
                        resp.text().await.unwrap_or_default()
                    );
                }
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
