//! The scheduler: filters nodes (ready, no pressure taints, pod limit, requests fit the
//! allocatable remainder), scores the rest by least allocation, and leaves a pod Pending with a
//! FailedScheduling event, worded as kube-scheduler words it, when nothing fits.

use std::collections::BTreeMap;

use kubepulse_model::EventType;

use crate::cluster::{Resources, WorkloadKind};
use crate::truth::FailureType;
use crate::world::World;

const RETRY_EVENT_MS: i64 = 60_000;

/// Places every pending pod that fits somewhere.
pub fn step(w: &mut World) {
    let pending: Vec<usize> = w
        .cluster
        .live
        .iter()
        .copied()
        .filter(|&p| {
            let pod = &w.cluster.pods[p];
            pod.node.is_none() && !pod.finished() && pod.deleted_at.is_none()
        })
        .collect();
    if pending.is_empty() {
        return;
    }
    let n_nodes = w.cluster.nodes.len();
    let mut used: Vec<Resources> = (0..n_nodes).map(|n| w.cluster.requested_on(n)).collect();
    let mut count: Vec<u32> = (0..n_nodes).map(|n| w.cluster.pod_count_on(n)).collect();
    for p in pending {
        let pod = &w.cluster.pods[p];
        let req = pod.template.requests;
        let daemon = w.cluster.workloads[pod.workload].kind == WorkloadKind::DaemonSet;
        let candidates: Vec<usize> = match pod.pinned {
            Some(n) => vec![n],
            None => (0..n_nodes).collect(),
        };
        let mut reasons: BTreeMap<&'static str, u32> = BTreeMap::new();
        let mut best: Option<(f64, usize)> = None;
        for n in candidates {
            let node = &w.cluster.nodes[n];
            let reason = if !node.kubelet_up || !node.ready {
                Some("node(s) had untolerated taint {node.kubernetes.io/unreachable: }")
            } else if node.disk_pressure && !daemon {
                Some("node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }")
            } else if node.memory_pressure && !daemon {
                Some("node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }")
            } else if count[n] >= node.max_pods {
                Some("Too many pods")
            } else if used[n].cpu + req.cpu > node.alloc_cpu + 1e-9 {
                Some("Insufficient cpu")
            } else if used[n].memory + req.memory > node.alloc_memory + 1e-9 {
                Some("Insufficient memory")
            } else {
                None
            };
            if let Some(r) = reason {
                *reasons.entry(r).or_default() += 1;
                continue;
            }
            let free_cpu = (node.alloc_cpu - used[n].cpu - req.cpu) / node.alloc_cpu;
            let free_mem = (node.alloc_memory - used[n].memory - req.memory) / node.alloc_memory;
            let tie = (hash2(&pod.uid, n) % 1000) as f64 * 1e-7;
            let score = (free_cpu + free_mem) / 2.0 + tie;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, n));
            }
        }
        match best {
            Some((_, n)) => {
                used[n].cpu += req.cpu;
                used[n].memory += req.memory;
                used[n].disk += req.disk;
                count[n] += 1;
                crate::pods::bind(w, p, n);
            }
            None => unschedulable(w, p, n_nodes, &reasons),
        }
    }
}

fn unschedulable(w: &mut World, p: usize, n_nodes: usize, reasons: &BTreeMap<&'static str, u32>) {
    let t = w.t;
    let since = *w.cluster.pods[p].unschedulable_since.get_or_insert(t);
    let first = since == t;
    let due = first || (t - since) / RETRY_EVENT_MS != (t - w.step_ms - since) / RETRY_EVENT_MS;
    if !due {
        return;
    }
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let msg = format!(
        "0/{n_nodes} nodes are available: {}. preemption: 0/{n_nodes} nodes are available: {n_nodes} No preemption victims found for incoming pod.",
        parts.join(", ")
    );
    let r = w.pod_ref(p);
    w.event(
        r.clone(),
        EventType::Warning,
        "FailedScheduling",
        msg.clone(),
        "default-scheduler",
        "",
    );
    if first {
        let related = crate::kubelet::related_of(w, p);
        w.fail(
            r,
            &related,
            FailureType::Unschedulable,
            "FailedScheduling",
            msg,
        );
    }
}

fn hash2(s: &str, n: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ n as u64;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
