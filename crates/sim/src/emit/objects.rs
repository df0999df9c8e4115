//! Object states: a record whenever a pod, node or workload changes in a way a watcher would
//! see (phase, readiness, restarts, reason, placement, conditions, replicas) and when it is
//! deleted; services once, when they first appear.

use std::collections::BTreeMap;

use kubepulse_model::{ObjectKind, ObjectRef, ObjectState};

use super::Census;
use crate::cluster::{ContainerState, PodPhase, WorkloadKind};
use crate::world::World;

/// Remembers what was last reported of every object.
#[derive(Debug, Default)]
pub struct ObjectTracker {
    pods: Vec<u64>,
    nodes: Vec<u64>,
    workloads: Vec<u64>,
    services: usize,
}

/// FNV-1a over the parts of an object a watcher would see change; 0 means "not reported".
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn add(mut self, v: u64) -> Self {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
    fn text(mut self, s: &str) -> Self {
        for b in s.bytes().chain([0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
    fn done(self) -> u64 {
        self.0 | 1
    }
}

fn pod_digest(w: &World, p: usize) -> u64 {
    let pod = &w.cluster.pods[p];
    let state = match pod.container.state {
        ContainerState::Running => Digest::new().add(1),
        ContainerState::Waiting(r) => Digest::new().add(2).text(r.as_str()),
        ContainerState::Terminated(t) => Digest::new().add(3).text(t.reason),
    };
    state
        .add(pod.phase as u64)
        .add(u64::from(pod.ready))
        .add(u64::from(pod.container.restarts))
        .add(pod.node.map_or(u64::MAX, |n| n as u64))
        .text(&pod.reason)
        .text(pod.container.last_termination.map_or("", |t| t.reason))
        .done()
}

fn node_digest(w: &World, n: usize) -> u64 {
    let x = &w.cluster.nodes[n];
    let flags = [
        x.kubelet_up,
        x.ready,
        x.memory_pressure,
        x.disk_pressure,
        x.pid_pressure,
        x.network_unavailable,
    ];
    flags
        .iter()
        .fold(Digest::new(), |d, f| d.add(u64::from(*f)))
        .done()
}

fn workload_digest(w: &World, wl: usize, census: &Census) -> u64 {
    let x = &w.cluster.workloads[wl];
    let (total, ready, updated) = census.counts[wl];
    Digest::new()
        .add(u64::from(x.replicas))
        .add(u64::from(total))
        .add(u64::from(ready))
        .add(u64::from(updated))
        .add(u64::from(x.revision))
        .add(x.rollout.map_or(0, |r| 1 + u64::from(r.deadline_reported)))
        .add(
            x.job
                .map_or(0, |j| 1 + u64::from(j.succeeded) + 2 * u64::from(j.gave_up)),
        )
        .done()
}

impl ObjectTracker {
    /// The object states that changed since the last call.
    pub fn changes(&mut self, w: &World, census: &Census) -> Vec<ObjectState> {
        let c = &w.cluster;
        let mut out = Vec::new();
        self.nodes.resize(c.nodes.len(), 0);
        for n in 0..c.nodes.len() {
            let d = node_digest(w, n);
            if std::mem::replace(&mut self.nodes[n], d) != d {
                out.push(node_state(w, n));
            }
        }
        self.workloads.resize(c.workloads.len(), 0);
        for wl in 0..c.workloads.len() {
            if c.workloads[wl].deleted {
                if std::mem::take(&mut self.workloads[wl]) != 0 {
                    let mut s = workload_state(w, wl, census);
                    s.deleted = true;
                    out.push(s);
                }
                continue;
            }
            let d = workload_digest(w, wl, census);
            if std::mem::replace(&mut self.workloads[wl], d) != d {
                out.push(workload_state(w, wl, census));
            }
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
                    (
                        "selector".to_string(),
                        format!("app={}", c.workloads[svc.workload].name),
                    ),
                    (
                        "calls".to_string(),
                        svc.calls
                            .iter()
                            .map(|k| c.services[k.to].name.clone())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                ]),
                deleted: false,
            });
        }
        self.services = c.services.len();
        self.pods.resize(c.pods.len(), 0);
        for p in 0..c.pods.len() {
            if self.pods[p] == 0 && c.pods[p].deleted_at.is_some() {
                continue;
            }
            if c.pods[p].deleted_at.is_some() {
                self.pods[p] = 0;
                let mut s = pod_state(w, p);
                s.deleted = true;
                out.push(s);
                continue;
            }
            let d = pod_digest(w, p);
            if std::mem::replace(&mut self.pods[p], d) != d {
                out.push(pod_state(w, p));
            }
        }
        out
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
        (
            "requests.cpu".to_string(),
            format!("{}", pod.template.requests.cpu),
        ),
        (
            "requests.memory".to_string(),
            format!("{}", pod.template.requests.memory),
        ),
        (
            "limits.cpu".to_string(),
            format!("{}", pod.template.limits.cpu),
        ),
        (
            "limits.memory".to_string(),
            format!("{}", pod.template.limits.memory),
        ),
    ]);
    if !pod.ip.is_empty() {
        fields.insert("podIP".into(), pod.ip.clone());
    }
    if let Some(start) = pod.scheduled {
        fields.insert("startTime".into(), start.to_string());
    }
    if let Some(term) = pod.container.last_termination {
        fields.insert(
            "lastState.terminated.reason".into(),
            term.reason.to_string(),
        );
        fields.insert(
            "lastState.terminated.exitCode".into(),
            term.exit_code.to_string(),
        );
        fields.insert(
            "lastState.terminated.finishedAt".into(),
            term.at.to_string(),
        );
    }
    if pod.container.state == ContainerState::Running {
        fields.insert(
            "state.running.startedAt".into(),
            pod.container.started_at.to_string(),
        );
    }
    if let Some(s) = c.workloads[pod.workload].service {
        fields.insert("service".into(), c.services[s].name.clone());
    }
    let owner = ObjectRef::new(pod.owner_kind, &pod.namespace, &pod.owner_name);
    ObjectState {
        object: w.pod_ref(p),
        t: w.t,
        owner: Some(owner),
        node: pod
            .node
            .map(|n| c.nodes[n].name.clone())
            .unwrap_or_default(),
        phase: if pod.phase == PodPhase::Running && !running && pod.container.restarts == 0 {
            "Pending".into()
        } else {
            pod.phase.as_str().into()
        },
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
    let ready = if unknown {
        "Unknown".to_string()
    } else {
        tf(node.ready)
    };
    let conditions = BTreeMap::from([
        ("Ready".to_string(), ready),
        ("MemoryPressure".to_string(), tf(node.memory_pressure)),
        ("DiskPressure".to_string(), tf(node.disk_pressure)),
        ("PIDPressure".to_string(), tf(node.pid_pressure)),
        (
            "NetworkUnavailable".to_string(),
            tf(node.network_unavailable),
        ),
    ]);
    ObjectState {
        object: w.node_ref(n),
        t: w.t,
        owner: None,
        node: String::new(),
        phase: if node.ready { "Ready" } else { "NotReady" }.into(),
        ready: node.ready,
        restarts: 0,
        reason: if unknown {
            "NodeStatusUnknown".into()
        } else {
            String::new()
        },
        conditions,
        labels: BTreeMap::from([
            ("topology.kubernetes.io/zone".to_string(), node.zone.clone()),
            (
                "node.kubernetes.io/instance-type".to_string(),
                node.shape.instance_type.to_string(),
            ),
        ]),
        fields: BTreeMap::from([
            ("capacity.cpu".to_string(), node.shape.cores.to_string()),
            (
                "capacity.memory".to_string(),
                format!("{}", node.shape.memory),
            ),
            (
                "allocatable.cpu".to_string(),
                format!("{:.2}", node.alloc_cpu),
            ),
            (
                "allocatable.memory".to_string(),
                format!("{:.0}", node.alloc_memory),
            ),
            ("internalIP".to_string(), node.ip.clone()),
        ]),
        deleted: false,
    }
}

fn workload_state(w: &World, wl: usize, census: &Census) -> ObjectState {
    let c = &w.cluster;
    let x = &c.workloads[wl];
    let (total, ready, updated) = census.counts[wl];
    let desired = if x.kind == WorkloadKind::DaemonSet {
        c.nodes.len() as u32
    } else {
        x.replicas
    };
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
    let owner = (kind == ObjectKind::Job)
        .then(|| ObjectRef::new(ObjectKind::Job, &x.namespace, "report"))
        .map(|mut o| {
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
