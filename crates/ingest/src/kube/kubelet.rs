//! The kubelets' metrics without a Prometheus: every watched node's `/metrics/cadvisor` and
//! `/metrics/resource`, fetched through the API server's node proxy with KubePulse's own
//! credentials (the `nodes/proxy` permission), scraped by the same target loop as any scrape
//! job (timestamps honoured, series that vanish marked stale, `up` recorded), labelled as
//! Prometheus' usual kubelet job labels them: `job="kubelet"`, `metrics_path`, `node` and
//! `instance` (the node's address and kubelet port).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kubepulse_model::{Clock, ObjectKind};
use kubepulse_store::Append;
use tokio::sync::watch;

use super::state::Cluster;
use crate::IngestMetrics;
use crate::scrape::discovery::Target;
use crate::scrape::loops::keep_scraping;
use crate::scrape::target::{Fetcher, TargetLoop, TargetSettings};

/// The kubelet endpoints scraped per node.
pub const PATHS: [&str; 2] = ["/metrics/cadvisor", "/metrics/resource"];

/// How often the node list is looked at for targets to add or stop.
const RESYNC: Duration = Duration::from_secs(10);

/// The targets of one node: its kubelet's endpoints through the API server.
pub fn targets(node: &str, address: &str, port: &str) -> Vec<Target> {
    PATHS
        .iter()
        .map(|path| Target {
            url: format!("/api/v1/nodes/{node}/proxy{path}"),
            labels: BTreeMap::from([
                ("job".to_string(), "kubelet".to_string()),
                ("metrics_path".to_string(), path.to_string()),
                ("node".to_string(), node.to_string()),
                (
                    "instance".to_string(),
                    if address.is_empty() {
                        node.to_string()
                    } else {
                        format!("{address}:{port}")
                    },
                ),
            ]),
        })
        .collect()
}

/// Every watched node's kubelet targets.
pub fn node_targets(cluster: &Cluster) -> BTreeSet<Target> {
    cluster
        .objects()
        .into_iter()
        .filter(|s| s.object.kind == ObjectKind::Node.as_str())
        .flat_map(|n| {
            let f = |k: &str| n.fields.get(k).cloned().unwrap_or_default();
            let port = Some(f("kubeletPort"))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "10250".into());
            targets(&n.object.name, &f("internalIP"), &port)
        })
        .collect()
}

/// Scrapes every node's kubelet every `interval_ms` until `stop` turns true; nodes that appear
/// get loops, nodes that go away have theirs stopped (their series marked stale).
pub async fn run(
    cluster: Arc<Cluster>,
    client: kube::Client,
    store: Arc<dyn Append>,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    interval_ms: i64,
    stop: watch::Receiver<bool>,
) {
    let settings = TargetSettings::discovered(interval_ms, true);
    keep_scraping(
        RESYNC,
        stop,
        || node_targets(&cluster),
        |t| {
            TargetLoop::new(
                t,
                settings.clone(),
                store.clone(),
                Fetcher::Kube(client.clone()),
                clock.clone(),
                metrics.clone(),
            )
        },
    )
    .await;
}
