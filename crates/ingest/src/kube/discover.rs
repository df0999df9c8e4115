//! Scrape targets found in the watched cluster, as Prometheus' usual Kubernetes jobs find them:
//! the endpoints of Services annotated `prometheus.io/scrape: "true"` (and of kube-state-metrics
//! and node-exporter Services, annotated or not), and pods annotated the same way
//! (`prometheus.io/port`, `prometheus.io/path`). Endpoints are read from EndpointSlices, so only
//! ready ones are scraped; a pod reached through a Service is not scraped twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kubepulse_model::{Clock, ObjectKind, ObjectState};
use kubepulse_store::Append;
use tokio::sync::watch;

use super::state::{Cluster, Slice};
use crate::IngestMetrics;
use crate::scrape::discovery::Target;
use crate::scrape::loops::keep_scraping;
use crate::scrape::target::{TargetLoop, TargetSettings};

/// How often the cluster is looked at for targets to add or stop.
const RESYNC: Duration = Duration::from_secs(10);

const SCRAPE: &str = "prometheus.io/scrape";
const PORT: &str = "prometheus.io/port";
const PATH: &str = "prometheus.io/path";

fn annotated(s: &ObjectState) -> bool {
    s.fields.get(SCRAPE).is_some_and(|v| v == "true")
}

/// The port to scrape a Service's endpoints on: the annotated one, else the conventional
/// metrics port of the well-known exporters; `None` when the Service is not scraped.
fn service_port(svc: &ObjectState, slice: &Slice) -> Option<u16> {
    if let Some(p) = svc.fields.get(PORT).and_then(|p| p.parse().ok()) {
        return annotated(svc).then_some(p);
    }
    let named = |names: &[&str]| {
        slice
            .ports
            .iter()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|p| p.1)
    };
    let name = svc.object.name.as_str();
    if name == "kube-state-metrics" || name.ends_with("-kube-state-metrics") {
        return named(&["http-metrics", "http"]).or(Some(8080));
    }
    if name == "node-exporter" || name.ends_with("-node-exporter") {
        return named(&["metrics", "http-metrics"]).or(Some(9100));
    }
    if annotated(svc) {
        return slice.ports.first().map(|p| p.1);
    }
    None
}

fn path_of(s: &ObjectState) -> String {
    s.fields
        .get(PATH)
        .filter(|p| p.starts_with('/'))
        .cloned()
        .unwrap_or_else(|| "/metrics".into())
}

/// Every target of the cluster as it is now.
pub fn targets(objects: &[ObjectState], slices: &[Slice]) -> BTreeSet<Target> {
    let services: HashMap<(&str, &str), &ObjectState> = objects
        .iter()
        .filter(|s| s.object.kind == ObjectKind::Service.as_str())
        .map(|s| ((s.object.namespace.as_str(), s.object.name.as_str()), s))
        .collect();
    let mut out = BTreeSet::new();
    let mut covered: HashSet<(String, String)> = HashSet::new();
    for slice in slices {
        let Some(svc) = services.get(&(slice.namespace.as_str(), slice.service.as_str())) else {
            continue;
        };
        let Some(port) = service_port(svc, slice) else {
            continue;
        };
        let path = path_of(svc);
        for e in slice.endpoints.iter().filter(|e| e.ready) {
            let mut labels = BTreeMap::from([
                ("job".to_string(), slice.service.clone()),
                ("namespace".to_string(), slice.namespace.clone()),
                ("service".to_string(), slice.service.clone()),
                ("instance".to_string(), format!("{}:{port}", e.ip)),
            ]);
            if let Some(p) = &e.pod {
                labels.insert("pod".into(), p.clone());
                covered.insert((slice.namespace.clone(), p.clone()));
            }
            if !e.node.is_empty() {
                labels.insert("node".into(), e.node.clone());
            }
            out.insert(Target {
                url: format!("http://{}:{port}{path}", host(&e.ip)),
                labels,
            });
        }
    }
    for pod in objects
        .iter()
        .filter(|s| s.object.kind == ObjectKind::Pod.as_str() && annotated(s))
    {
        let ns = pod.object.namespace.clone();
        if covered.contains(&(ns.clone(), pod.object.name.clone())) || pod.phase != "Running" {
            continue;
        }
        let (Some(ip), Some(port)) = (
            pod.fields.get("podIP"),
            pod.fields.get(PORT).and_then(|p| p.parse::<u16>().ok()),
        ) else {
            continue;
        };
        let mut labels = BTreeMap::from([
            ("job".to_string(), "kubernetes-pods".to_string()),
            ("namespace".to_string(), ns),
            ("pod".to_string(), pod.object.name.clone()),
            ("instance".to_string(), format!("{ip}:{port}")),
        ]);
        if !pod.node.is_empty() {
            labels.insert("node".into(), pod.node.clone());
        }
        out.insert(Target {
            url: format!("http://{}:{port}{}", host(ip), path_of(pod)),
            labels,
        });
    }
    out
}

/// An address as the host part of a URL (IPv6 in brackets).
fn host(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

/// Scrapes the discovered targets every `interval_ms` until `stop` turns true, starting loops
/// for targets that appear and stopping those of targets that go away.
pub async fn run(
    cluster: Arc<Cluster>,
    client: reqwest::Client,
    store: Arc<dyn Append>,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    interval_ms: i64,
    stop: watch::Receiver<bool>,
) {
    let settings = TargetSettings::discovered(interval_ms, false);
    keep_scraping(
        RESYNC,
        stop,
        || targets(&cluster.objects(), &cluster.slices()),
        |t| {
            TargetLoop::new(
                t,
                settings.clone(),
                store.clone(),
                client.clone(),
                clock.clone(),
                metrics.clone(),
            )
        },
    )
    .await;
}
