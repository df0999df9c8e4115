//! Creating, binding, deleting and evicting pods: the steps every controller, the scheduler and
//! the node lifecycle share.

use kubepulse_model::{EventType, ObjectKind};

use crate::cluster::{
    Container, ContainerState, Effects, Pod, PodPhase, PodUsage, Termination, WaitReason,
    WorkloadKind,
};
use crate::rng::SimRng;
use crate::world::World;

/// Creates a pending pod for workload `wl` from the template of ReplicaSet `rs` (Deployments) or
/// the workload's own template. Returns the pod index.
pub fn create(
    w: &mut World,
    wl: usize,
    rs: Option<usize>,
    ordinal: Option<u32>,
    seed: u64,
) -> usize {
    let t = w.t;
    let workload = &mut w.cluster.workloads[wl];
    workload.pods_created += 1;
    let mut rng = SimRng::for_name(seed, &format!("{}/{}", workload.uid, workload.pods_created));
    let (template, revision, owner_kind, owner_name) =
        match rs.and_then(|i| workload.replica_sets.get(i)) {
            Some(r) => (
                r.template.clone(),
                r.revision,
                ObjectKind::ReplicaSet,
                r.name.clone(),
            ),
            None => (
                workload.template.clone(),
                workload.revision,
                workload.kind.object_kind(),
                workload.name.clone(),
            ),
        };
    let name = match (workload.kind, ordinal) {
        (WorkloadKind::StatefulSet, Some(o)) => format!("{}-{o}", workload.name),
        (WorkloadKind::Deployment, _) => format!("{owner_name}-{}", rng.k8s_suffix(5)),
        _ => format!("{}-{}", workload.name, rng.k8s_suffix(5)),
    };
    let component = match workload.kind {
        WorkloadKind::Deployment => "replicaset-controller",
        WorkloadKind::StatefulSet => "statefulset-controller",
        WorkloadKind::DaemonSet => "daemonset-controller",
        WorkloadKind::Job => "job-controller",
    };
    let namespace = workload.namespace.clone();
    let pinned = workload.node_selector;
    let container = Container {
        name: template.container.clone(),
        image: template.image(),
        id: String::new(),
        state: ContainerState::Waiting(WaitReason::ContainerCreating),
        restarts: 0,
        last_termination: None,
        backoff_level: 0,
        next_start: t,
        started_at: t,
        liveness_failures: 0,
        readiness_failures: 0,
        pull_failures: 0,
    };
    let pod = Pod {
        uid: rng.uuid(),
        name: name.clone(),
        namespace: namespace.clone(),
        workload: wl,
        owner_kind,
        owner_name: owner_name.clone(),
        template,
        revision,
        ordinal,
        node: None,
        pinned,
        ip: String::new(),
        phase: PodPhase::Pending,
        reason: String::new(),
        message: String::new(),
        created: t,
        scheduled: None,
        deleted_at: None,
        unschedulable_since: None,
        container,
        ready: false,
        usage: PodUsage::default(),
        effects: Effects::default(),
        rng,
    };
    w.cluster.pods.push(pod);
    let idx = w.cluster.pods.len() - 1;
    w.cluster.live.push(idx);
    let owner = kubepulse_model::ObjectRef::new(owner_kind, &namespace, &owner_name);
    w.event(
        owner,
        EventType::Normal,
        "SuccessfulCreate",
        format!("Created pod: {name}"),
        component,
        "",
    );
    idx
}

/// Binds pod `p` to node `n`.
pub fn bind(w: &mut World, p: usize, n: usize) {
    let t = w.t;
    let node = &w.cluster.nodes[n];
    let (node_name, cidr) = (node.name.clone(), node.pod_cidr);
    let pod = &mut w.cluster.pods[p];
    pod.node = Some(n);
    pod.scheduled = Some(t);
    pod.unschedulable_since = None;
    pod.ip = format!(
        "10.{}.{}.{}",
        244 + cidr / 256,
        cidr % 256,
        2 + pod.rng.below(250)
    );
    pod.container.next_start = t + 2_000 + pod.rng.below(4_000) as i64;
    let msg = format!(
        "Successfully assigned {}/{} to {node_name}",
        pod.namespace, pod.name
    );
    let r = w.pod_ref(p);
    w.event(
        r,
        EventType::Normal,
        "Scheduled",
        msg,
        "default-scheduler",
        "",
    );
}

/// Deletes pod `p` (graceful deletion by a controller or an eviction by taint).
pub fn delete(w: &mut World, p: usize) {
    if w.cluster.pods[p].deleted_at.is_some() {
        return;
    }
    if w.cluster.pods[p].running() {
        let host = node_name(w, p);
        let msg = format!("Stopping container {}", w.cluster.pods[p].container.name);
        let r = w.pod_ref(p);
        w.event(r, EventType::Normal, "Killing", msg, "kubelet", &host);
    }
    let t = w.t;
    let pod = &mut w.cluster.pods[p];
    pod.deleted_at = Some(t);
    pod.ready = false;
    if pod.container.state == ContainerState::Running {
        pod.container.state = ContainerState::Terminated(Termination {
            reason: "Completed",
            exit_code: 0,
            at: t,
        });
    }
    w.cluster.live.retain(|&i| i != p);
}

/// Evicts pod `p` from its node for `resource`: the pod fails with reason `Evicted` and stays
/// listed (as Kubernetes keeps evicted pods) until its controller cleans it up.
pub fn evict(w: &mut World, p: usize, message: String) {
    let t = w.t;
    let host = node_name(w, p);
    let r = w.pod_ref(p);
    w.event(
        r.clone(),
        EventType::Warning,
        "Evicted",
        message.clone(),
        "kubelet",
        &host,
    );
    let cname = w.cluster.pods[p].container.name.clone();
    w.event(
        r,
        EventType::Normal,
        "Killing",
        format!("Stopping container {cname}"),
        "kubelet",
        &host,
    );
    let pod = &mut w.cluster.pods[p];
    pod.phase = PodPhase::Failed;
    pod.reason = "Evicted".into();
    pod.message = message;
    pod.ready = false;
    pod.container.state = ContainerState::Terminated(Termination {
        reason: "Error",
        exit_code: 137,
        at: t,
    });
}

/// The name of the node pod `p` is bound to, or an empty string.
pub fn node_name(w: &World, p: usize) -> String {
    w.cluster.pods[p]
        .node
        .map(|n| w.cluster.nodes[n].name.clone())
        .unwrap_or_default()
}
