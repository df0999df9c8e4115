//! Live anomaly detection: every interval, each watched expression is evaluated from the store
//! and every series of its result updates its own streaming detector. Scores are written back
//! as `kubepulse_anomaly_score{signal, …}` (so rules, features and dashboards can use them),
//! anomalies become Kubernetes-style events (reason `Anomaly`) on the object the series is
//! about, and `/api/v1/anomalies` lists the current state. The detectors' state is saved in the
//! data directory every few minutes and at shutdown, so a restart does not forget what normal
//! looks like.

mod persist;
mod watches;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use kubepulse_api::anomaly::{AnomalyService, Report, SeriesAnomaly};
use kubepulse_intel::anomaly::{Detector, Reason, Score, Settings};
use kubepulse_model::{
    Clock, EventSource, EventType, K8sEvent, Labels, ObjectKind, ObjectRef, clock::Stopwatch,
};
use kubepulse_query::{Engine, QueryValue, StoreSource};
use kubepulse_store::{Append, Read, SeriesWrite};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

pub use watches::{Watch, watches};

/// The series written for every watched series.
pub const SCORE: &str = "kubepulse_anomaly_score";
/// The reason of anomaly events.
pub const EVENT_REASON: &str = "Anomaly";
/// The component anomaly events come from.
pub const COMPONENT: &str = "kubepulse-anomaly";
/// A series not seen for this long is forgotten (ms).
const STALE_MS: i64 = 3_600_000;

/// One watched series' detector and what it last said.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tracked {
    detector: Detector,
    seen: i64,
    value: f64,
    score: f64,
    reason: Reason,
    last_report: Option<Reported>,
}

/// A report, kept with the series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Reported {
    t: i64,
    reason: Reason,
    score: f64,
    value: f64,
}

/// A series: the watch's name and the series' labels.
type Key = (String, Labels);

/// Self-metrics.
#[derive(Debug, Clone, Default)]
pub struct AnomalyMetrics {
    watched: Gauge,
    skipped: Counter,
    reports: Counter,
    failed: Counter,
}

impl AnomalyMetrics {
    /// Registers the metrics.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "kubepulse_anomaly_series",
            "Series the anomaly detector watches",
            self.watched.clone(),
        );
        r.register(
            "kubepulse_anomaly_series_skipped",
            "Series left unwatched because anomaly.max_series was reached (per evaluation)",
            self.skipped.clone(),
        );
        r.register(
            "kubepulse_anomaly_reports",
            "Anomalies reported (each one an event)",
            self.reports.clone(),
        );
        r.register(
            "kubepulse_anomaly_evaluation_failures",
            "Watched expressions whose evaluation failed",
            self.failed.clone(),
        );
    }
}

/// The live detector.
pub struct Anomalies {
    watches: Vec<Watch>,
    settings: Settings,
    max_series: usize,
    engine: Engine,
    clock: Arc<dyn Clock>,
    series: Mutex<HashMap<Key, Tracked>>,
    latest: RwLock<(i64, Arc<Vec<SeriesAnomaly>>)>,
    metrics: AnomalyMetrics,
    state_file: PathBuf,
}

impl Anomalies {
    /// A detector over `watches`, its state restored from `state_file` when that holds one.
    pub fn new(
        watches: Vec<Watch>,
        max_series: usize,
        engine: Engine,
        clock: Arc<dyn Clock>,
        metrics: AnomalyMetrics,
        state_file: PathBuf,
    ) -> Self {
        let settings = Settings::default();
        let series = match persist::load(&state_file, &settings) {
            Ok(Some(s)) => {
                info!(series = s.len(), "anomaly detectors restored");
                s
            }
            Ok(None) => HashMap::new(),
            Err(e) => {
                warn!(error = %e, file = %state_file.display(), "anomaly state not restored: starting afresh");
                HashMap::new()
            }
        };
        Self {
            watches,
            settings,
            max_series,
            engine,
            clock,
            series: Mutex::new(series),
            latest: RwLock::new((0, Arc::new(Vec::new()))),
            metrics,
            state_file,
        }
    }

    /// Evaluates every watch at the clock's now, scores every series, writes the scores and
    /// the anomaly events.
    pub fn tick(&self, read: &dyn Read, append: &dyn Append) -> anyhow::Result<()> {
        let watch = Stopwatch::start();
        let now = self.clock.now_ms();
        let points = self.evaluate(read, now);
        let mut events = Vec::new();
        let mut current = Vec::with_capacity(points.len());
        {
            let mut series = self
                .series
                .lock()
                .map_err(|_| anyhow::anyhow!("anomaly state poisoned"))?;
            for (w, labels, v) in points {
                let key = (w.name.clone(), labels);
                let n = series.len();
                let t = match series.entry(key.clone()) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        if n >= self.max_series {
                            self.metrics.skipped.inc();
                            continue;
                        }
                        let d = if w.counter {
                            Detector::counter(self.settings)
                        } else {
                            Detector::new(self.settings)
                        };
                        e.insert(Tracked {
                            detector: d,
                            seen: now,
                            value: v,
                            score: 0.0,
                            reason: Reason::WarmingUp,
                            last_report: None,
                        })
                    }
                };
                let Score { score, reason } = t.detector.update(now, v);
                // What was scored: the value itself, or a counter's rate.
                let v = t.detector.last_scored().unwrap_or(v);
                (t.seen, t.value, t.score, t.reason) = (now, v, score, reason);
                if score >= self.settings.report {
                    let r = Reported {
                        t: now,
                        reason,
                        score,
                        value: v,
                    };
                    t.last_report = Some(r);
                    events.push(event(&key, &t.detector, r, events.len() as u64));
                }
                current.push(view(&key, t));
            }
            series.retain(|_, t| t.seen >= now - STALE_MS);
            self.metrics.watched.set(series.len() as i64);
        }
        self.metrics.reports.inc_by(events.len() as u64);
        write(append, &current, now)?;
        if !events.is_empty() {
            append.append_events(&events)?;
        }
        current.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.signal.cmp(&b.signal))
        });
        debug!(
            series = current.len(),
            anomalies = events.len(),
            seconds = watch.elapsed_secs(),
            "anomaly scores"
        );
        if let Ok(mut g) = self.latest.write() {
            *g = (now, Arc::new(current));
        }
        Ok(())
    }

    /// The value of every series of every watch at `now`.
    fn evaluate(&self, read: &dyn Read, now: i64) -> Vec<(&Watch, Labels, f64)> {
        let src = StoreSource(read);
        let mut out = Vec::new();
        for w in &self.watches {
            match self.engine.instant(&src, &w.expr, now) {
                Ok(r) => match r.value {
                    QueryValue::Vector(v) => {
                        out.extend(v.into_iter().map(|s| (w, s.labels, s.v)));
                    }
                    QueryValue::Scalar(_, v) => out.push((w, Labels::empty(), v)),
                    QueryValue::Matrix(_) | QueryValue::String(..) => {
                        self.metrics.failed.inc();
                        debug!(watch = %w.name, "the expression is not an instant vector or a scalar");
                    }
                },
                Err(e) => {
                    self.metrics.failed.inc();
                    debug!(watch = %w.name, error = %e, "watched expression failed");
                }
            }
        }
        out
    }

    /// Saves the detectors' state.
    pub fn save(&self) -> anyhow::Result<()> {
        let snapshot: Vec<(Key, Tracked)> = {
            let series = self
                .series
                .lock()
                .map_err(|_| anyhow::anyhow!("anomaly state poisoned"))?;
            series.iter().map(|(k, t)| (k.clone(), t.clone())).collect()
        };
        persist::save(&self.state_file, &self.settings, &snapshot)
    }
}

impl AnomalyService for Anomalies {
    fn current(&self) -> (i64, Arc<Vec<SeriesAnomaly>>) {
        self.latest
            .read()
            .map(|g| (g.0, g.1.clone()))
            .unwrap_or_else(|_| (0, Arc::new(Vec::new())))
    }
}

/// What the API shows of a series.
fn view(key: &Key, t: &Tracked) -> SeriesAnomaly {
    let (usual, spread) = t.detector.usual();
    SeriesAnomaly {
        signal: key.0.clone(),
        labels: key
            .1
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect::<BTreeMap<_, _>>(),
        value: t.value,
        score: t.score,
        reason: t.reason,
        usual,
        spread,
        warming_up: t.detector.warming_up(),
        last_report: t.last_report.map(|r| Report {
            t: r.t,
            reason: r.reason,
            score: r.score,
            value: r.value,
        }),
    }
}

/// The object a series is about: its pod, node or service, or else the watch itself.
fn involved(key: &Key) -> ObjectRef {
    let l = &key.1;
    let ns = l.get("namespace").unwrap_or("");
    if let Some(pod) = l.get("pod") {
        ObjectRef::new(ObjectKind::Pod, ns, pod)
    } else if let Some(svc) = l.get("service") {
        ObjectRef::new(ObjectKind::Service, ns, svc)
    } else if let Some(node) = l.get("node") {
        ObjectRef::new(ObjectKind::Node, "", node)
    } else {
        ObjectRef {
            kind: "Metric".into(),
            namespace: ns.to_string(),
            name: key.0.clone(),
            uid: String::new(),
        }
    }
}

/// The event recording an anomaly.
fn event(key: &Key, d: &Detector, r: Reported, n: u64) -> K8sEvent {
    let (usual, spread) = d.usual();
    let what = match r.reason {
        Reason::Spike => "spike",
        Reason::NewLevel => "at a level not seen in the last week or two",
        Reason::LevelShift => "level shift",
        Reason::SeasonalDeviation => "unusual for the time of day or week",
        Reason::Flatline => "flatline (stopped changing)",
        Reason::WarmingUp | Reason::Normal => "anomaly",
    };
    let series = key
        .1
        .iter()
        .filter(|l| l.name != "__name__")
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "{} {{{series}}}: {what}, value {} where {} ± {} is usual (anomaly score {:.2})",
        key.0,
        num(r.value),
        num(usual),
        num(spread),
        r.score
    );
    let suffix = (r.t as u64) << 12 | (n & 0xfff);
    K8sEvent::new(
        involved(key),
        EventType::Warning,
        EVENT_REASON,
        message,
        EventSource {
            component: COMPONENT.into(),
            host: String::new(),
        },
        r.t,
        suffix,
    )
}

/// A number with four significant digits.
fn num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{v:.digits$}")
}

/// A series' labels, borrowed.
type Borrowed<'a> = Vec<(&'a str, &'a str)>;

/// Writes every series' score at `t`.
fn write(append: &dyn Append, current: &[SeriesAnomaly], t: i64) -> anyhow::Result<()> {
    let owned: Vec<(Borrowed<'_>, [(i64, f64); 1])> = current
        .iter()
        .map(|a| {
            let mut labels: Borrowed<'_> = vec![("__name__", SCORE), ("signal", a.signal.as_str())];
            labels.extend(
                a.labels
                    .iter()
                    .filter(|(k, _)| *k != "__name__" && *k != "signal")
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
            labels.sort_unstable();
            (labels, [(t, a.score)])
        })
        .collect();
    let batch: Vec<SeriesWrite<'_>> = owned
        .iter()
        .map(|(labels, samples)| SeriesWrite { labels, samples })
        .collect();
    append.append(&batch)?;
    Ok(())
}

/// The live detector with the store it reads and writes, as a periodic job.
pub struct Scoring {
    /// The detector.
    pub anomalies: Arc<Anomalies>,
    /// Where watched series are read.
    pub read: Arc<dyn Read>,
    /// Where scores and events are written.
    pub append: Arc<dyn Append>,
}

impl crate::periodic::Job for Scoring {
    fn name(&self) -> &'static str {
        "anomaly scoring"
    }

    fn run(&self) -> anyhow::Result<()> {
        self.anomalies
            .tick(self.read.as_ref(), self.append.as_ref())
    }

    fn save(&self) -> anyhow::Result<()> {
        self.anomalies.save()
    }
}

#[cfg(test)]
mod tests;
