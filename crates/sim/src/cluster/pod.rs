//! Simulated pods: one application container each, its Kubernetes state and its resource use.

use kubepulse_model::ObjectKind;

use super::PodTemplate;
use crate::rng::SimRng;

/// CPU cores, memory bytes and ephemeral-storage bytes. Zero means "not set" for limits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Resources {
    /// CPU in cores.
    pub cpu: f64,
    /// Memory in bytes.
    pub memory: f64,
    /// Ephemeral storage in bytes.
    pub disk: f64,
}

/// Pod phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Not yet running (unscheduled, pulling, creating).
    Pending,
    /// Bound to a node with its container started at least once.
    Running,
    /// Completed successfully (Jobs).
    Succeeded,
    /// Terminated in failure (evicted, Job out of retries).
    Failed,
}

impl PodPhase {
    /// Name as in `kube_pod_status_phase{phase}`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }
}

/// Why a container is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// Image being pulled and container created.
    ContainerCreating,
    /// Restart delayed by the kubelet's back-off.
    CrashLoopBackOff,
    /// The last image pull failed.
    ErrImagePull,
    /// Image pulls are being retried with back-off.
    ImagePullBackOff,
    /// A referenced ConfigMap or Secret is missing.
    CreateContainerConfigError,
}

impl WaitReason {
    /// Name as in `kube_pod_container_status_waiting_reason{reason}`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ContainerCreating => "ContainerCreating",
            Self::CrashLoopBackOff => "CrashLoopBackOff",
            Self::ErrImagePull => "ErrImagePull",
            Self::ImagePullBackOff => "ImagePullBackOff",
            Self::CreateContainerConfigError => "CreateContainerConfigError",
        }
    }
}

/// How a container run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termination {
    /// `OOMKilled`, `Error` or `Completed`.
    pub reason: &'static str,
    /// Process exit code (137 for SIGKILL).
    pub exit_code: i32,
    /// When it ended.
    pub at: i64,
}

/// The state of the container right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Not running, for the given reason.
    Waiting(WaitReason),
    /// Running.
    Running,
    /// Exited and not restarted (Jobs, evicted or deleted pods).
    Terminated(Termination),
}

/// The application container.
#[derive(Debug, Clone)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Current container ID (`containerd://…`); changes on every restart.
    pub id: String,
    /// Current state.
    pub state: ContainerState,
    /// Restart count.
    pub restarts: u32,
    /// How the previous run ended.
    pub last_termination: Option<Termination>,
    /// Consecutive crashes counted by the kubelet's restart back-off.
    pub backoff_level: u32,
    /// Earliest time of the next start attempt.
    pub next_start: i64,
    /// When the current run started.
    pub started_at: i64,
    /// Consecutive failed liveness probes.
    pub liveness_failures: u32,
    /// Consecutive failed readiness probes.
    pub readiness_failures: u32,
    /// Image pull attempts that failed.
    pub pull_failures: u32,
}

/// Faults and look-alikes acting on a pod. All zero when healthy.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Effects {
    /// Memory leaked per second while running, bytes.
    pub leak_rate: f64,
    /// Extra CPU demand, cores.
    pub cpu_hog: f64,
    /// A cache that grows towards this many bytes (look-alike).
    pub cache_target: f64,
    /// Bytes written to the container's writable layer per second.
    pub fs_fill_rate: f64,
    /// Extra round-trip latency on the pod's network, seconds.
    pub net_delay: f64,
    /// Packet loss ratio on the pod's network.
    pub net_loss: f64,
    /// Share of requests the application itself fails.
    pub error_rate: f64,
}

/// Resource use, right now and cumulatively, as cAdvisor and the application report it.
#[derive(Debug, Clone, Default)]
pub struct PodUsage {
    /// Requests per second routed to this pod.
    pub rps: f64,
    /// CPU cores wanted this step.
    pub cpu_demand: f64,
    /// CPU cores obtained this step.
    pub cpu_used: f64,
    /// Utilisation: demand over what the pod can get (limit or node share).
    pub rho: f64,
    /// Live heap and runtime memory, bytes.
    pub live: f64,
    /// Garbage not yet collected, bytes.
    pub garbage: f64,
    /// Bytes leaked since the container started.
    pub leaked: f64,
    /// Application cache, bytes.
    pub cache: f64,
    /// Working set, bytes (what the OOM killer compares to the limit).
    pub working_set: f64,
    /// Bytes of container logs on the node (rotated by the kubelet).
    pub fs_logs: f64,
    /// Bytes written to the writable layer by a filling process (never rotated).
    pub fs_fill: f64,
    /// Own latency this step (queueing included, downstream calls excluded), seconds.
    pub own_latency: f64,
    /// Own error ratio this step (downstream failures excluded).
    pub own_error: f64,
    /// Mean request latency this step, seconds.
    pub latency: f64,
    /// Share of failed requests this step.
    pub error_ratio: f64,
    /// `container_cpu_usage_seconds_total`.
    pub cpu_seconds: f64,
    /// `container_cpu_cfs_periods_total`.
    pub periods: f64,
    /// `container_cpu_cfs_throttled_periods_total`.
    pub throttled_periods: f64,
    /// `container_cpu_cfs_throttled_seconds_total`.
    pub throttled_seconds: f64,
    /// Network counters: rx bytes, tx bytes, rx packets, tx packets, rx errors, tx errors,
    /// rx dropped, tx dropped.
    pub net: [f64; 8],
    /// `container_fs_reads_bytes_total`.
    pub fs_reads: f64,
    /// `container_fs_writes_bytes_total`.
    pub fs_writes: f64,
    /// `container_oom_events_total`.
    pub oom_events: f64,
    /// Requests answered, by code: 200, 500, 503.
    pub requests: [f64; 3],
    /// Cumulative latency histogram counts per bucket of [`crate::emit::LATENCY_BUCKETS`].
    pub buckets: [f64; 12],
    /// Sum of observed latencies, seconds.
    pub latency_sum: f64,
}

/// One pod.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Pod name.
    pub name: String,
    /// Object UID.
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Owning workload (index).
    pub workload: usize,
    /// Kind of the controlling owner reference.
    pub owner_kind: ObjectKind,
    /// Name of the controlling owner (a ReplicaSet for Deployments).
    pub owner_name: String,
    /// The template the pod was created from.
    pub template: PodTemplate,
    /// Template revision.
    pub revision: u32,
    /// StatefulSet ordinal.
    pub ordinal: Option<u32>,
    /// Node the pod is bound to.
    pub node: Option<usize>,
    /// Node the pod must run on (DaemonSets, pinned noisy neighbours).
    pub pinned: Option<usize>,
    /// Pod IP once bound.
    pub ip: String,
    /// Phase.
    pub phase: PodPhase,
    /// Status reason (`Evicted`, `NodeLost`, …).
    pub reason: String,
    /// Status message.
    pub message: String,
    /// Creation time.
    pub created: i64,
    /// When the pod was bound to a node.
    pub scheduled: Option<i64>,
    /// When the pod was deleted.
    pub deleted_at: Option<i64>,
    /// When the first FailedScheduling was reported for the current wait.
    pub unschedulable_since: Option<i64>,
    /// The container.
    pub container: Container,
    /// Ready condition.
    pub ready: bool,
    /// Resource use.
    pub usage: PodUsage,
    /// Faults acting on the pod.
    pub effects: Effects,
    /// The pod's own random stream.
    pub rng: SimRng,
}

impl Pod {
    /// True while the pod counts against its node's resources (bound and not finished).
    pub fn holds_resources(&self) -> bool {
        self.node.is_some()
            && self.deleted_at.is_none()
            && matches!(self.phase, PodPhase::Pending | PodPhase::Running)
    }

    /// True when the container is running.
    pub fn running(&self) -> bool {
        self.container.state == ContainerState::Running && self.deleted_at.is_none()
    }

    /// True when the pod has finished (Succeeded or Failed).
    pub fn finished(&self) -> bool {
        matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }

    /// The waiting reason, if the container is waiting.
    pub fn waiting_reason(&self) -> Option<WaitReason> {
        match self.container.state {
            ContainerState::Waiting(r) => Some(r),
            _ => None,
        }
    }
}
