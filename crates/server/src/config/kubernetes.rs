//! The `kubernetes` section: watching a real cluster through its API server.

use std::path::PathBuf;

use kubepulse_ingest::kube::KubeSettings;
use kubepulse_model::DurationMs;
use serde::{Deserialize, Serialize};

/// A real cluster to watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesConfig {
    /// Watch the cluster (setting `in_cluster`, `kubeconfig` or `context`, or the matching
    /// `serve` flags, turns it on).
    pub enabled: bool,
    /// Use the pod's service account.
    pub in_cluster: bool,
    /// Kubeconfig file (default: `$KUBECONFIG`, then `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Context in the kubeconfig (default: its current context).
    pub context: Option<String>,
    /// How long a watch request lasts before it is renewed; a stalled stream is noticed five
    /// seconds later.
    pub watch_timeout: DurationMs,
    /// Objects per page of a list.
    pub page_size: u32,
    /// How often findings and object series are written.
    pub interval: DurationMs,
    /// Scrape every node's kubelet (`/metrics/cadvisor`, `/metrics/resource`) through the API
    /// server's node proxy.
    pub scrape_kubelets: bool,
    /// Scrape the exporters behind Services (kube-state-metrics, node-exporter, Services
    /// annotated `prometheus.io/scrape`) and annotated pods, found from EndpointSlices.
    pub discover_targets: bool,
    /// How often the kubelets and the discovered targets are scraped.
    pub scrape_interval: DurationMs,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            in_cluster: false,
            kubeconfig: None,
            context: None,
            watch_timeout: DurationMs::secs(290),
            page_size: 500,
            interval: DurationMs::secs(15),
            scrape_kubelets: true,
            discover_targets: true,
            scrape_interval: DurationMs::secs(15),
        }
    }
}

impl KubernetesConfig {
    /// Checks the values; the key at fault and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let t = self.watch_timeout.ms();
        if !(1000..=295_000).contains(&t) {
            return Err(("watch_timeout", "must be between 1s and 295s".into()));
        }
        if self.page_size == 0 {
            return Err(("page_size", "must be at least 1".into()));
        }
        if self.interval.ms() < 1000 {
            return Err(("interval", "must be at least 1s".into()));
        }
        if self.scrape_interval.ms() < 1000 {
            return Err(("scrape_interval", "must be at least 1s".into()));
        }
        if self.in_cluster && self.kubeconfig.is_some() {
            return Err((
                "in_cluster",
                "cannot be set together with kubeconfig".into(),
            ));
        }
        Ok(())
    }

    /// The client settings.
    pub fn settings(&self) -> KubeSettings {
        KubeSettings {
            in_cluster: self.in_cluster,
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            watch_timeout: (self.watch_timeout.ms() / 1000) as u32,
            page_size: self.page_size,
        }
    }
}
