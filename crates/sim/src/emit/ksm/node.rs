//! kube-state-metrics node series.

use kubepulse_model::MetricType::Gauge;

use super::{BOOLS, add, b};
use crate::emit::SeriesTable;
use crate::emit::node_exporter::NodeSeries;
use crate::world::World;

const NODE_CONDITIONS: [&str; 5] = [
    "Ready",
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

/// Emits the kube-state-metrics series of node `n`.
pub fn node(
    t: &mut SeriesTable,
    s: &mut NodeSeries,
    w: &World,
    n: usize,
    out: &mut Vec<(u32, f64)>,
) {
    let node = &w.cluster.nodes[n];
    let base = *s.ksm.get_or_insert_with(|| {
        let name = node.name.as_str();
        let provider = format!(
            "aws:///{}/i-{:017x}",
            node.zone,
            n as u64 * 7919 + 4_096_131
        );
        let first = add(
            t,
            "kube_node_info",
            Gauge,
            &[
                ("node", name),
                ("kernel_version", "6.1.72-96.166.amzn2023.x86_64"),
                ("os_image", "Amazon Linux 2023"),
                ("container_runtime_version", "containerd://1.7.11"),
                ("kubelet_version", "v1.29.3-eks-ae9a62a"),
                ("kubeproxy_version", "v1.29.3-eks-ae9a62a"),
                ("provider_id", provider.as_str()),
                ("internal_ip", node.ip.as_str()),
            ],
        );
        for c in NODE_CONDITIONS {
            for st in BOOLS {
                add(
                    t,
                    "kube_node_status_condition",
                    Gauge,
                    &[("node", name), ("condition", c), ("status", st)],
                );
            }
        }
        for m in ["kube_node_status_allocatable", "kube_node_status_capacity"] {
            for (r, u) in [
                ("cpu", "core"),
                ("memory", "byte"),
                ("ephemeral_storage", "byte"),
                ("pods", "integer"),
            ] {
                add(t, m, Gauge, &[("node", name), ("resource", r), ("unit", u)]);
            }
        }
        add(t, "kube_node_spec_unschedulable", Gauge, &[("node", name)]);
        first
    });
    out.push((base, 1.0));
    let unknown = !node.kubelet_up && !node.ready;
    let conds = [
        node.ready,
        node.memory_pressure,
        node.disk_pressure,
        node.pid_pressure,
        node.network_unavailable,
    ];
    for (i, c) in conds.into_iter().enumerate() {
        let state = if unknown {
            2
        } else if c {
            0
        } else {
            1
        };
        for st in 0..3 {
            out.push((base + 1 + (i * 3 + st) as u32, b(st == state)));
        }
    }
    let alloc = [
        node.alloc_cpu,
        node.alloc_memory,
        node.alloc_disk,
        f64::from(node.max_pods),
    ];
    let cap = [
        node.cores(),
        node.shape.memory,
        node.shape.disk,
        f64::from(node.max_pods),
    ];
    for (i, v) in alloc.into_iter().chain(cap).enumerate() {
        out.push((base + 16 + i as u32, v));
    }
    out.push((base + 24, 0.0));
}
