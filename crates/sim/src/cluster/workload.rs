//! Workloads (Deployments with their ReplicaSets, StatefulSets, DaemonSets, Jobs) and the pod
//! templates they stamp out.

use kubepulse_model::ObjectKind;

use super::Resources;

/// The kind of controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment (pods owned through ReplicaSets).
    Deployment,
    /// `apps/v1` StatefulSet (stable pod names).
    StatefulSet,
    /// `apps/v1` DaemonSet (one pod per node).
    DaemonSet,
    /// `batch/v1` Job (runs to completion).
    Job,
}

impl WorkloadKind {
    /// The Kubernetes object kind.
    pub fn object_kind(&self) -> ObjectKind {
        match self {
            Self::Deployment => ObjectKind::Deployment,
            Self::StatefulSet => ObjectKind::StatefulSet,
            Self::DaemonSet => ObjectKind::DaemonSet,
            Self::Job => ObjectKind::Job,
        }
    }
}

/// What a pod is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct PodTemplate {
    /// Container name.
    pub container: String,
    /// Image repository without tag.
    pub repository: String,
    /// Image tag (the version).
    pub version: String,
    /// Resource requests.
    pub requests: Resources,
    /// Resource limits (zero: none).
    pub limits: Resources,
    /// Behaviour profile index.
    pub profile: usize,
    /// A broken build exits this long after it starts, milliseconds.
    pub crash_after: Option<i64>,
    /// Exit code of a broken build.
    pub crash_exit_code: i32,
    /// Whether the image exists in the registry.
    pub image_ok: bool,
    /// Whether referenced ConfigMaps and Secrets exist.
    pub config_ok: bool,
    /// Container port.
    pub port: u16,
    /// Pod template hash (the ReplicaSet name suffix).
    pub hash: String,
}

impl PodTemplate {
    /// `repository:tag`.
    pub fn image(&self) -> String {
        format!("{}:{}", self.repository, self.version)
    }
}

/// A ReplicaSet of a Deployment.
#[derive(Debug, Clone)]
pub struct ReplicaSet {
    /// Name: `<deployment>-<hash>`.
    pub name: String,
    /// Object UID.
    pub uid: String,
    /// Deployment revision.
    pub revision: u32,
    /// Pod template.
    pub template: PodTemplate,
    /// Desired replicas.
    pub replicas: u32,
    /// When it was created (ms).
    pub created: i64,
}

/// A rolling update in progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollout {
    /// When it started.
    pub started: i64,
    /// Revision being rolled out.
    pub revision: u32,
    /// Whether `ProgressDeadlineExceeded` was already reported.
    pub deadline_reported: bool,
}

/// Job progress.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JobState {
    /// How long a successful run takes, milliseconds.
    pub run_for: i64,
    /// Whether runs fail (exit code 1) instead of completing.
    pub fails: bool,
    /// Failed pod runs so far.
    pub failed: u32,
    /// Completed.
    pub succeeded: bool,
    /// Gave up after `backoffLimit` failures.
    pub gave_up: bool,
    /// When the Job started.
    pub started: i64,
    /// When the Job completed or failed.
    pub finished: Option<i64>,
}

/// One workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Controller kind.
    pub kind: WorkloadKind,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Object UID.
    pub uid: String,
    /// The application this workload belongs to (index into `apps`), if any.
    pub app: Option<usize>,
    /// The service in front of it (index into `services`), if any.
    pub service: Option<usize>,
    /// Desired replicas (ignored for DaemonSets).
    pub replicas: u32,
    /// The current pod template.
    pub template: PodTemplate,
    /// Current revision.
    pub revision: u32,
    /// ReplicaSets, oldest first (Deployments only).
    pub replica_sets: Vec<ReplicaSet>,
    /// Rolling update in progress.
    pub rollout: Option<Rollout>,
    /// `metadata.generation`.
    pub generation: u32,
    /// Job progress (Jobs only).
    pub job: Option<JobState>,
    /// Set when the workload has been removed (finished Jobs past their TTL).
    pub deleted: bool,
    /// Node the workload's pods must run on (`nodeSelector` on the hostname label).
    pub node_selector: Option<usize>,
    /// Pods created so far; seeds each new pod's random stream so that workloads stay
    /// independent of one another.
    pub pods_created: u64,
}

impl Workload {
    /// The ReplicaSet of the current revision.
    pub fn current_rs(&self) -> Option<&ReplicaSet> {
        self.replica_sets
            .iter()
            .find(|r| r.revision == self.revision)
    }
}
