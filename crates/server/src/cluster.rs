//! A real cluster while serving: the watchers (`kubepulse_ingest::kube`) keep the objects
//! current and their history in the store; every interval this job turns the objects into
//! kube-state-metrics-named series (so that the rules, the dashboard and the failure features
//! read a watched cluster as they read a scraped or simulated one) and the analyzers' findings
//! into `kubepulse_finding` series, which the built-in rules alert on. The kubelets are
//! scraped through the API server's node proxy, and the exporters and annotated pods found
//! from EndpointSlices directly.

mod series;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::kube::{Cluster, client, discover, kubelet, start as watch};
use kubepulse_intel::findings::{Finding, analyze};
use kubepulse_model::{Clock, K8sEvent};
use kubepulse_store::events::EventQuery;
use kubepulse_store::{Append, Read};
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::config::Config;
use crate::periodic;

/// Events looked at by the analyzers: the last quarter of an hour.
const EVENT_WINDOW_MS: i64 = 15 * 60_000;

/// Connects to the cluster and starts the watchers and the report job.
pub async fn start(
    cfg: &Config,
    append: Arc<dyn Append>,
    read: Arc<dyn Read>,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    stop: signal::Receiver<bool>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let settings = cfg.kubernetes.settings();
    let c = client(&settings).await?;
    let cluster = Arc::new(Cluster::new(append.clone()));
    let mut tasks = watch(
        c.clone(),
        &settings,
        cluster.clone(),
        clock.clone(),
        stop.clone(),
    )
    .await;
    info!("watching the cluster's objects and events");
    let every = cfg.kubernetes.scrape_interval.ms();
    if cfg.kubernetes.scrape_kubelets {
        tasks.push(tokio::spawn(kubelet::run(
            cluster.clone(),
            c,
            append.clone(),
            clock.clone(),
            metrics.clone(),
            every,
            stop.clone(),
        )));
    }
    if cfg.kubernetes.discover_targets {
        let http = kubepulse_ingest::http_client().map_err(anyhow::Error::msg)?;
        tasks.push(tokio::spawn(discover::run(
            cluster.clone(),
            http,
            append.clone(),
            clock.clone(),
            metrics,
            every,
            stop.clone(),
        )));
    }
    let job = Report {
        cluster,
        append,
        read,
        clock,
        written: Mutex::new(HashSet::new()),
    };
    tasks.push(tokio::spawn(periodic::every(
        Arc::new(job),
        Duration::from_millis(cfg.kubernetes.interval.ms() as u64),
        stop,
    )));
    Ok(tasks)
}

/// Writes the object series and the findings.
pub struct Report {
    cluster: Arc<Cluster>,
    append: Arc<dyn Append>,
    read: Arc<dyn Read>,
    clock: Arc<dyn Clock>,
    /// The series of the last report.
    written: Mutex<HashSet<Vec<(String, String)>>>,
}

/// The findings about every object, from its state and the recent events about it.
pub fn findings(objects: &[kubepulse_model::ObjectState], events: &[K8sEvent]) -> Vec<Finding> {
    let mut by_object: HashMap<(&str, &str, &str), Vec<&K8sEvent>> = HashMap::new();
    for e in events {
        let o = &e.involved_object;
        by_object
            .entry((o.kind.as_str(), o.namespace.as_str(), o.name.as_str()))
            .or_default()
            .push(e);
    }
    let none = Vec::new();
    objects
        .iter()
        .flat_map(|s| {
            let o = &s.object;
            let evs = by_object
                .get(&(o.kind.as_str(), o.namespace.as_str(), o.name.as_str()))
                .unwrap_or(&none);
            analyze(s, evs)
        })
        .collect()
}

impl periodic::Job for Report {
    fn name(&self) -> &'static str {
        "cluster report"
    }

    fn run(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let objects = self.cluster.objects();
        if objects.is_empty() {
            return Ok(());
        }
        let events = self.read.events(&EventQuery {
            start: now - EVENT_WINDOW_MS,
            end: now,
            limit: 100_000,
            ..EventQuery::default()
        })?;
        let found = findings(&objects, &events);
        let mut table = series::Table::default();
        series::objects(&mut table, &objects);
        series::findings(&mut table, &found);
        let mut written = self
            .written
            .lock()
            .map_err(|_| anyhow::anyhow!("cluster report state poisoned"))?;
        table.write(self.append.as_ref(), now, &mut written)?;
        debug!(
            objects = objects.len(),
            findings = found.len(),
            "cluster report"
        );
        Ok(())
    }
}
