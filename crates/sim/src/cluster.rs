//! The simulated cluster's state: nodes, workloads, pods, services and the applications that
//! drive them. Entities live in vectors and refer to each other by index; pods are never removed
//! from `pods` (a deleted pod keeps its slot with `deleted_at` set) so indices stay valid.

mod node;
mod pod;
mod service;
mod workload;

pub use node::{Node, NodeCounters, NodeShape};
pub use pod::{
    Container, ContainerState, Effects, Pod, PodPhase, PodUsage, Resources, Termination, WaitReason,
};
pub use service::{App, Burst, Call, Edge, Protocol, Service, ServiceHealth};
pub use workload::{JobState, PodTemplate, ReplicaSet, Rollout, Workload, WorkloadKind};

use crate::profile::Profile;

/// The whole simulated cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Cluster name (the `cluster` label).
    pub name: String,
    /// Namespaces in creation order.
    pub namespaces: Vec<String>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Every pod ever created; see `live` for the ones not yet deleted.
    pub pods: Vec<Pod>,
    /// Indices of pods that are not deleted.
    pub live: Vec<usize>,
    /// Deployments, StatefulSets, DaemonSets and Jobs.
    pub workloads: Vec<Workload>,
    /// Services of the call graph.
    pub services: Vec<Service>,
    /// Applications (one call graph each) that receive external traffic.
    pub apps: Vec<App>,
    /// Behaviour profiles referenced by workloads.
    pub profiles: Vec<Profile>,
}

impl Cluster {
    /// Index of the node named `name`.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Index of the workload `namespace/name`.
    pub fn workload_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.workloads
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
    }

    /// Index of the live pod `namespace/name`.
    pub fn pod_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.live
            .iter()
            .copied()
            .find(|&i| self.pods[i].namespace == namespace && self.pods[i].name == name)
    }

    /// Index of the service `namespace/name`.
    pub fn service_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|s| s.namespace == namespace && s.name == name)
    }

    /// Live pods of workload `w`, oldest first.
    pub fn pods_of(&self, w: usize) -> impl Iterator<Item = usize> + '_ {
        self.live
            .iter()
            .copied()
            .filter(move |&i| self.pods[i].workload == w)
    }

    /// Live pods bound to node `n`.
    pub fn pods_on(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        self.live
            .iter()
            .copied()
            .filter(move |&i| self.pods[i].node == Some(n))
    }

    /// The profile of pod `p`.
    pub fn profile_of(&self, p: usize) -> &Profile {
        &self.profiles[self.pods[p].template.profile]
    }

    /// Sum of requests of pods bound to node `n` that still hold resources.
    pub fn requested_on(&self, n: usize) -> Resources {
        let mut r = Resources::default();
        for i in self.pods_on(n) {
            let p = &self.pods[i];
            if p.holds_resources() {
                r.cpu += p.template.requests.cpu;
                r.memory += p.template.requests.memory;
                r.disk += p.template.requests.disk;
            }
        }
        r
    }

    /// Number of pods on node `n` that count against its pod limit.
    pub fn pod_count_on(&self, n: usize) -> u32 {
        self.pods_on(n)
            .filter(|&i| self.pods[i].holds_resources())
            .count() as u32
    }
}
