//! Ground truth: every injected fault, every failure a user would see, and every harmless
//! look-alike, with time, target object and type. Written to `labels.json` in datasets.

use kubepulse_model::ObjectRef;
use serde::{Deserialize, Serialize};

use crate::faults::FaultKind;

/// The type of a failure, as the failure model classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureType {
    /// A container was OOM-killed.
    Oom,
    /// A container entered CrashLoopBackOff.
    CrashLoop,
    /// A pod stopped answering its probes, or a service its SLO, because CPU ran out.
    CpuSaturation,
    /// A node reported DiskPressure, or a pod was evicted for it.
    DiskPressure,
    /// A node became NotReady.
    NodeFailure,
    /// A service breached its SLO because of latency or loss on the network.
    NetworkDegradation,
    /// A pod could not be scheduled.
    Unschedulable,
    /// A service breached its SLO because something it calls failed.
    DependencyFailure,
    /// An image could not be pulled.
    ImagePull,
}

impl FailureType {
    /// Every type, in a fixed order.
    pub const ALL: [FailureType; 9] = [
        Self::Oom,
        Self::CrashLoop,
        Self::CpuSaturation,
        Self::DiskPressure,
        Self::NodeFailure,
        Self::NetworkDegradation,
        Self::Unschedulable,
        Self::DependencyFailure,
        Self::ImagePull,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Oom => "oom",
            Self::CrashLoop => "crash_loop",
            Self::CpuSaturation => "cpu_saturation",
            Self::DiskPressure => "disk_pressure",
            Self::NodeFailure => "node_failure",
            Self::NetworkDegradation => "network_degradation",
            Self::Unschedulable => "unschedulable",
            Self::DependencyFailure => "dependency_failure",
            Self::ImagePull => "image_pull",
        }
    }
}

/// An injected fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// Fault id, unique within a run.
    pub id: u32,
    /// Kind.
    pub kind: FaultKind,
    /// The object it was injected into.
    pub target: ObjectRef,
    /// Start, epoch milliseconds.
    pub start: i64,
    /// End, when it ended or was cleared.
    pub end: Option<i64>,
    /// Severity in [0, 1].
    pub severity: f64,
    /// Objects the fault acts on directly (pods of a workload, a node, a service).
    pub scope: Vec<ObjectRef>,
    /// Human-readable detail (rates, sizes).
    pub detail: String,
}

/// A failure a user would see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// When it became visible, epoch milliseconds.
    pub t: i64,
    /// Type.
    #[serde(rename = "type")]
    pub failure_type: FailureType,
    /// The Kubernetes-visible reason (`OOMKilled`, `CrashLoopBackOff`, `NodeNotReady`, …).
    pub reason: String,
    /// The failing object.
    pub object: ObjectRef,
    /// The fault that caused it, when one did.
    pub fault: Option<u32>,
    /// Human-readable detail.
    pub detail: String,
    /// When the object was last seen in the state the failure put it in, when that lasted: a
    /// crash loop lasts while its container keeps crashing and backing off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// The kinds of harmless look-alikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookalikeKind {
    /// A cache that grows and plateaus below the memory limit.
    CacheGrowth,
    /// A load spike that passes.
    LoadSpike,
    /// A routine rollout that replaces pods.
    Rollout,
    /// Disk use that grows and is then rotated away.
    DiskGrowth,
    /// A CPU-heavy batch job that finishes.
    BatchCpu,
}

/// A harmless look-alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookalikeRecord {
    /// Kind.
    pub kind: LookalikeKind,
    /// Object affected.
    pub target: ObjectRef,
    /// Start.
    pub start: i64,
    /// Planned end.
    pub end: i64,
}

/// All ground truth of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Injected faults.
    pub faults: Vec<FaultRecord>,
    /// Failures.
    pub failures: Vec<FailureRecord>,
    /// Harmless look-alikes.
    pub lookalikes: Vec<LookalikeRecord>,
    /// Failures that were coming when the fault causing them ended, at the time they would
    /// have come had the fault gone on and the load stayed as it was: a leaking container's
    /// working set meeting its memory limit, a disk reaching the eviction threshold at its
    /// fill rate, a broken build's next exit making a crash loop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub averted: Vec<FailureRecord>,
}

/// How long after its end a fault is still blamed for failures it set in motion.
const BLAME_AFTER_END_MS: i64 = 15 * 60_000;

impl Truth {
    /// The id of the fault to blame for a failure of `object` at `t`: the latest fault, active or
    /// recently ended, whose scope contains `object` or one of `related`.
    pub fn blame(&self, t: i64, object: &ObjectRef, related: &[ObjectRef]) -> Option<u32> {
        self.faults
            .iter()
            .rev()
            .filter(|f| f.start <= t && f.end.is_none_or(|e| t <= e + BLAME_AFTER_END_MS))
            .find(|f| {
                f.scope
                    .iter()
                    .any(|s| s.same_object(object) || related.iter().any(|r| s.same_object(r)))
            })
            .map(|f| f.id)
    }

    /// The fault with `id`.
    pub fn fault(&self, id: u32) -> Option<&FaultRecord> {
        self.faults.iter().find(|f| f.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::ObjectKind;

    #[test]
    fn blame_prefers_latest_matching_fault_in_time() {
        let pod = ObjectRef::new(ObjectKind::Pod, "shop", "cart-1");
        let node = ObjectRef::new(ObjectKind::Node, "", "node-1");
        let mut t = Truth::default();
        let rec = |id, scope: Vec<ObjectRef>, start, end| FaultRecord {
            id,
            kind: FaultKind::MemoryLeak,
            target: scope[0].clone(),
            start,
            end,
            severity: 0.5,
            scope,
            detail: String::new(),
        };
        t.faults.push(rec(1, vec![pod.clone()], 0, Some(1_000)));
        t.faults.push(rec(2, vec![node.clone()], 5_000, None));
        assert_eq!(t.blame(500, &pod, &[]), Some(1));
        assert_eq!(t.blame(6_000, &pod, std::slice::from_ref(&node)), Some(2));
        assert_eq!(t.blame(6_000, &pod, &[]), Some(1));
        assert_eq!(t.blame(1_000 + BLAME_AFTER_END_MS + 1, &pod, &[]), None);
        assert_eq!(t.blame(4_000, &node, &[]), None);
    }
}
