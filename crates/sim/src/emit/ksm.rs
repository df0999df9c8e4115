//! kube-state-metrics series for pods, nodes and workloads, with the label names and value
//! conventions of kube-state-metrics 2.x (one series per state with value 0 or 1; waiting and
//! termination reasons as labels of series that exist only while they apply).

use kubepulse_model::MetricType::{self, Counter, Gauge};

use super::node_exporter::NodeSeries;
use super::{PodSeries, SeriesTable};
use crate::cluster::{ContainerState, PodPhase, WorkloadKind};
use crate::world::World;

const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
const BOOLS: [&str; 3] = ["true", "false", "unknown"];
const NODE_CONDITIONS: [&str; 5] = [
    "Ready",
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

fn ksm_labels<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("job", "kube-state-metrics"),
        ("instance", "kube-state-metrics.monitoring.svc:8080"),
    ];
    v.extend_from_slice(extra);
    v
}

fn add(t: &mut SeriesTable, name: &str, kind: MetricType, extra: &[(&str, &str)]) -> u32 {
    t.add(name, kind, "", &ksm_labels(extra))
}

fn with_pod<'a>(
    base: [(&'static str, &'a str); 3],
    extra: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    base.into_iter().chain(extra.iter().copied()).collect()
}

fn b(v: bool) -> f64 {
    if v { 1.0 } else { 0.0 }
}

/// Emits the kube-state-metrics series of live pod `p`.
pub fn pod(t: &mut SeriesTable, s: &mut PodSeries, w: &World, p: usize, out: &mut Vec<(u32, f64)>) {
    let pod = &w.cluster.pods[p];
    let (ns, name, uid, cname) = (
        pod.namespace.as_str(),
        pod.name.as_str(),
        pod.uid.as_str(),
        pod.container.name.as_str(),
    );
    let pb = [("namespace", ns), ("pod", name), ("uid", uid)];
    let base = *s.status.get_or_insert_with(|| {
        let first = add(
            t,
            "kube_pod_status_phase",
            Gauge,
            &with_pod(pb, &[("phase", PHASES[0])]),
        );
        for ph in &PHASES[1..] {
            add(
                t,
                "kube_pod_status_phase",
                Gauge,
                &with_pod(pb, &[("phase", ph)]),
            );
        }
        for c in BOOLS {
            add(
                t,
                "kube_pod_status_ready",
                Gauge,
                &with_pod(pb, &[("condition", c)]),
            );
        }
        add(
            t,
            "kube_pod_container_status_restarts_total",
            Counter,
            &with_pod(pb, &[("container", cname)]),
        );
        add(
            t,
            "kube_pod_container_status_ready",
            Gauge,
            &with_pod(pb, &[("container", cname)]),
        );
        add(
            t,
            "kube_pod_container_status_running",
            Gauge,
            &with_pod(pb, &[("container", cname)]),
        );
        add(
            t,
            "kube_pod_container_status_waiting",
            Gauge,
            &with_pod(pb, &[("container", cname)]),
        );
        add(
            t,
            "kube_pod_container_status_terminated",
            Gauge,
            &with_pod(pb, &[("container", cname)]),
        );
        add(t, "kube_pod_created", Gauge, &with_pod(pb, &[]));
        let owner_kind = pod.owner_kind.as_str();
        add(
            t,
            "kube_pod_owner",
            Gauge,
            &with_pod(
                pb,
                &[
                    ("owner_kind", owner_kind),
                    ("owner_name", pod.owner_name.as_str()),
                    ("owner_is_controller", "true"),
                ],
            ),
        );
        add(
            t,
            "kube_pod_status_unschedulable",
            Gauge,
            &with_pod(pb, &[]),
        );
        first
    });
    let phase_idx = match pod.phase {
        PodPhase::Pending => 0,
        PodPhase::Running => 1,
        PodPhase::Succeeded => 2,
        PodPhase::Failed => 3,
    };
    let node_lost = pod.node.is_some_and(|n| !w.cluster.nodes[n].ready);
    for i in 0..5 {
        out.push((
            base + i,
            b(i as usize == phase_idx && !node_lost || (node_lost && i == 4)),
        ));
    }
    let ready_idx = if node_lost {
        2
    } else if pod.ready {
        0
    } else {
        1
    };
    for i in 0..3 {
        out.push((base + 5 + i, b(i as usize == ready_idx)));
    }
    let st = pod.container.state;
    out.push((base + 8, f64::from(pod.container.restarts)));
    out.push((base + 9, b(pod.ready)));
    out.push((base + 10, b(st == ContainerState::Running)));
    out.push((base + 11, b(matches!(st, ContainerState::Waiting(_)))));
    out.push((base + 12, b(matches!(st, ContainerState::Terminated(_)))));
    out.push((base + 13, (pod.created / 1000) as f64));
    out.push((base + 14, 1.0));
    if pod.unschedulable_since.is_some() && pod.node.is_none() {
        out.push((base + 15, 1.0));
    }
    dynamic(t, s, w, p, out);
    if let Some(n) = pod.node {
        let node = &w.cluster.nodes[n];
        let base = *s.placement.get_or_insert_with(|| {
            let kind = pod.owner_kind.as_str();
            let info = [
                ("host_ip", node.ip.as_str()),
                ("pod_ip", pod.ip.as_str()),
                ("node", node.name.as_str()),
                ("created_by_kind", kind),
                ("created_by_name", pod.owner_name.as_str()),
                ("host_network", "false"),
            ];
            let first = add(t, "kube_pod_info", Gauge, &with_pod(pb, &info));
            add(t, "kube_pod_start_time", Gauge, &with_pod(pb, &[]));
            let cn = [("container", cname), ("node", node.name.as_str())];
            for (metric, res, unit) in [
                ("kube_pod_container_resource_requests", "cpu", "core"),
                ("kube_pod_container_resource_requests", "memory", "byte"),
                ("kube_pod_container_resource_limits", "cpu", "core"),
                ("kube_pod_container_resource_limits", "memory", "byte"),
            ] {
                let mut x = cn.to_vec();
                x.extend([("resource", res), ("unit", unit)]);
                add(t, metric, Gauge, &with_pod(pb, &x));
            }
            first
        });
        out.push((base, 1.0));
        out.push((
            base + 1,
            (pod.scheduled.unwrap_or(pod.created) / 1000) as f64,
        ));
        let (r, lim) = (&pod.template.requests, &pod.template.limits);
        out.push((base + 2, r.cpu));
        out.push((base + 3, r.memory));
        if lim.cpu > 0.0 {
            out.push((base + 4, lim.cpu));
        }
        if lim.memory > 0.0 {
            out.push((base + 5, lim.memory));
        }
    }
}

/// Series that exist only while a reason applies.
fn dynamic(t: &mut SeriesTable, s: &mut PodSeries, w: &World, p: usize, out: &mut Vec<(u32, f64)>) {
    let pod = &w.cluster.pods[p];
    let base = [
        ("namespace", pod.namespace.as_str()),
        ("pod", pod.name.as_str()),
        ("uid", pod.uid.as_str()),
    ];
    if let Some(reason) = pod.waiting_reason().map(|r| r.as_str()) {
        if s.waiting.is_none_or(|(r, _)| r != reason) {
            let mut l = base.to_vec();
            l.extend([
                ("container", pod.container.name.as_str()),
                ("reason", reason),
            ]);
            s.waiting = Some((
                reason,
                add(t, "kube_pod_container_status_waiting_reason", Gauge, &l),
            ));
        }
        if let Some((_, id)) = s.waiting {
            out.push((id, 1.0));
        }
    }
    if let Some(term) = pod.container.last_termination {
        if s.terminated.is_none_or(|(r, _)| r != term.reason) {
            let mut l = base.to_vec();
            l.extend([
                ("container", pod.container.name.as_str()),
                ("reason", term.reason),
            ]);
            let id = add(
                t,
                "kube_pod_container_status_last_terminated_reason",
                Gauge,
                &l,
            );
            l.pop();
            add(
                t,
                "kube_pod_container_status_last_terminated_exitcode",
                Gauge,
                &l,
            );
            s.terminated = Some((term.reason, id));
        }
        if let Some((_, id)) = s.terminated {
            out.push((id, 1.0));
            out.push((id + 1, f64::from(term.exit_code)));
        }
    }
    if !pod.reason.is_empty() {
        if s.reason.as_ref().is_none_or(|(r, _)| *r != pod.reason) {
            let mut l = base.to_vec();
            l.push(("reason", pod.reason.as_str()));
            s.reason = Some((
                pod.reason.clone(),
                add(t, "kube_pod_status_reason", Gauge, &l),
            ));
        }
        if let Some((_, id)) = &s.reason {
            out.push((*id, 1.0));
        }
    }
}

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

/// Series ids of one workload.
#[derive(Debug, Clone, Default)]
pub struct WorkloadSeries {
    base: Option<u32>,
    replica_sets: Vec<u32>,
}

/// Emits the kube-state-metrics series of workload `wl`.
pub fn workload(
    t: &mut SeriesTable,
    s: &mut WorkloadSeries,
    w: &World,
    wl: usize,
    census: &super::Census,
    out: &mut Vec<(u32, f64)>,
) {
    let c = &w.cluster;
    let x = &c.workloads[wl];
    let (ns, name) = (x.namespace.as_str(), x.name.as_str());
    let (total, ready, updated) = census.counts[wl];
    let pods = &census.by_workload[wl];
    let (prefix, key, names): (&str, &str, &[&str]) = match x.kind {
        WorkloadKind::Deployment => (
            "kube_deployment",
            "deployment",
            &[
                "spec_replicas",
                "status_replicas",
                "status_replicas_available",
                "status_replicas_unavailable",
                "status_replicas_updated",
                "status_replicas_ready",
                "metadata_generation",
                "status_observed_generation",
            ],
        ),
        WorkloadKind::StatefulSet => (
            "kube_statefulset",
            "statefulset",
            &[
                "replicas",
                "status_replicas",
                "status_replicas_ready",
                "status_replicas_current",
                "status_replicas_updated",
                "metadata_generation",
                "status_observed_generation",
            ],
        ),
        WorkloadKind::DaemonSet => (
            "kube_daemonset",
            "daemonset",
            &[
                "status_desired_number_scheduled",
                "status_current_number_scheduled",
                "status_number_ready",
                "status_number_available",
                "status_number_unavailable",
                "status_updated_number_scheduled",
                "status_number_misscheduled",
                "metadata_generation",
            ],
        ),
        WorkloadKind::Job => (
            "kube_job",
            "job_name",
            &[
                "status_active",
                "status_succeeded",
                "status_failed",
                "complete",
                "failed",
                "status_start_time",
                "owner",
            ],
        ),
    };
    let base = *s.base.get_or_insert_with(|| {
        let mut first = None;
        for n in names {
            let metric = format!("{prefix}_{n}");
            let mut l = vec![("namespace", ns), (key, name)];
            match *n {
                "complete" | "failed" => l.push(("condition", "true")),
                "owner" => l.extend([
                    ("owner_kind", "CronJob"),
                    ("owner_name", "report"),
                    ("owner_is_controller", "true"),
                ]),
                _ => {}
            }
            first.get_or_insert(add(t, &metric, Gauge, &l));
        }
        if x.kind == WorkloadKind::Deployment {
            for cond in ["Available", "Progressing"] {
                for st in BOOLS {
                    add(
                        t,
                        "kube_deployment_status_condition",
                        Gauge,
                        &[
                            ("namespace", ns),
                            ("deployment", name),
                            ("condition", cond),
                            ("status", st),
                        ],
                    );
                }
            }
        }
        first.unwrap_or(0)
    });
    let desired = if x.kind == WorkloadKind::DaemonSet {
        c.nodes.iter().filter(|n| n.ready).count() as u32
    } else {
        x.replicas
    };
    let generation = f64::from(x.generation);
    let values: Vec<f64> = match x.kind {
        WorkloadKind::Deployment => {
            let unavailable = desired.saturating_sub(ready);
            vec![
                f64::from(desired),
                f64::from(total),
                f64::from(ready),
                f64::from(unavailable),
                f64::from(updated),
                f64::from(ready),
                generation,
                generation,
            ]
        }
        WorkloadKind::StatefulSet => vec![
            f64::from(desired),
            f64::from(total),
            f64::from(ready),
            f64::from(total - updated.min(total)),
            f64::from(updated),
            generation,
            generation,
        ],
        WorkloadKind::DaemonSet => vec![
            f64::from(desired),
            f64::from(total),
            f64::from(ready),
            f64::from(ready),
            f64::from(desired.saturating_sub(ready)),
            f64::from(updated),
            0.0,
            generation,
        ],
        WorkloadKind::Job => {
            let js = x.job.unwrap_or_default();
            let failed = pods
                .iter()
                .filter(|&&p| c.pods[p].phase == PodPhase::Failed)
                .count();
            vec![
                f64::from(total),
                b(js.succeeded),
                failed as f64,
                b(js.succeeded),
                b(js.gave_up),
                (js.started / 1000) as f64,
                1.0,
            ]
        }
    };
    for (i, v) in values.into_iter().enumerate() {
        out.push((base + i as u32, v));
    }
    if x.kind == WorkloadKind::Deployment {
        let cb = base + names.len() as u32;
        let available = ready >= desired.saturating_sub((f64::from(desired) * 0.25).floor() as u32);
        let progressing = x.rollout.is_none_or(|r| !r.deadline_reported);
        for (i, v) in [available, progressing].into_iter().enumerate() {
            for st in 0..3u32 {
                out.push((cb + i as u32 * 3 + st, b((st == 0) == v && st < 2)));
            }
        }
        replica_sets(t, s, w, wl, pods, out);
    }
}

fn replica_sets(
    t: &mut SeriesTable,
    s: &mut WorkloadSeries,
    w: &World,
    wl: usize,
    pods: &[usize],
    out: &mut Vec<(u32, f64)>,
) {
    let c = &w.cluster;
    let x = &c.workloads[wl];
    for (i, rs) in x.replica_sets.iter().enumerate() {
        if s.replica_sets.len() <= i {
            let l = [
                ("namespace", x.namespace.as_str()),
                ("replicaset", rs.name.as_str()),
            ];
            let first = add(t, "kube_replicaset_spec_replicas", Gauge, &l);
            add(t, "kube_replicaset_status_ready_replicas", Gauge, &l);
            add(
                t,
                "kube_replicaset_owner",
                Gauge,
                &[
                    l[0],
                    l[1],
                    ("owner_kind", "Deployment"),
                    ("owner_name", x.name.as_str()),
                    ("owner_is_controller", "true"),
                ],
            );
            s.replica_sets.push(first);
        }
        let ready = pods
            .iter()
            .filter(|&&p| c.pods[p].ready && c.pods[p].revision == rs.revision)
            .count();
        let b0 = s.replica_sets[i];
        out.push((b0, f64::from(rs.replicas)));
        out.push((b0 + 1, ready as f64));
        out.push((b0 + 2, 1.0));
    }
}
