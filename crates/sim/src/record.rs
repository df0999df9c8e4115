//! A stretch of simulated time kept in memory: every series with its samples, and the events,
//! for training, evaluation and benchmarks that read a simulated cluster without a store. The
//! container logs are kept as what a server makes of them: per pod, container and level, the
//! counter `kubepulse_log_template_lines_total` of lines so far, sampled every step.

use std::collections::BTreeMap;

use kubepulse_model::{K8sEvent, Labels, LogRecord, STALE_NAN};

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
    let mut steps = Vec::new();
    for _ in 0..(minutes * 60_000 / step) {
        let b = sim.step();
        steps.push(b.t);
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
        .filter_map(|(id, mut s)| {
            mark_stale(&mut s, &steps);
            labels.get(&id).map(|l| (l.clone(), s))
        })
        .collect();
    series.extend(logs.series());
    Recording {
        series,
        events,
        start,
        end: sim.now(),
    }
}

/// Marks `samples` stale at the first of `steps` (sorted) at which the series was not emitted
/// after being emitted at the step before, as a server does when a simulated series stops (and a
/// scrape when a target's series goes away): without the marker an old container's series would
/// still answer for the 5-minute lookback, offline only.
pub fn mark_stale(samples: &mut Vec<(i64, f64)>, steps: &[i64]) {
    let mut out = Vec::with_capacity(samples.len() + 1);
    let mut next = samples.iter().peekable();
    let mut seen_before = false;
    for &t in steps {
        while next.peek().is_some_and(|s| s.0 < t) {
            if let Some(s) = next.next() {
                out.push(*s);
            }
        }
        match next.peek() {
            Some(s) if s.0 == t => {
                out.push(**s);
                next.next();
                seen_before = true;
            }
            _ => {
                if seen_before {
                    out.push((t, STALE_NAN));
                }
                seen_before = false;
            }
        }
    }
    out.extend(next.copied());
    *samples = out;
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

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::is_stale_nan;

    #[test]
    fn a_series_that_stops_is_marked_stale_at_the_next_step() {
        let steps = [10, 20, 30, 40, 50, 60];
        let mut s = vec![(10, 1.0), (20, 2.0), (40, 4.0)];
        mark_stale(&mut s, &steps);
        let shape: Vec<(i64, Option<f64>)> = s
            .iter()
            .map(|&(t, v)| (t, (!is_stale_nan(v)).then_some(v)))
            .collect();
        assert_eq!(
            shape,
            vec![
                (10, Some(1.0)),
                (20, Some(2.0)),
                (30, None),
                (40, Some(4.0)),
                (50, None)
            ]
        );
        let mut whole = vec![(10, 1.0), (20, 1.0)];
        mark_stale(&mut whole, &[10, 20]);
        assert_eq!(whole.len(), 2, "a series emitted to the end has no marker");
    }
}
