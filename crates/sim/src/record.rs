//! A stretch of simulated time kept in memory: every series with its samples, and the events,
//! for training, evaluation and benchmarks that read a simulated cluster without a store.

use std::collections::BTreeMap;

use kubepulse_model::{K8sEvent, Labels};

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
    let start = sim.now() + step;
    for _ in 0..(minutes * 60_000 / step) {
        let b = sim.step();
        events.extend(b.events);
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
    let series = samples
        .into_iter()
        .filter_map(|(id, s)| labels.get(&id).map(|l| (l.clone(), s)))
        .collect();
    Recording {
        series,
        events,
        start,
        end: sim.now(),
    }
}
