//! Runs a simulation into memory and answers simple questions about its output.

use std::collections::HashMap;
use std::sync::Arc;

use kubepulse_model::{K8sEvent, Labels, LogRecord, ObjectState, Span};
use kubepulse_sim::emit::SeriesDef;
use kubepulse_sim::{FailureRecord, FailureType, Scenario, SimConfig, Simulator, Truth};

/// A quiet cluster: no random chaos, no look-alikes, no routine rollouts.
pub fn quiet(nodes: u32, pods: u32) -> SimConfig {
    SimConfig {
        nodes,
        pods,
        chaos_per_hour: 0.0,
        lookalikes: false,
        rollouts_per_day: 0.0,
        ..SimConfig::default()
    }
}

/// Everything a run produced.
pub struct Run {
    pub start: i64,
    pub defs: HashMap<u32, Arc<SeriesDef>>,
    pub samples: HashMap<u32, Vec<(i64, f64)>>,
    pub events: Vec<K8sEvent>,
    pub logs: Vec<LogRecord>,
    pub spans: Vec<Span>,
    pub objects: Vec<ObjectState>,
    pub truth: Truth,
    pub sim: Simulator,
}

impl Run {
    /// Runs `cfg` with the scenario text for `minutes` of simulated time.
    pub fn new(cfg: SimConfig, scenario: Option<&str>, minutes: i64) -> Self {
        let sc = scenario.map(|s| Scenario::parse("test.yaml", s).expect("scenario parses"));
        let sim = Simulator::new(cfg, sc.as_ref(), None).expect("simulator starts");
        let step = sim.config().step.ms();
        let start = sim.now() + step;
        let mut run = Run {
            start,
            defs: HashMap::new(),
            samples: HashMap::new(),
            events: Vec::new(),
            logs: Vec::new(),
            spans: Vec::new(),
            objects: Vec::new(),
            truth: Truth::default(),
            sim,
        };
        for _ in 0..(minutes * 60_000 / step) {
            let b = run.sim.step();
            for d in b.new_series {
                run.defs.insert(d.id, d);
            }
            for (id, v) in b.samples {
                run.samples.entry(id).or_default().push((b.t, v));
            }
            run.events.extend(b.events);
            run.logs.extend(b.logs);
            run.spans.extend(b.spans);
            run.objects.extend(b.objects);
        }
        run.truth = run.sim.truth().clone();
        run
    }

    /// Minutes after the start of the run.
    pub fn at(&self, minutes: f64) -> i64 {
        self.start + (minutes * 60_000.0) as i64
    }

    /// Series named `name` whose labels include every pair of `matchers`.
    pub fn select(
        &self,
        name: &str,
        matchers: &[(&str, &str)],
    ) -> Vec<(&Labels, &Vec<(i64, f64)>)> {
        let mut out: Vec<(&Labels, &Vec<(i64, f64)>)> = self
            .defs
            .values()
            .filter(|d| {
                d.labels.metric_name() == Some(name)
                    && matchers.iter().all(|(k, v)| d.labels.get(k) == Some(*v))
            })
            .filter_map(|d| self.samples.get(&d.id).map(|s| (&d.labels, s)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// Values of the series named `name` for `pod`, concatenated over container restarts.
    pub fn pod_values(&self, name: &str, pod: &str) -> Vec<(i64, f64)> {
        let mut v: Vec<(i64, f64)> = self
            .select(name, &[("pod", pod)])
            .into_iter()
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }

    /// Mean request latency of `service` between `from` and `to`, from the histogram's sum and
    /// count, as `rate(sum) / rate(count)` would give it.
    pub fn mean_latency(&self, service: &str, from: i64, to: i64) -> f64 {
        let growth = |name: &str| -> f64 {
            self.select(name, &[("service", service)])
                .iter()
                .map(|(_, s)| value_at(s, to).unwrap_or(0.0) - value_at(s, from).unwrap_or(0.0))
                .sum()
        };
        growth("http_request_duration_seconds_sum") / growth("http_request_duration_seconds_count")
    }

    /// Events with `reason`.
    pub fn events(&self, reason: &str) -> Vec<&K8sEvent> {
        self.events.iter().filter(|e| e.reason == reason).collect()
    }
}

/// The value of `series` at the last sample at or before `t`.
pub fn value_at(series: &[(i64, f64)], t: i64) -> Option<f64> {
    series
        .iter()
        .take_while(|(ts, _)| *ts <= t)
        .last()
        .map(|(_, v)| *v)
}

/// A scenario with one fault of `kind` at 20 minutes.
pub fn scenario(kind: &str, target: &str, severity: f64, duration: &str) -> String {
    format!(
        "faults:\n  - kind: {kind}\n    at: 20m\n    target: {{{target}}}\n    severity: {severity}\n    duration: {duration}\n"
    )
}

/// A quiet cluster of 4 nodes and 60 pods, run for 45 minutes, into which a bad build of
/// shop/recommendation rolls out at 20 minutes and is undone `duration` later.
pub fn bad_rollout_run(duration: &str) -> Run {
    Run::new(
        quiet(4, 60),
        Some(&scenario(
            "bad_rollout",
            "namespace: shop, workload: recommendation",
            0.9,
            duration,
        )),
        45,
    )
}

/// The failures of type `ty`.
pub fn only_failures_of(run: &Run, ty: FailureType) -> Vec<&FailureRecord> {
    run.truth
        .failures
        .iter()
        .filter(|f| f.failure_type == ty)
        .collect()
}
