//! The simulated cluster as a source: each simulator step goes through the same store append
//! path as real telemetry. Series get the external label `cluster`; a series that stops being
//! emitted gets a staleness marker, as a scrape would give it; events and object states are
//! stored too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubepulse_model::{Clock, MetricMeta, MetricType, STALE_NAN};
use kubepulse_sim::{Batch, Simulator};
use kubepulse_store::{Append, SeriesRef, StoreError};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::IngestMetrics;

/// Feeds simulator batches into a store.
#[derive(Debug)]
pub struct SimFeed {
    cluster: String,
    refs: Vec<Option<SeriesRef>>,
    last_seen: Vec<i64>,
    prev_t: i64,
}

/// What one step stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedReport {
    /// Samples appended.
    pub samples: u64,
    /// Staleness markers appended.
    pub stale: u64,
    /// Events stored.
    pub events: u64,
    /// Object states stored.
    pub objects: u64,
    /// Log lines stored.
    pub logs: u64,
}

impl SimFeed {
    /// A feed labelling every series with `cluster`.
    pub fn new(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
            refs: Vec::new(),
            last_seen: Vec::new(),
            prev_t: i64::MIN,
        }
    }

    /// Stores one batch.
    pub fn store(&mut self, b: &Batch, store: &dyn Append) -> Result<FeedReport, StoreError> {
        if !b.new_series.is_empty() {
            let meta: Vec<(String, MetricMeta)> = b
                .new_series
                .iter()
                .filter_map(|d| {
                    let name = d.labels.metric_name()?;
                    let family = match d.kind {
                        MetricType::Histogram | MetricType::Summary => {
                            ["_bucket", "_sum", "_count"]
                                .iter()
                                .find_map(|s| name.strip_suffix(s))
                                .unwrap_or(name)
                        }
                        _ => name,
                    };
                    Some((
                        family.to_string(),
                        MetricMeta {
                            kind: d.kind,
                            help: d.help.to_string(),
                            unit: String::new(),
                        },
                    ))
                })
                .collect();
            store.append_metadata(&meta);
        }
        for d in &b.new_series {
            let mut labels: Vec<(&str, &str)> = d
                .labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            labels.push(("cluster", self.cluster.as_str()));
            let r = store.resolve(&labels)?;
            let i = d.id as usize;
            if self.refs.len() <= i {
                self.refs.resize(i + 1, None);
                self.last_seen.resize(i + 1, i64::MIN);
            }
            self.refs[i] = Some(r);
        }
        let mut samples = Vec::with_capacity(b.samples.len());
        for &(id, v) in &b.samples {
            if let Some(Some(r)) = self.refs.get(id as usize) {
                samples.push((*r, b.t, v));
                self.last_seen[id as usize] = b.t;
            }
        }
        let mut report = FeedReport {
            samples: samples.len() as u64,
            ..FeedReport::default()
        };
        if self.prev_t != i64::MIN {
            for (i, seen) in self.last_seen.iter().enumerate() {
                if *seen == self.prev_t
                    && let Some(Some(r)) = self.refs.get(i)
                {
                    samples.push((*r, b.t, STALE_NAN));
                    report.stale += 1;
                }
            }
        }
        self.prev_t = b.t;
        store.append_refs(&samples)?;
        store.append_events(&b.events)?;
        store.append_objects(&b.objects)?;
        if !b.logs.is_empty() {
            store.append_logs(&b.logs)?;
        }
        report.logs = b.logs.len() as u64;
        report.events = b.events.len() as u64;
        report.objects = b.objects.len() as u64;
        Ok(report)
    }
}

/// Runs the simulator in real time: one step per step length of wall-clock time, stored as it
/// is produced, until `shutdown` turns true. The simulator is shared so that other parts (the
/// API) can inject faults and read its state.
pub async fn run_live(
    sim: Arc<Mutex<Simulator>>,
    store: Arc<dyn Append>,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    mut shutdown: watch::Receiver<bool>,
) {
    let (cluster, step) = match sim.lock() {
        Ok(s) => (s.config().cluster.clone(), s.config().step.ms()),
        Err(_) => return,
    };
    info!(cluster = %cluster, step_ms = step, "running the built-in simulated cluster");
    let mut feed = SimFeed::new(&cluster);
    loop {
        let next = match sim.lock() {
            Ok(s) => s.now() + step,
            Err(_) => return,
        };
        let wait = (next - clock.now_ms()).max(0) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let sim = sim.clone();
        let store = store.clone();
        let mut f = std::mem::replace(&mut feed, SimFeed::new(&cluster));
        let res = tokio::task::spawn_blocking(move || {
            let batch = match sim.lock() {
                Ok(mut s) => s.step(),
                Err(_) => return (f, Err(StoreError::Disk("simulator lock poisoned".into()))),
            };
            let r = f.store(&batch, &*store);
            (f, r)
        })
        .await;
        match res {
            Ok((f, Ok(r))) => {
                feed = f;
                metrics.samples("simulator", r.samples);
            }
            Ok((f, Err(e))) => {
                feed = f;
                warn!(error = %e, "storing a simulator step failed");
            }
            Err(e) => warn!(error = %e, "simulator step task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::ManualClock;
    use kubepulse_sim::SimConfig;
    use kubepulse_store::{Db, Matcher, Read, StoreConfig};

    #[test]
    fn simulated_series_flow_into_the_store_with_staleness() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = SimConfig {
            nodes: 3,
            pods: 40,
            chaos_per_hour: 0.0,
            ..SimConfig::default()
        };
        let mut sim = Simulator::new(cfg, None, None).unwrap();
        let db = Db::open(
            tmp.path(),
            StoreConfig::default(),
            Arc::new(ManualClock::new(sim.now())),
        )
        .unwrap()
        .0;
        let mut feed = SimFeed::new("sim");
        let mut total = 0;
        for _ in 0..8 {
            let b = sim.step();
            total += feed.store(&b, &db).unwrap().samples;
        }
        assert!(total > 10_000);
        let up = db
            .select(
                &[
                    Matcher::equal("__name__", "kube_node_info"),
                    Matcher::equal("cluster", "sim"),
                ],
                0,
                i64::MAX,
            )
            .unwrap();
        assert_eq!(up.len(), 3);
        assert_eq!(up[0].samples.len(), 8);
        assert!(!db.objects("Pod").unwrap().is_empty());
    }
}
