//! The mutable context every part of a simulation step works on: the cluster, the current time,
//! the ground truth, and the outbox of events and log lines the step produced.

use std::collections::HashMap;

use kubepulse_model::{EventSource, EventType, K8sEvent, LogRecord, ObjectKind, ObjectRef};

use crate::cluster::Cluster;
use crate::rng::SimRng;
use crate::truth::{FailureRecord, FailureType, Truth};

/// Kubernetes' event correlator merges repeats of the same event seen within this window.
const EVENT_MERGE_WINDOW_MS: i64 = 10 * 60_000;

/// Everything a step works on.
#[derive(Debug)]
pub struct World {
    /// The cluster.
    pub cluster: Cluster,
    /// Current simulated time, epoch milliseconds.
    pub t: i64,
    /// Step length, milliseconds.
    pub step_ms: i64,
    /// Stream for structural choices (names, ids, placements).
    pub rng: SimRng,
    /// Ground truth so far.
    pub truth: Truth,
    /// Events produced this step.
    pub events: Vec<K8sEvent>,
    /// Log lines produced this step outside the per-pod log generator (crash output, node logs).
    pub logs: Vec<LogRecord>,
    /// Failures recorded this step (also appended to `truth`).
    pub new_failures: Vec<FailureRecord>,
    /// True while the cluster is being warmed up: nothing is reported.
    pub quiet: bool,
    seen_events: HashMap<u64, SeenEvent>,
}

#[derive(Debug, Clone, Copy)]
struct SeenEvent {
    first: i64,
    last: i64,
    count: u32,
    suffix: u64,
}

impl World {
    /// A world at time `t`.
    pub fn new(cluster: Cluster, t: i64, step_ms: i64, rng: SimRng) -> Self {
        Self {
            cluster,
            t,
            step_ms,
            rng,
            truth: Truth::default(),
            events: Vec::new(),
            logs: Vec::new(),
            new_failures: Vec::new(),
            quiet: false,
            seen_events: HashMap::new(),
        }
    }

    /// Step length in seconds.
    pub fn dt(&self) -> f64 {
        self.step_ms as f64 / 1000.0
    }

    /// Reference to pod `p`.
    pub fn pod_ref(&self, p: usize) -> ObjectRef {
        let pod = &self.cluster.pods[p];
        ObjectRef::new(ObjectKind::Pod, &pod.namespace, &pod.name).with_uid(&pod.uid)
    }

    /// Reference to node `n`.
    pub fn node_ref(&self, n: usize) -> ObjectRef {
        let node = &self.cluster.nodes[n];
        ObjectRef::new(ObjectKind::Node, "", &node.name).with_uid(&node.uid)
    }

    /// Reference to workload `w`.
    pub fn workload_ref(&self, w: usize) -> ObjectRef {
        let wl = &self.cluster.workloads[w];
        ObjectRef::new(wl.kind.object_kind(), &wl.namespace, &wl.name).with_uid(&wl.uid)
    }

    /// Reference to service `s`.
    pub fn service_ref(&self, s: usize) -> ObjectRef {
        let svc = &self.cluster.services[s];
        ObjectRef::new(ObjectKind::Service, &svc.namespace, &svc.name).with_uid(&svc.uid)
    }

    /// Records a Kubernetes event, merging repeats the way the API server's correlator does
    /// (same object, reason and message within ten minutes of the last one: `count` goes up and
    /// the event keeps its name).
    pub fn event(
        &mut self,
        involved: ObjectRef,
        event_type: EventType,
        reason: &str,
        message: String,
        component: &str,
        host: &str,
    ) {
        if self.quiet {
            return;
        }
        let key = event_key(&involved, reason, &message);
        let source = EventSource {
            component: component.into(),
            host: host.into(),
        };
        let t = self.t;
        let seen = match self.seen_events.get(&key) {
            Some(s) if t - s.last <= EVENT_MERGE_WINDOW_MS => SeenEvent {
                first: s.first,
                last: t,
                count: s.count + 1,
                suffix: s.suffix,
            },
            _ => SeenEvent {
                first: t,
                last: t,
                count: 1,
                suffix: self.rng.next_u64() >> 4,
            },
        };
        let mut ev = K8sEvent::new(
            involved,
            event_type,
            reason,
            message,
            source,
            t,
            seen.suffix,
        );
        ev.first_timestamp = seen.first;
        ev.count = seen.count;
        self.seen_events.insert(key, seen);
        self.events.push(ev);
    }

    /// Forgets events older than the correlator's window, so long runs stay bounded.
    pub fn prune_events(&mut self) {
        let t = self.t;
        self.seen_events
            .retain(|_, s| t - s.last <= EVENT_MERGE_WINDOW_MS);
    }

    /// Records a failure of `object`, blaming the fault whose scope holds it or one of `related`.
    pub fn fail(
        &mut self,
        object: ObjectRef,
        related: &[ObjectRef],
        failure_type: FailureType,
        reason: &str,
        detail: String,
    ) {
        if self.quiet {
            return;
        }
        let fault = self.truth.blame(self.t, &object, related);
        let rec = FailureRecord {
            t: self.t,
            failure_type,
            reason: reason.into(),
            object,
            fault,
            detail,
            until: None,
        };
        self.truth.failures.push(rec.clone());
        self.new_failures.push(rec);
    }

    /// Records the failure of `object` that a fault ending now averted, had it come `after`
    /// ms from now; projections further than an hour ahead are not kept.
    pub fn averted(
        &mut self,
        object: ObjectRef,
        failure_type: FailureType,
        after: f64,
        detail: &str,
    ) {
        if self.quiet || !(0.0..=3_600_000.0).contains(&after) {
            return;
        }
        let fault = self.truth.blame(self.t, &object, &[]);
        self.truth.averted.push(FailureRecord {
            t: self.t + after as i64,
            failure_type,
            reason: "Averted".into(),
            object,
            fault,
            detail: detail.into(),
            until: None,
        });
    }
}

fn event_key(o: &ObjectRef, reason: &str, message: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [o.uid.as_str(), o.name.as_str(), reason, message] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
