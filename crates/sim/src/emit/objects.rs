//! Object states: a record whenever a pod, node or workload changes in a way a watcher would
//! see (phase, readiness, restarts, reason, placement, conditions, replicas) and when it is
//! deleted; services once, when they first appear.

use std::collections::BTreeMap;

use kubepulse_model::{ObjectKind, ObjectRef, ObjectState};

use crate::cluster::{ContainerState, PodPhase, WorkloadKind};
use crate::world::World;

/// Remembers what was last reported of every object.
#[derive(Debug, Default)]
pub struct ObjectTracker {
    pods: Vec<Option<String>>,
    nodes: Vec<Option<String>>,
    workloads: Vec<Option<String>>,
    services: usize,
}

impl ObjectTracker {
    /// The object states that changed since the last call.
    pub fn changes(&mut self, w: &World) -> Vec<ObjectState> {
        let c = &w.cluster;
        let mut out = Vec::new();
        self.nodes.resize(c.nodes.len(), None);
        for n in 0..c.nodes.len() {
            let s = node_state(w, n);
            push_if_changed(&mut self.nodes[n], s, &mut out);
        }
        self.workloads.resize(c.workloads.len(), None);
        for wl in 0..c.workloads.len() {
            if c.workloads[wl].deleted {
                if self.workloads[wl].take().is_some() {
                    let mut s = workload_state(w, wl);
                    s.deleted = true;
                    out.push(s);
                }
                continue;
            }
            let s = workload_state(w, wl);
            push_if_changed(&mut self.workloads[wl], s, &mut out);
        }
        for s in self.services..c.services.len() {
            let svc = &c.services[s];
            out.push(ObjectState {
                object: w.service_ref(s),
                t: w.t,
                owner: None,
                node: String::new(),
                phase: "Active".into(),
                ready: true,
                restarts: 0,
                reason: String::new(),
                conditions: BTreeMap::new(),
                labels: BTreeMap::from([("app".to_string(), svc.name.clone())]),
                fields: BTreeMap::from([
                    ("clusterIP".to_string(), svc.cluster_ip.clone()),
                    ("port".to_string(), svc.port.to_string()),
                    ("selector".to_string(), format!("app={}", c.workloads[svc.workload].name)),
                    ("calls".to_string(), svc.calls.iter().map(|k| c.services[k.to].name.clone()).collect::<Vec<_>>().join(",")),
                ]),
                deleted: false,
            });
        }
        self.services = c.services.len();
        self.pods.resize(c.pods.len(), None);
        for p in 0..c.pods.len() {
            if c.pods[p].deleted_at.is_some() {
                if self.pods[p].take().is_some() {
                    let mut s = pod_state(w, p);
                    s.deleted = true;
                    out.push(s);
                }
                continue;
            }
            let s = pod_state(w, p);
            push_if_changed(&mut self.pods[p], s, &mut out);
        }
        out
    }
}

/// Pushes `s` when its content (time aside) differs from what was last reported.
fn push_if_changed(last: &mut Option<String>, s: ObjectState, out: &mut Vec<ObjectState>) {
    let digest = format!("{}|{}|{}|{}|{:?}|{:?}|{}", s.phase, s.ready, s.restarts, s.reason, s.conditions, s.fields, s.node);
    if last.as_deref() != Some(digest.as_str()) {
        *last = Some(digest);
        out.push(s);
    }
}

fn tf(v: bool) -> String {
    if v { "True" } else { "False" }.to_string()
}

fn pod_state(w: &World, p: usize) -> ObjectState {
    let c = &w.cluster;
    let pod = &c.pods[p];
    let running = pod.container.state == ContainerState::Running;
    let reason = match (pod.container.state, pod.reason.is_empty()) {
        (_, false) => pod.reason.clone(),
        (ContainerState::Waiting(r), _) => r.as_str().to_string(),
        (ContainerState::Terminated(t), _) => t.reason.to_string(),
        (ContainerState::Running, _) => String::new(),
    };
    let mut conditions = BTreeMap::from([("PodScheduled".to_string(), tf(pod.node.is_some()))]);
    if pod.node.is_some() {
        conditions.insert("Initialized".into(), tf(true));
        conditions.insert("ContainersReady".into(), tf(pod.ready));
        conditions.insert("Ready".into(), tf(pod.ready));
    }
    let mut fields = BTreeMap::from([
        ("image".to_string(), pod.container.image.clone()),
        ("container".to_string(), pod.container.name.clone()),
        ("requests.cpu".to_string(), format!("{}", pod.template.requests.cpu)),
        ("requests.memory".to_string(), format!("{}", pod.template.requests.memory)),
        ("limits.cpu".to_string(), format!("{}", pod.template.limits.cpu)),
        ("limits.memory".to_string(), format!("{}", pod.template.limits.memory)),
    ]);
    if !pod.ip.is_empty() {
        fields.insert("podIP".into(), pod.ip.clone());
    }
    if let Some(term) = pod.container.last_termination {
        fields.insert("lastState.terminated.reason".into(), term.reason.to_string());
        fields.insert("lastState.terminated.exitCode".into(), term.exit_code.to_string());
    }
    if let Some(s) = c.workloads[pod.workload].service {
        fields.insert("service".into(), c.services[s].name.clone());
    }
    let owner = ObjectRef::new(pod.owner_kind, &pod.namespace, &pod.owner_name);
    ObjectState {
        object: w.pod_ref(p),
        t: w.t,
        owner: Some(owner),
        node: pod.node.map(|n| c.nodes[n].name.clone()).unwrap_or_default(),
        phase: if pod.phase == PodPhase::Running && !running && pod.container.restarts == 0 { "Pending".into() } else { pod.phase.as_str().into() },
        ready: pod.ready,
        restarts: pod.container.restarts,
        reason,
        conditions,
        labels: BTreeMap::from([("app".to_string(), c.workloads[pod.workload].name.clone())]),
        fields,
        deleted: false,
    }
}

fn node_state(w: &World, n: usize) -> ObjectState {
    let node = &w.cluster.nodes[n];
    let unknown = !node.kubelet_up && !node.ready;
    let ready = if unknown { "Unknown".to_string() } else { tf(node.ready) };
    let conditions = BTreeMap::from([
        ("Ready".to_string(), ready),
        ("MemoryPressure".to_string(), tf(node.memory_pressure)),
        ("DiskPressure".to_string(), tf(node.disk_pressure)),
        ("PIDPressure".to_string(), tf(node.pid_pressure)),
        ("NetworkUnavailable".to_string(), tf(node.network_unavailable)),
    ]);
    ObjectState {
        object: w.node_ref(n),
        t: w.t,
        owner: None,
        node: String::new(),
        phase: if node.ready { "Ready" } else { "NotReady" }.into(),
        ready: node.ready,
        restarts: 0,
        reason: if unknown { "NodeStatusUnknown".into() } else { String::new() },
        conditions,
        labels: BTreeMap::from([
            ("topology.kubernetes.io/zone".to_string(), node.zone.clone()),
            ("node.kubernetes.io/instance-type".to_string(), node.shape.instance_type.to_string()),
        ]),
        fields: BTreeMap::from([
            ("capacity.cpu".to_string(), node.shape.cores.to_string()),
            ("capacity.memory".to_string(), format!("{}", node.shape.memory)),
            ("allocatable.cpu".to_string(), format!("{:.2}", node.alloc_cpu)),
            ("allocatable.memory".to_string(), format!("{:.0}", node.alloc_memory)),
            ("internalIP".to_string(), node.ip.clone()),
        ]),
        deleted: false,
    }
}

fn workload_state(w: &World, wl: usize) -> ObjectState {
    let c = &w.cluster;
    let x = &c.workloads[wl];
    let (mut total, mut ready, mut updated) = (0u32, 0u32, 0u32);
    for p in c.pods_of(wl) {
        if !c.pods[p].finished() {
            total += 1;
            ready += u32::from(c.pods[p].ready);
            updated += u32::from(c.pods[p].revision == x.revision);
        }
    }
    let desired = if x.kind == WorkloadKind::DaemonSet { c.nodes.len() as u32 } else { x.replicas };
    let phase = match (x.kind, x.job) {
        (WorkloadKind::Job, Some(j)) if j.succeeded => "Complete",
        (WorkloadKind::Job, Some(j)) if j.gave_up => "Failed",
        (WorkloadKind::Job, _) => "Running",
        _ if x.rollout.is_some_and(|r| r.deadline_reported) => "Degraded",
        _ if x.rollout.is_some() => "Progressing",
        _ if ready >= desired => "Available",
        _ => "Degraded",
    };
    let kind = x.kind.object_kind();
    let owner = (kind == ObjectKind::Job).then(|| ObjectRef::new(ObjectKind::Job, &x.namespace, "report")).map(|mut o| {
        o.kind = "CronJob".into();
        o
    });
    ObjectState {
        object: w.workload_ref(wl),
        t: w.t,
        owner,
        node: String::new(),
        phase: phase.into(),
        ready: ready >= desired,
        restarts: 0,
        reason: String::new(),
        conditions: BTreeMap::new(),
        labels: BTreeMap::from([("app".to_string(), x.name.clone())]),
        fields: BTreeMap::from([
            ("replicas".to_string(), desired.to_string()),
            ("readyReplicas".to_string(), ready.to_string()),
            ("updatedReplicas".to_string(), updated.to_string()),
            ("currentReplicas".to_string(), total.to_string()),
            ("revision".to_string(), x.revision.to_string()),
            ("image".to_string(), x.template.image()),
        ]),
        deleted: false,
    }
}
