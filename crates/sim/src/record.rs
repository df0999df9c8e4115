//! A stretch of simulated time kept in memory: every series with its samples, and the events,
//! for training, evaluation and benchmarks that read a simulated cluster without a store. The
//! container logs are kept as what a server makes of them: per pod, container and level, the
//! counter `kubepulse_log_template_lines_total` of lines so far, sampled every step.

use std::collections::BTreeMap;

use kubepulse_model::{K8sEvent, Labels, LogRecord};

use crate::Simulator;

/// What the simulator emitted over a stretch of time.
#[derive(Debug, Default)]
pub struct Recording {
    /// Every series with its samples, in time order.
    pub series: Vec<(Labels, Vec<(i64, f64)>)>,
    /// Kubernetes events, oldest first.
    pub events: Vec<K8sEvent>,
    /// First step recorded (ms).
    pub start: i64,
    /// Last step recorded (ms).
    pub end: i64,
}

/// Steps `sim` for `minutes` and keeps what it emits.
pub fn record(sim: &mut Simulator, minutes: i64) -> Recording {
    let step = sim.config().step.ms().max(1);
    let mut labels: BTreeMap<u32, Labels> = BTreeMap::new();
    let mut samples: BTreeMap<u32, Vec<(i64, f64)>> = BTreeMap::new();
    let mut events = Vec::new();
    let mut logs = LogCounts::default();
    let start = sim.now() + step;
    for _ in 0..(minutes * 60_000 / step) {
        let b = sim.step();
        events.extend(b.events);
        logs.add(&b.logs);
        logs.sample(b.t);
        for d in b.new_series {
            let pairs = d.labels.iter().map(|l| (l.name.clone(), l.value.clone()));
            // The simulator only emits valid label sets.
            if let Ok(l) = Labels::from_pairs(pairs) {
                labels.insert(d.id, l);
            }
        }
        for (id, v) in b.samples {
            samples.entry(id).or_default().push((b.t, v));
        }
    }
    let mut series: Vec<(Labels, Vec<(i64, f64)>)> = samples
        .into_iter()
        .filter_map(|(id, s)| labels.get(&id).map(|l| (l.clone(), s)))
        .collect();
    series.extend(logs.series());
    Recording {
        series,
        events,
        start,
        end: sim.now(),
    }
}

/// The name of the log line counters.
pub const LOG_LINES: &str = "kubepulse_log_template_lines_total";

/// What lines are counted under: namespace, pod, container, level.
type Stream = (String, String, String, &'static str);

/// Log lines counted per pod, container and level, as counters sampled every step.
#[derive(Debug, Default)]
pub struct LogCounts {
    totals: BTreeMap<Stream, u64>,
    samples: BTreeMap<Stream, Vec<(i64, f64)>>,
}

impl LogCounts {
    /// Counts `logs`.
    pub fn add(&mut self, logs: &[LogRecord]) {
        for r in logs {
            let l = |n: &str| r.labels.get(n).unwrap_or("").to_string();
            *self
                .totals
                .entry((
                    l("namespace"),
                    l("pod"),
                    l("container"),
                    r.severity.as_str(),
                ))
                .or_default() += 1;
        }
    }

    /// Samples every counter at `t`.
    pub fn sample(&mut self, t: i64) {
        for (k, n) in &self.totals {
            self.samples
                .entry(k.clone())
                .or_default()
                .push((t, *n as f64));
        }
    }

    /// The counters as series.
    pub fn series(self) -> Vec<(Labels, Vec<(i64, f64)>)> {
        self.samples
            .into_iter()
            .filter_map(|((ns, pod, container, level), s)| {
                let l = Labels::from_pairs([
                    ("__name__", LOG_LINES),
                    ("namespace", ns.as_str()),
                    ("pod", pod.as_str()),
                    ("container", container.as_str()),
                    ("level", level),
                ])
                .ok()?;
                Some((l, s))
            })
            .collect()
    }
}
