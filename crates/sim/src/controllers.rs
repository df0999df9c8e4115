//! The controllers that keep workloads at their desired state: Deployments (ReplicaSets and
//! rolling updates with 25% surge and 25% unavailable), StatefulSets (ordered, stable names),
//! DaemonSets (one pod per node), Jobs (retries with back-off, TTL after finishing), and the
//! clean-up of evicted pods.

use kubepulse_model::{EventType, ObjectKind, ObjectRef};

use crate::cluster::{PodPhase, ReplicaSet, WorkloadKind};
use crate::pods;
use crate::world::World;

/// Evicted pods are removed this long after they failed.
const EVICTED_GC_MS: i64 = 30 * 60_000;
/// Finished Jobs and their pods are removed this long after they finished.
const JOB_TTL_MS: i64 = 30 * 60_000;
const JOB_BACKOFF_LIMIT: u32 = 6;
const PROGRESS_DEADLINE_MS: i64 = 600_000;

/// Runs every controller once.
pub fn step(w: &mut World, seed: u64) {
    let mut by_wl = vec![Vec::new(); w.cluster.workloads.len()];
    for &p in &w.cluster.live {
        by_wl[w.cluster.pods[p].workload].push(p);
    }
    for (wl, owned) in by_wl.into_iter().enumerate() {
        if w.cluster.workloads[wl].deleted {
            continue;
        }
        match w.cluster.workloads[wl].kind {
            WorkloadKind::Deployment => deployment(w, wl, &owned, seed),
            WorkloadKind::StatefulSet => statefulset(w, wl, &owned, seed),
            WorkloadKind::DaemonSet => daemonset(w, wl, &owned, seed),
            WorkloadKind::Job => job(w, wl, &owned, seed),
        }
    }
    let t = w.t;
    let expired: Vec<usize> = w
        .cluster
        .live
        .iter()
        .copied()
        .filter(|&p| {
            let pod = &w.cluster.pods[p];
            pod.reason == "Evicted"
                && pod.container.last_termination.is_none_or(|_| true)
                && evicted_at(pod).is_some_and(|e| t - e >= EVICTED_GC_MS)
        })
        .collect();
    for p in expired {
        pods::delete(w, p);
    }
}

fn evicted_at(pod: &crate::cluster::Pod) -> Option<i64> {
    match pod.container.state {
        crate::cluster::ContainerState::Terminated(term) => Some(term.at),
        _ => None,
    }
}

/// Pods that count as replicas: not deleted and not finished.
fn counts(w: &World, p: usize) -> bool {
    let pod = &w.cluster.pods[p];
    pod.deleted_at.is_none() && !pod.finished()
}

fn deployment(w: &mut World, wl: usize, owned: &[usize], seed: u64) {
    let t = w.t;
    let workload = &w.cluster.workloads[wl];
    let desired = workload.replicas;
    let revision = workload.revision;
    if workload.current_rs().is_none() {
        let template = workload.template.clone();
        let first = workload.replica_sets.is_empty();
        let same = workload
            .replica_sets
            .iter()
            .position(|r| r.template.hash == template.hash);
        match same {
            // A template it ran before (a rollout undone): its ReplicaSet comes back with the
            // new revision, as the deployment controller finds it by the template's hash.
            Some(i) => revive_rs(w, wl, i, revision),
            None => {
                let uid = w.rng.uuid();
                let workload = &mut w.cluster.workloads[wl];
                workload.replica_sets.push(ReplicaSet {
                    name: format!("{}-{}", workload.name, template.hash),
                    uid,
                    revision,
                    template,
                    replicas: 0,
                    created: t,
                });
            }
        }
        let workload = &mut w.cluster.workloads[wl];
        if !first {
            workload.rollout = Some(crate::cluster::Rollout {
                started: t,
                revision,
                deadline_reported: false,
            });
        }
    }
    let ready_of = |w: &World, rev: u32| {
        owned
            .iter()
            .filter(|&&p| w.cluster.pods[p].ready && w.cluster.pods[p].revision == rev)
            .count() as u32
    };
    let cur = w.cluster.workloads[wl]
        .replica_sets
        .iter()
        .position(|r| r.revision == revision)
        .unwrap_or(0);
    let surge = (f64::from(desired) * 0.25).ceil() as u32;
    let unavailable = (f64::from(desired) * 0.25).floor() as u32;
    let surge = if surge == 0 && unavailable == 0 {
        1
    } else {
        surge
    };
    let total: u32 = w.cluster.workloads[wl]
        .replica_sets
        .iter()
        .map(|r| r.replicas)
        .sum();
    let cur_replicas = w.cluster.workloads[wl].replica_sets[cur].replicas;
    if cur_replicas < desired && total < desired + surge {
        let up = (desired + surge - total).min(desired - cur_replicas);
        scale_rs(w, wl, cur, cur_replicas + up);
    } else if cur_replicas > desired {
        scale_rs(w, wl, cur, desired);
    }
    let available: u32 = w.cluster.workloads[wl]
        .replica_sets
        .iter()
        .map(|r| ready_of(w, r.revision))
        .sum();
    let mut can_remove = available.saturating_sub(desired.saturating_sub(unavailable));
    for i in 0..w.cluster.workloads[wl].replica_sets.len() {
        let rs = &w.cluster.workloads[wl].replica_sets[i];
        if i == cur || rs.replicas == 0 {
            continue;
        }
        let not_ready = rs.replicas.saturating_sub(ready_of(w, rs.revision));
        let remove = (can_remove + not_ready).min(rs.replicas);
        if remove > 0 {
            can_remove = can_remove.saturating_sub(remove.saturating_sub(not_ready));
            let to = rs.replicas - remove;
            scale_rs(w, wl, i, to);
        }
    }
    for i in 0..w.cluster.workloads[wl].replica_sets.len() {
        let rs = &w.cluster.workloads[wl].replica_sets[i];
        let (rev, want) = (rs.revision, rs.replicas as usize);
        let mine: Vec<usize> = owned
            .iter()
            .copied()
            .filter(|&p| w.cluster.pods[p].revision == rev && counts(w, p))
            .collect();
        reconcile_count(w, wl, Some(i), &mine, want, seed);
    }
    let all_new_ready = ready_of(w, revision) >= desired;
    let old_gone = w.cluster.workloads[wl]
        .replica_sets
        .iter()
        .enumerate()
        .all(|(i, r)| i == cur || r.replicas == 0);
    let workload = &mut w.cluster.workloads[wl];
    if let Some(ro) = workload.rollout.as_mut() {
        if all_new_ready && old_gone {
            workload.rollout = None;
        } else if t - ro.started >= PROGRESS_DEADLINE_MS {
            ro.deadline_reported = true;
        }
    }
}

/// Gives ReplicaSet `i` of workload `wl`, and the pods it owns, revision `revision`.
fn revive_rs(w: &mut World, wl: usize, i: usize, revision: u32) {
    let rs = &mut w.cluster.workloads[wl].replica_sets[i];
    let old = rs.revision;
    rs.revision = revision;
    for pod in w
        .cluster
        .pods
        .iter_mut()
        .filter(|p| p.workload == wl && p.revision == old)
    {
        pod.revision = revision;
    }
}

fn scale_rs(w: &mut World, wl: usize, i: usize, to: u32) {
    let workload = &mut w.cluster.workloads[wl];
    let rs = &mut workload.replica_sets[i];
    let from = rs.replicas;
    rs.replicas = to;
    let msg = if to > from {
        format!("Scaled up replica set {} to {to}", rs.name)
    } else {
        format!("Scaled down replica set {} to {to} from {from}", rs.name)
    };
    let r = ObjectRef::new(ObjectKind::Deployment, &workload.namespace, &workload.name)
        .with_uid(&workload.uid);
    w.event(
        r,
        EventType::Normal,
        "ScalingReplicaSet",
        msg,
        "deployment-controller",
        "",
    );
}

/// Creates or deletes pods so that `mine` (the counted pods) holds `want`. Deletes the least
/// useful first: unscheduled, then not ready, then newest.
fn reconcile_count(
    w: &mut World,
    wl: usize,
    rs: Option<usize>,
    mine: &[usize],
    want: usize,
    seed: u64,
) {
    if mine.len() < want {
        for _ in mine.len()..want {
            pods::create(w, wl, rs, None, seed);
        }
    } else if mine.len() > want {
        let mut order = mine.to_vec();
        order.sort_by_key(|&p| {
            let pod = &w.cluster.pods[p];
            (pod.node.is_some(), pod.ready, std::cmp::Reverse(p))
        });
        for &p in order.iter().take(mine.len() - want) {
            let owner = w.cluster.pods[p].owner_name.clone();
            let name = w.cluster.pods[p].name.clone();
            let ns = w.cluster.pods[p].namespace.clone();
            let r = ObjectRef::new(ObjectKind::ReplicaSet, &ns, &owner);
            w.event(
                r,
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted pod: {name}"),
                "replicaset-controller",
                "",
            );
            pods::delete(w, p);
        }
    }
}

fn statefulset(w: &mut World, wl: usize, owned: &[usize], seed: u64) {
    let desired = w.cluster.workloads[wl].replicas;
    let revision = w.cluster.workloads[wl].revision;
    let live: Vec<usize> = owned
        .iter()
        .copied()
        .filter(|&p| w.cluster.pods[p].deleted_at.is_none())
        .collect();
    for &p in &live {
        let pod = &w.cluster.pods[p];
        if pod.phase == PodPhase::Failed || pod.ordinal.is_some_and(|o| o >= desired) {
            pods::delete(w, p);
        }
    }
    let live: Vec<usize> = live
        .into_iter()
        .filter(|&p| w.cluster.pods[p].deleted_at.is_none())
        .collect();
    for o in 0..desired {
        if !live.iter().any(|&p| w.cluster.pods[p].ordinal == Some(o)) {
            let lower_ready = live
                .iter()
                .filter(|&&p| {
                    w.cluster.pods[p].ordinal.is_some_and(|x| x < o) && w.cluster.pods[p].ready
                })
                .count() as u32;
            if lower_ready == o {
                pods::create(w, wl, None, Some(o), seed);
            }
            return;
        }
    }
    let all_ready = live.iter().all(|&p| w.cluster.pods[p].ready);
    if all_ready
        && let Some(&p) = live
            .iter()
            .filter(|&&p| w.cluster.pods[p].revision != revision)
            .max_by_key(|&&p| w.cluster.pods[p].ordinal)
    {
        pods::delete(w, p);
    }
}

fn daemonset(w: &mut World, wl: usize, owned: &[usize], seed: u64) {
    let revision = w.cluster.workloads[wl].revision;
    for n in 0..w.cluster.nodes.len() {
        let mine: Vec<usize> = owned
            .iter()
            .copied()
            .filter(|&p| w.cluster.pods[p].pinned == Some(n) && counts(w, p))
            .collect();
        if mine.is_empty() {
            let p = pods::create(w, wl, None, None, seed);
            w.cluster.pods[p].pinned = Some(n);
        }
    }
    let outdated = owned
        .iter()
        .copied()
        .find(|&p| counts(w, p) && w.cluster.pods[p].revision != revision);
    let all_ready = owned
        .iter()
        .all(|&p| !counts(w, p) || w.cluster.pods[p].ready);
    if let (Some(p), true) = (outdated, all_ready) {
        pods::delete(w, p);
    }
}

fn job(w: &mut World, wl: usize, owned: &[usize], seed: u64) {
    let t = w.t;
    let Some(mut js) = w.cluster.workloads[wl].job else {
        return;
    };
    let r = w.workload_ref(wl);
    if let Some(done) = js.finished {
        if t - done >= JOB_TTL_MS {
            for &p in owned {
                pods::delete(w, p);
            }
            w.cluster.workloads[wl].deleted = true;
        }
        return;
    }
    let active = owned.iter().any(|&p| counts(w, p));
    if active {
        return;
    }
    let last = owned.iter().copied().max();
    match last.map(|p| w.cluster.pods[p].phase) {
        Some(PodPhase::Succeeded) => {
            js.succeeded = true;
            js.finished = Some(t);
            w.event(
                r,
                EventType::Normal,
                "Completed",
                "Job completed".into(),
                "job-controller",
                "",
            );
        }
        Some(PodPhase::Failed) => {
            js.failed += 1;
            if js.failed > JOB_BACKOFF_LIMIT {
                js.gave_up = true;
                js.finished = Some(t);
                w.event(
                    r,
                    EventType::Warning,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit".into(),
                    "job-controller",
                    "",
                );
            } else {
                let finished_at = last
                    .and_then(|p| evicted_at(&w.cluster.pods[p]))
                    .unwrap_or(t);
                if t - finished_at >= 10_000i64 << (js.failed - 1).min(5) {
                    pods::create(w, wl, None, None, seed);
                } else {
                    js.failed -= 1;
                }
            }
        }
        _ => {
            pods::create(w, wl, None, None, seed);
        }
    }
    w.cluster.workloads[wl].job = Some(js);
}
