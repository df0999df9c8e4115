//! Container log lines: how many each pod writes per step (driven by load, errors, saturation,
//! memory pressure and a bad build's approaching crash), at which level, and the crash output a
//! dying process leaves behind.

mod templates;

use kubepulse_model::{Labels, LogRecord, Severity};

use crate::cluster::Pod;
use crate::profile::Language;
use crate::rng::SimRng;
use crate::world::World;

pub use templates::process_name;

/// Which kind of line to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Routine request or housekeeping line.
    Info,
    /// Slow request or pool pressure.
    Slow,
    /// Memory running short.
    Memory,
    /// A request or downstream call failed.
    Error,
    /// The error a broken build logs before it dies.
    Fatalish,
}

/// Stream labels of pod `p`'s container, as a log shipper attaches them.
pub fn stream_labels(w: &World, p: usize) -> Labels {
    let pod = &w.cluster.pods[p];
    let node = pod
        .node
        .map(|n| w.cluster.nodes[n].name.as_str())
        .unwrap_or("");
    let app = w.cluster.workloads[pod.workload].name.as_str();
    Labels::from_pairs([
        ("namespace", pod.namespace.as_str()),
        ("pod", pod.name.as_str()),
        ("container", pod.container.name.as_str()),
        ("node", node),
        ("app", app),
    ])
    .unwrap_or_default()
}

/// Generates this step's log lines of every running container.
pub fn generate(w: &World, volume: f64, rng: &mut SimRng, out: &mut Vec<LogRecord>) {
    if volume <= 0.0 {
        return;
    }
    let dt = w.dt();
    for &p in &w.cluster.live {
        let pod = &w.cluster.pods[p];
        if !pod.running() || !pod.node.is_some_and(|n| w.cluster.nodes[n].kubelet_up) {
            continue;
        }
        let prof = w.cluster.profile_of(p);
        let u = &pod.usage;
        let requests = u.rps * dt;
        let mem_ratio = if pod.template.limits.memory > 0.0 {
            u.working_set / pod.template.limits.memory
        } else {
            0.0
        };
        let up_for = (w.t - pod.container.started_at) as f64;
        let doom = pod
            .template
            .crash_after
            .map(|a| (up_for / a as f64).min(1.0).powi(2))
            .unwrap_or(0.0);
        let rates = [
            (
                LineKind::Info,
                (0.05 + requests * prof.logs_per_request).min(2.0),
            ),
            (LineKind::Slow, if u.rho > 0.85 { 0.8 } else { 0.002 }),
            (LineKind::Memory, if mem_ratio > 0.88 { 0.6 } else { 0.0 }),
            (LineKind::Error, (requests * u.error_ratio * 0.02).min(8.0)),
            (LineKind::Fatalish, 2.0 * doom),
        ];
        let mut labels: Option<Labels> = None;
        for (kind, rate) in rates {
            let n = rng.poisson(rate * volume);
            for _ in 0..n {
                let t_ms = w.t - w.step_ms + rng.below(w.step_ms as u64) as i64;
                let (severity, body) = templates::line(prof.language, kind, pod, w, t_ms, rng);
                let labels = labels.get_or_insert_with(|| stream_labels(w, p)).clone();
                out.push(record(t_ms, labels, severity, body));
            }
        }
    }
    out.sort_by_key(|r| r.t_ns);
}

/// A log record at `t_ms`.
pub fn record(t_ms: i64, labels: Labels, severity: Severity, body: String) -> LogRecord {
    LogRecord {
        t_ns: t_ms * 1_000_000,
        labels,
        severity,
        body,
        trace_id: String::new(),
        span_id: String::new(),
        attributes: Default::default(),
    }
}

/// The last words of a crashing process of pod `p`, added to the step's log lines.
pub fn crash_output(w: &mut World, p: usize) {
    let labels = stream_labels(w, p);
    let lang = w.cluster.profile_of(p).language;
    let pod: &Pod = &w.cluster.pods[p];
    let body = templates::crash(lang, pod);
    let t = w.t;
    w.logs.push(record(
        t,
        labels,
        if lang == Language::Go {
            Severity::Fatal
        } else {
            Severity::Error
        },
        body,
    ));
}
