//! The scraper: runs one loop per target of every job, re-reads discovery files when they
//! change, starts loops for new targets and stops (with stale markers) loops of vanished ones.

pub mod config;
pub mod discovery;
pub mod loops;
pub mod relabel;
pub mod target;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kubepulse_model::Clock;
use kubepulse_store::Append;
use tokio::sync::watch;
use tracing::{info, warn};

pub use config::{FileSdConfig, ScrapeConfig, ScrapeGlobal, StaticConfig};
use discovery::Target;
use relabel::Relabel;
use target::{TargetLoop, TargetSettings};

use crate::IngestMetrics;

/// All scrape settings.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeSettings {
    /// Defaults for every job.
    pub global: ScrapeGlobal,
    /// The jobs.
    pub scrape_configs: Vec<ScrapeConfig>,
}

impl ScrapeSettings {
    /// Checks every job; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut names = std::collections::HashSet::new();
        for (i, j) in self.scrape_configs.iter().enumerate() {
            j.validate(&self.global)
                .map_err(|(k, m)| (format!("scrape_configs[{i}].{k}"), m))?;
            if !names.insert(&j.job_name) {
                return Err((
                    format!("scrape_configs[{i}].job_name"),
                    format!("{:?} is used twice", j.job_name),
                ));
            }
        }
        Ok(())
    }
}

/// A job with its compiled relabeling and the file groups last read.
struct Job {
    cfg: ScrapeConfig,
    relabel: Vec<Relabel>,
    metric_relabel: Arc<Vec<Relabel>>,
    files: BTreeMap<PathBuf, (SystemTime, Vec<StaticConfig>)>,
}

/// Runs the scraper until `shutdown` turns true.
pub async fn run(
    settings: ScrapeSettings,
    store: Arc<dyn Append>,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut jobs: Vec<Job> = settings
        .scrape_configs
        .iter()
        .filter_map(|cfg| {
            let relabel = cfg
                .relabel_configs
                .iter()
                .cloned()
                .map(Relabel::new)
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            let metric = cfg
                .metric_relabel_configs
                .iter()
                .cloned()
                .map(Relabel::new)
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            Some(Job {
                cfg: cfg.clone(),
                relabel,
                metric_relabel: Arc::new(metric),
                files: BTreeMap::new(),
            })
        })
        .collect();
    let mut running: HashMap<(String, Target), watch::Sender<bool>> = HashMap::new();
    let refresh = settings
        .scrape_configs
        .iter()
        .flat_map(|j| j.file_sd_configs.iter().map(|f| f.refresh_interval.ms()))
        .min()
        .unwrap_or(30_000)
        .clamp(1_000, 30_000);
    loop {
        let mut wanted: HashMap<(String, Target), TargetSettings> = HashMap::new();
        for job in &mut jobs {
            reload_files(job);
            let groups: Vec<StaticConfig> =
                job.files.values().flat_map(|(_, g)| g.clone()).collect();
            let (interval, timeout) = job.cfg.timing(&settings.global);
            let s = TargetSettings {
                interval,
                timeout,
                honor_labels: job.cfg.honor_labels,
                honor_timestamps: job.cfg.honor_timestamps,
                body_size_limit: job.cfg.body_size_limit,
                sample_limit: job.cfg.sample_limit,
                metric_relabel: job.metric_relabel.clone(),
            };
            for t in discovery::targets(&job.cfg, &settings.global, &job.relabel, &groups) {
                wanted.insert((job.cfg.job_name.clone(), t), s.clone());
            }
        }
        running.retain(|key, stop| {
            let keep = wanted.contains_key(key);
            if !keep {
                info!(job = %key.0, target = %key.1.url, "target gone, stopping its scrapes");
                let _ = stop.send(true);
            }
            keep
        });
        for (key, s) in wanted {
            if running.contains_key(&key) {
                continue;
            }
            info!(job = %key.0, target = %key.1.url, "scraping new target");
            let (tx, rx) = watch::channel(false);
            let l = TargetLoop::new(
                key.1.clone(),
                s,
                store.clone(),
                client.clone(),
                clock.clone(),
                metrics.clone(),
            );
            tokio::spawn(l.run(rx));
            running.insert(key, tx);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(refresh as u64)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            for stop in running.values() {
                let _ = stop.send(true);
            }
            return;
        }
    }
}

fn reload_files(job: &mut Job) {
    let mut seen = BTreeMap::new();
    for sd in &job.cfg.file_sd_configs {
        for pattern in &sd.files {
            for path in discovery::expand(pattern) {
                let mtime = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                let groups = match job.files.get(&path) {
                    Some((t, g)) if *t == mtime => g.clone(),
                    _ => match discovery::read_file(&path) {
                        Ok(g) => g,
                        Err(e) => {
                            warn!(job = %job.cfg.job_name, error = %e, "cannot read target file, keeping its last targets");
                            job.files
                                .get(&path)
                                .map(|(_, g)| g.clone())
                                .unwrap_or_default()
                        }
                    },
                };
                seen.insert(path, (mtime, groups));
            }
        }
    }
    job.files = seen;
}
