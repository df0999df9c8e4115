//! kube-state-metrics series of Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs.

use kubepulse_model::MetricType::Gauge;

use super::{BOOLS, add, b};
use crate::cluster::{PodPhase, WorkloadKind};
use crate::emit::SeriesTable;
use crate::world::World;

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
    census: &crate::emit::Census,
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
            add(t, "kube_replicaset_created", Gauge, &l);
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
        out.push((b0 + 3, (rs.created / 1000) as f64));
    }
}
