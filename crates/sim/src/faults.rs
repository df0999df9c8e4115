//! Chaos faults. Each fault kind lives in its own file and implements [`Fault`]: `begin` resolves
//! its target and returns the objects it acts on, `tick` applies its effect every step (faults
//! that ripen ramp up here, giving realistic precursors), and `end` clears it.

mod dependency;
mod disk_fill;
mod memory_leak;
mod network;
mod node_failure;
mod noisy_neighbour;
mod rollout;
mod saturation;

use kubepulse_model::ObjectRef;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::world::World;

pub use rollout::{next_version, start_rollout};

/// The kinds of faults the simulator can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A container leaks memory until it is OOM-killed.
    MemoryLeak,
    /// A container burns CPU: throttling, latency, failing probes.
    CpuHog,
    /// A rollout of a build that crashes some time after start: crash loop.
    BadRollout,
    /// A rollout to an image tag that does not exist.
    ImagePullFailure,
    /// Extra latency on calls into a service.
    NetworkDelay,
    /// Packet loss on calls into a service.
    PacketLoss,
    /// A process fills a node's disk: DiskPressure, evictions.
    DiskFill,
    /// A node's kubelet stops: NotReady, pods evicted after five minutes.
    NodeFailure,
    /// A rollout whose pods request more than any node has: Pending.
    Unschedulable,
    /// A CPU-hungry pod without limits lands on a node and starves its neighbours.
    NoisyNeighbour,
    /// A service starts returning errors to its callers.
    FailingDependency,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 11] = [
        Self::MemoryLeak,
        Self::CpuHog,
        Self::BadRollout,
        Self::ImagePullFailure,
        Self::NetworkDelay,
        Self::PacketLoss,
        Self::DiskFill,
        Self::NodeFailure,
        Self::Unschedulable,
        Self::NoisyNeighbour,
        Self::FailingDependency,
    ];

    /// The snake_case name used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MemoryLeak => "memory_leak",
            Self::CpuHog => "cpu_hog",
            Self::BadRollout => "bad_rollout",
            Self::ImagePullFailure => "image_pull_failure",
            Self::NetworkDelay => "network_delay",
            Self::PacketLoss => "packet_loss",
            Self::DiskFill => "disk_fill",
            Self::NodeFailure => "node_failure",
            Self::Unschedulable => "unschedulable",
            Self::NoisyNeighbour => "noisy_neighbour",
            Self::FailingDependency => "failing_dependency",
        }
    }

    /// What the target must name for this kind.
    pub fn target_kind(&self) -> TargetKind {
        match self {
            Self::MemoryLeak | Self::CpuHog => TargetKind::Pod,
            Self::BadRollout | Self::ImagePullFailure | Self::Unschedulable => TargetKind::Workload,
            Self::NetworkDelay | Self::PacketLoss | Self::FailingDependency => TargetKind::Service,
            Self::DiskFill | Self::NodeFailure | Self::NoisyNeighbour => TargetKind::Node,
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a fault kind is injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A pod: `pod`, or `workload` (its first replica by name).
    Pod,
    /// A workload: `workload`.
    Workload,
    /// A service: `service`.
    Service,
    /// A node: `node`.
    Node,
}

/// Where a fault goes. Namespaced targets need `namespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    /// Namespace of a pod, workload or service.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Workload name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub workload: String,
    /// Pod name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pod: String,
    /// Service name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// Node name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
}

/// A fault to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Kind.
    pub kind: FaultKind,
    /// When it starts, epoch milliseconds.
    pub at: i64,
    /// Where.
    pub target: Target,
    /// How bad, in [0, 1]: faster ripening, larger effect.
    pub severity: f64,
    /// How long it lasts (a fix or rollback at the end); `None`: until the run ends.
    pub duration: Option<i64>,
}

/// One fault's behaviour.
pub trait Fault: std::fmt::Debug + Send {
    /// Resolves the target and starts the fault. Returns the objects it acts on and a detail.
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError>;
    /// Applies the effect for this step.
    fn tick(&mut self, _w: &mut World, _elapsed_ms: i64) {}
    /// Clears the fault.
    fn end(&mut self, w: &mut World);
}

/// Linear interpolation by severity: `a` at severity 0, `b` at severity 1.
pub fn lerp(a: f64, b: f64, severity: f64) -> f64 {
    a + (b - a) * severity.clamp(0.0, 1.0)
}

/// The behaviour of `spec`.
pub fn build(spec: &FaultSpec) -> Box<dyn Fault> {
    let (t, s) = (spec.target.clone(), spec.severity);
    match spec.kind {
        FaultKind::MemoryLeak => Box::new(memory_leak::MemoryLeak::new(t, s)),
        FaultKind::CpuHog => Box::new(saturation::CpuHog::new(t, s)),
        FaultKind::BadRollout => Box::new(rollout::BadRollout::new(t, s, rollout::Breakage::Crash)),
        FaultKind::ImagePullFailure => {
            Box::new(rollout::BadRollout::new(t, s, rollout::Breakage::Image))
        }
        FaultKind::Unschedulable => {
            Box::new(rollout::BadRollout::new(t, s, rollout::Breakage::Requests))
        }
        FaultKind::NetworkDelay => Box::new(network::Network::new(t, s, false)),
        FaultKind::PacketLoss => Box::new(network::Network::new(t, s, true)),
        FaultKind::DiskFill => Box::new(disk_fill::DiskFill::new(t, s)),
        FaultKind::NodeFailure => Box::new(node_failure::NodeFailure::new(t)),
        FaultKind::NoisyNeighbour => Box::new(noisy_neighbour::NoisyNeighbour::new(t, s)),
        FaultKind::FailingDependency => Box::new(dependency::FailingDependency::new(t, s)),
    }
}

/// Resolves a target to a node index.
pub(crate) fn resolve_node(w: &World, t: &Target) -> Result<usize, SimError> {
    w.cluster
        .node_index(&t.node)
        .ok_or_else(|| SimError::Inject(format!("no node named {:?}", t.node)))
}

/// Resolves a target to a workload index.
pub(crate) fn resolve_workload(w: &World, t: &Target) -> Result<usize, SimError> {
    w.cluster
        .workload_index(&t.namespace, &t.workload)
        .filter(|&i| !w.cluster.workloads[i].deleted)
        .ok_or_else(|| SimError::Inject(format!("no workload {}/{}", t.namespace, t.workload)))
}

/// Resolves a target to a service index.
pub(crate) fn resolve_service(w: &World, t: &Target) -> Result<usize, SimError> {
    w.cluster
        .service_index(&t.namespace, &t.service)
        .ok_or_else(|| SimError::Inject(format!("no service {}/{}", t.namespace, t.service)))
}

/// Deletes pod `p` at a fault's end, as an operator does to clear what a leak or a runaway
/// writer left behind, unless it is already gone or finished; its controller replaces it.
pub(crate) fn replace_pod(w: &mut World, p: usize) {
    let pod = &w.cluster.pods[p];
    if pod.deleted_at.is_none() && !pod.finished() {
        crate::pods::delete(w, p);
    }
}

/// Resolves a target to a pod: the named pod, or the workload's first running replica by name.
pub(crate) fn resolve_pod(w: &World, t: &Target) -> Result<usize, SimError> {
    if !t.pod.is_empty() {
        return w
            .cluster
            .pod_index(&t.namespace, &t.pod)
            .ok_or_else(|| SimError::Inject(format!("no pod {}/{}", t.namespace, t.pod)));
    }
    let wl = resolve_workload(w, t)?;
    let mut pods: Vec<usize> = w
        .cluster
        .pods_of(wl)
        .filter(|&p| w.cluster.pods[p].running())
        .collect();
    pods.sort_by(|&a, &b| w.cluster.pods[a].name.cmp(&w.cluster.pods[b].name));
    pods.first().copied().ok_or_else(|| {
        SimError::Inject(format!(
            "workload {}/{} has no running pod",
            t.namespace, t.workload
        ))
    })
}
