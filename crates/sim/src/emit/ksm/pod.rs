//! kube-state-metrics pod series.

use kubepulse_model::MetricType::{Counter, Gauge};

use super::{BOOLS, add, b};
use crate::cluster::{ContainerState, PodPhase};
use crate::emit::{PodSeries, SeriesTable};
use crate::world::World;

const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

fn with_pod<'a>(
    base: [(&'static str, &'a str); 3],
    extra: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    base.into_iter().chain(extra.iter().copied()).collect()
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
        add(
            t,
            "kube_pod_container_state_started",
            Gauge,
            &with_pod(pb, &[("container", cname)]),
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
    if st == ContainerState::Running {
        out.push((base + 16, (pod.container.started_at / 1000) as f64));
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
            add(
                t,
                "kube_pod_container_status_last_terminated_timestamp",
                Gauge,
                &l,
            );
            s.terminated = Some((term.reason, id));
        }
        if let Some((_, id)) = s.terminated {
            out.push((id, 1.0));
            out.push((id + 1, f64::from(term.exit_code)));
            out.push((id + 2, (term.at / 1000) as f64));
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
