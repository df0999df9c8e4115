//! Log template mining at ingest. Every log line the store accepts is given a template by the
//! online parser ([`kubepulse_intel::templates`]); lines are counted per template, level and
//! stream (namespace, pod, container), and every interval the counts are written as
//! `kubepulse_log_template_lines_total{template_id, level, namespace, pod, container}` counters,
//! and new templates, error bursts and templates that stop are recorded as events
//! ([`watch`]). The parser's state is saved in the data directory, so template ids keep their
//! meaning across restarts. `/api/v1/log_templates` lists templates by namespace, workload or
//! pod.
//!
//! Mining wraps the store's write side: [`LogMining`] is an [`Append`] that passes everything
//! through and mines the log lines the store accepted.

mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kubepulse_api::templates::{TemplateFilter, TemplateService, TemplateView};
use kubepulse_intel::templates::{Drain, Settings, Snapshot};
use kubepulse_model::{Clock, K8sEvent, LogRecord, MetricMeta, ObjectState, Severity};
use kubepulse_store::{Append, AppendReport, SeriesRef, SeriesWrite, StoreError};
use tracing::{info, warn};

/// The counter series.
pub const LINES: &str = "kubepulse_log_template_lines_total";
/// A stream's counters not updated for this long are forgotten (ms).
const IDLE_MS: i64 = 3_600_000;

/// The labels of one counter series.
type CounterLabels<'a> = [(&'a str, &'a str); 6];

/// What a line is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    template: u32,
    level: Severity,
    namespace: String,
    pod: String,
    container: String,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    total: u64,
    last_t: i64,
}

/// The mining state.
struct State {
    drain: Drain,
    counts: HashMap<Key, Count>,
    watch: watch::Watch,
}

/// The store's write side with template mining on log lines.
pub struct LogMining {
    inner: Arc<dyn Append>,
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    state_file: PathBuf,
}

impl LogMining {
    /// Wraps `inner`; the parser continues from `state_file` when it holds a saved state.
    pub fn new(inner: Arc<dyn Append>, clock: Arc<dyn Clock>, state_file: PathBuf) -> Self {
        let drain = match crate::state_file::load::<Snapshot>(&state_file) {
            Ok(Some(snap)) => match Drain::restore(Settings::default(), &snap) {
                Some(d) => {
                    info!(templates = d.len(), "log templates restored");
                    d
                }
                None => {
                    warn!(file = %state_file.display(), "saved log templates are inconsistent: starting afresh");
                    Drain::new(Settings::default())
                }
            },
            Ok(None) => Drain::new(Settings::default()),
            Err(e) => {
                warn!(error = %e, "log templates not restored: starting afresh");
                Drain::new(Settings::default())
            }
        };
        let now = clock.now_ms();
        Self {
            inner,
            state: Mutex::new(State {
                watch: watch::Watch::new(now),
                drain,
                counts: HashMap::new(),
            }),
            clock,
            state_file,
        }
    }

    fn mine(&self, records: &[LogRecord]) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let State {
            drain,
            counts,
            watch,
        } = &mut *s;
        for r in records {
            let fresh = drain.len();
            let added = drain.add(&r.body);
            let id = drain.resolve(added);
            let t_ms = r.t_ns.div_euclid(1_000_000);
            let key = Key {
                template: id,
                level: r.severity,
                namespace: r.labels.get("namespace").unwrap_or("").to_string(),
                pod: r
                    .labels
                    .get("pod")
                    .or_else(|| r.labels.get("service_name"))
                    .unwrap_or("")
                    .to_string(),
                container: r.labels.get("container").unwrap_or("").to_string(),
            };
            let new = id as usize >= fresh;
            watch.line(&key, t_ms, new, || drain.text(id).unwrap_or_default());
            let c = counts.entry(key).or_insert(Count {
                total: 0,
                last_t: t_ms,
            });
            c.total += 1;
            c.last_t = c.last_t.max(t_ms);
        }
    }

    /// Writes the counters and the events of the interval ending now.
    pub fn tick(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let (rows, events) = {
            let mut s = self
                .state
                .lock()
                .map_err(|_| anyhow::anyhow!("log mining state poisoned"))?;
            s.counts.retain(|_, c| c.last_t >= now - IDLE_MS);
            let rows: Vec<(Key, u64)> =
                s.counts.iter().map(|(k, c)| (k.clone(), c.total)).collect();
            let State { drain, watch, .. } = &mut *s;
            let events = watch.tick(now, |id| drain.text(id).unwrap_or_default());
            (rows, events)
        };
        let ids: Vec<String> = rows.iter().map(|(k, _)| k.template.to_string()).collect();
        let owned: Vec<(CounterLabels<'_>, [(i64, f64); 1])> = rows
            .iter()
            .zip(&ids)
            .map(|((k, total), id)| {
                (
                    [
                        ("__name__", LINES),
                        ("container", k.container.as_str()),
                        ("level", k.level.as_str()),
                        ("namespace", k.namespace.as_str()),
                        ("pod", k.pod.as_str()),
                        ("template_id", id.as_str()),
                    ],
                    [(now, *total as f64)],
                )
            })
            .collect();
        let batch: Vec<SeriesWrite<'_>> = owned
            .iter()
            .map(|(labels, samples)| SeriesWrite { labels, samples })
            .collect();
        if !batch.is_empty() {
            self.inner.append(&batch)?;
        }
        if !events.is_empty() {
            self.inner.append_events(&events)?;
        }
        Ok(())
    }

    /// Saves the parser's state.
    pub fn save(&self) -> anyhow::Result<()> {
        let snap = self
            .state
            .lock()
            .map_err(|_| anyhow::anyhow!("log mining state poisoned"))?
            .drain
            .snapshot();
        crate::state_file::save(&self.state_file, &snap)
    }
}

impl Append for LogMining {
    fn append(&self, batch: &[SeriesWrite<'_>]) -> Result<AppendReport, StoreError> {
        self.inner.append(batch)
    }

    fn resolve(&self, labels: &[(&str, &str)]) -> Result<SeriesRef, StoreError> {
        self.inner.resolve(labels)
    }

    fn append_refs(&self, samples: &[(SeriesRef, i64, f64)]) -> Result<AppendReport, StoreError> {
        self.inner.append_refs(samples)
    }

    fn append_events(&self, events: &[K8sEvent]) -> Result<(), StoreError> {
        self.inner.append_events(events)
    }

    fn append_objects(&self, states: &[ObjectState]) -> Result<(), StoreError> {
        self.inner.append_objects(states)
    }

    fn append_metadata(&self, entries: &[(String, MetricMeta)]) {
        self.inner.append_metadata(entries);
    }

    fn append_logs(&self, records: &[LogRecord]) -> Result<(), StoreError> {
        self.inner.append_logs(records)?;
        self.mine(records);
        Ok(())
    }
}

/// Whether `pod` belongs to workload `w` (`cart` or `deployment/cart`), by its name.
fn in_workload(pod: &str, w: &str) -> bool {
    let full = kubepulse_intel::recommend::Subject {
        namespace: String::new(),
        name: pod.to_string(),
    }
    .workload();
    full == w || full.split_once('/').is_some_and(|(_, name)| name == w)
}

impl TemplateService for LogMining {
    fn templates(&self, f: &TemplateFilter) -> Vec<TemplateView> {
        let Ok(s) = self.state.lock() else {
            return Vec::new();
        };
        let mut by: BTreeMap<u32, TemplateView> = BTreeMap::new();
        for (k, c) in &s.counts {
            let keep = f.namespace.as_deref().is_none_or(|n| n == k.namespace)
                && f.pod.as_deref().is_none_or(|p| p == k.pod)
                && f.workload.as_deref().is_none_or(|w| in_workload(&k.pod, w));
            if !keep {
                continue;
            }
            let v = by.entry(k.template).or_insert_with(|| TemplateView {
                id: k.template,
                template: s.drain.text(k.template).unwrap_or_default(),
                lines: 0,
                levels: BTreeMap::new(),
                first_seen: s.watch.first_seen(k.template).unwrap_or(c.last_t),
                last_seen: c.last_t,
            });
            v.lines += c.total;
            *v.levels.entry(k.level.as_str().to_string()).or_default() += c.total;
            v.last_seen = v.last_seen.max(c.last_t);
        }
        let mut out: Vec<TemplateView> = by.into_values().collect();
        out.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.id.cmp(&b.id)));
        out
    }
}

impl crate::periodic::Job for LogMining {
    fn name(&self) -> &'static str {
        "log template counting"
    }

    fn run(&self) -> anyhow::Result<()> {
        self.tick()
    }

    fn save(&self) -> anyhow::Result<()> {
        LogMining::save(self)
    }
}

#[cfg(test)]
mod tests;
