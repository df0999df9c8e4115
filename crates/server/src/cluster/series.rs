//! Watched objects as series named as kube-state-metrics 2.x names them (the subset the rules,
//! the dashboard and the features read), and findings as `kubepulse_finding`. They carry
//! `job="kubepulse-watch"`: a kube-state-metrics scraped beside the watch writes its own.

use std::collections::HashSet;

use kubepulse_intel::findings::Finding;
use kubepulse_model::{ObjectState, STALE_NAN};
use kubepulse_store::{Append, SeriesWrite};

/// The `job` label of these series.
pub const JOB: &str = "kubepulse-watch";

/// Series of one moment.
#[derive(Default)]
pub struct Table {
    rows: Vec<(Vec<(String, String)>, f64)>,
}

impl Table {
    fn add(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        let mut l: Vec<(String, String)> =
            vec![("__name__".into(), name.into()), ("job".into(), JOB.into())];
        l.extend(
            labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        l.sort();
        l.dedup_by(|a, b| a.0 == b.0);
        self.rows.push((l, v));
    }

    /// Writes every row at `t`, and a staleness marker for each series of `previous` (the
    /// last write's) that is gone, as a scrape does; `previous` becomes this write's series.
    pub fn write(
        mut self,
        append: &dyn Append,
        t: i64,
        previous: &mut HashSet<Vec<(String, String)>>,
    ) -> anyhow::Result<()> {
        let now: HashSet<Vec<(String, String)>> =
            self.rows.iter().map(|(l, _)| l.clone()).collect();
        for gone in previous.difference(&now) {
            self.rows.push((gone.clone(), STALE_NAN));
        }
        *previous = now;
        let labels: Vec<Vec<(&str, &str)>> = self
            .rows
            .iter()
            .map(|(l, _)| l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
            .collect();
        let samples: Vec<[(i64, f64); 1]> = self.rows.iter().map(|r| [(t, r.1)]).collect();
        let batch: Vec<SeriesWrite<'_>> = labels
            .iter()
            .zip(&samples)
            .map(|(l, s)| SeriesWrite {
                labels: l,
                samples: s,
            })
            .collect();
        append.append(&batch)?;
        Ok(())
    }
}

const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

fn b(v: bool) -> f64 {
    if v { 1.0 } else { 0.0 }
}

fn num(s: &ObjectState, k: &str) -> Option<f64> {
    s.fields.get(k).and_then(|v| v.parse().ok())
}

fn pod(t: &mut Table, s: &ObjectState) {
    let (ns, name, uid) = (
        s.object.namespace.as_str(),
        s.object.name.as_str(),
        s.object.uid.as_str(),
    );
    let id = [("namespace", ns), ("pod", name), ("uid", uid)];
    let with = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        id.iter()
            .chain(extra.iter())
            .map(|(k, v)| (*k, v.to_string()))
            .collect()
    };
    let add = |t: &mut Table, metric: &str, l: Vec<(&'static str, String)>, v: f64| {
        let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t.add(metric, &l, v);
    };
    let (owner_kind, owner_name) = s
        .owner
        .as_ref()
        .map_or(("", ""), |o| (o.kind.as_str(), o.name.as_str()));
    let ip = s.fields.get("podIP").map_or("", String::as_str);
    add(
        t,
        "kube_pod_info",
        with(&[
            ("node", &s.node),
            ("pod_ip", ip),
            ("created_by_kind", owner_kind),
            ("created_by_name", owner_name),
        ]),
        1.0,
    );
    add(
        t,
        "kube_pod_owner",
        with(&[
            ("owner_kind", owner_kind),
            ("owner_name", owner_name),
            ("owner_is_controller", "true"),
        ]),
        1.0,
    );
    for p in PHASES {
        add(
            t,
            "kube_pod_status_phase",
            with(&[("phase", p)]),
            b(s.phase == p),
        );
    }
    for (c, v) in [("true", s.ready), ("false", !s.ready)] {
        add(t, "kube_pod_status_ready", with(&[("condition", c)]), b(v));
    }
    let container = s.fields.get("container").cloned().unwrap_or_default();
    let c = container.as_str();
    add(
        t,
        "kube_pod_container_status_restarts_total",
        with(&[("container", c)]),
        f64::from(s.restarts),
    );
    let waiting = matches!(
        s.reason.as_str(),
        "CrashLoopBackOff"
            | "ImagePullBackOff"
            | "ErrImagePull"
            | "CreateContainerConfigError"
            | "ContainerCreating"
            | "InvalidImageName"
    );
    if waiting {
        add(
            t,
            "kube_pod_container_status_waiting_reason",
            with(&[("container", c), ("reason", &s.reason)]),
            1.0,
        );
    }
    if let Some(r) = s.fields.get("lastState.terminated.reason") {
        add(
            t,
            "kube_pod_container_status_last_terminated_reason",
            with(&[("container", c), ("reason", r)]),
            1.0,
        );
    }
    if let Some(code) = num(s, "lastState.terminated.exitCode") {
        add(
            t,
            "kube_pod_container_status_last_terminated_exitcode",
            with(&[("container", c)]),
            code,
        );
    }
    if let Some(ms) = num(s, "lastState.terminated.finishedAt") {
        add(
            t,
            "kube_pod_container_status_last_terminated_timestamp",
            with(&[("container", c)]),
            (ms / 1000.0).floor(),
        );
    }
    if let Some(ms) = num(s, "state.running.startedAt") {
        add(
            t,
            "kube_pod_container_state_started",
            with(&[("container", c)]),
            (ms / 1000.0).floor(),
        );
    }
    if s.reason == "Evicted" {
        add(
            t,
            "kube_pod_status_reason",
            with(&[("reason", "Evicted")]),
            1.0,
        );
    }
    if s.conditions
        .get("PodScheduled")
        .is_some_and(|v| v == "False")
    {
        add(t, "kube_pod_status_unschedulable", with(&[]), 1.0);
    }
    for (what, metric) in [
        ("requests", "kube_pod_container_resource_requests"),
        ("limits", "kube_pod_container_resource_limits"),
    ] {
        for (res, unit) in [("cpu", "core"), ("memory", "byte")] {
            if let Some(v) = num(s, &format!("{what}.{res}")) {
                add(
                    t,
                    metric,
                    with(&[("container", c), ("resource", res), ("unit", unit)]),
                    v,
                );
            }
        }
    }
    if let Some(created) = num(s, "created") {
        add(t, "kube_pod_created", with(&[]), created / 1000.0);
    }
    if let Some(start) = num(s, "startTime") {
        add(
            t,
            "kube_pod_start_time",
            with(&[]),
            (start / 1000.0).floor(),
        );
    }
}

fn node(t: &mut Table, s: &ObjectState) {
    let n = s.object.name.as_str();
    let f = |k: &str| s.fields.get(k).map_or("", String::as_str);
    t.add(
        "kube_node_info",
        &[
            ("node", n),
            ("internal_ip", f("internalIP")),
            ("kubelet_version", f("kubeletVersion")),
        ],
        1.0,
    );
    for (cond, status) in &s.conditions {
        for v in ["true", "false", "unknown"] {
            t.add(
                "kube_node_status_condition",
                &[("node", n), ("condition", cond), ("status", v)],
                b(status.eq_ignore_ascii_case(v)),
            );
        }
    }
    t.add(
        "kube_node_spec_unschedulable",
        &[("node", n)],
        b(f("unschedulable") == "true"),
    );
    for (what, metric) in [
        ("capacity", "kube_node_status_capacity"),
        ("allocatable", "kube_node_status_allocatable"),
    ] {
        for (res, unit) in [("cpu", "core"), ("memory", "byte"), ("pods", "integer")] {
            if let Some(v) = num(s, &format!("{what}.{res}")) {
                t.add(metric, &[("node", n), ("resource", res), ("unit", unit)], v);
            }
        }
    }
}

fn workload(t: &mut Table, s: &ObjectState) {
    let kind = s.object.kind.to_lowercase();
    let (ns, name) = (s.object.namespace.as_str(), s.object.name.as_str());
    let (spec, ready) = match kind.as_str() {
        "daemonset" => (
            "kube_daemonset_status_desired_number_scheduled",
            "kube_daemonset_status_number_ready",
        ),
        "deployment" => (
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_ready",
        ),
        "statefulset" => (
            "kube_statefulset_replicas",
            "kube_statefulset_status_replicas_ready",
        ),
        "replicaset" => (
            "kube_replicaset_spec_replicas",
            "kube_replicaset_status_ready_replicas",
        ),
        _ => return,
    };
    let id = [("namespace", ns), (kind.as_str(), name)];
    if let Some(v) = num(s, "replicas") {
        t.add(spec, &id, v);
    }
    if let Some(v) = num(s, "readyReplicas") {
        t.add(ready, &id, v);
    }
    if kind == "replicaset"
        && let Some(created) = num(s, "created")
    {
        t.add("kube_replicaset_created", &id, (created / 1000.0).floor());
    }
    if kind == "replicaset"
        && let Some(o) = &s.owner
    {
        t.add(
            "kube_replicaset_owner",
            &[
                ("namespace", ns),
                ("replicaset", name),
                ("owner_kind", &o.kind),
                ("owner_name", &o.name),
                ("owner_is_controller", "true"),
            ],
            1.0,
        );
    }
}

/// The series of every object.
pub fn objects(t: &mut Table, objects: &[ObjectState]) {
    for s in objects {
        match s.object.kind.as_str() {
            "Pod" => pod(t, s),
            "Node" => node(t, s),
            _ => workload(t, s),
        }
    }
}

/// `kubepulse_finding{namespace, pod | node, kind, reason, severity} 1` per finding.
pub fn findings(t: &mut Table, found: &[Finding]) {
    for f in found {
        let o = &f.object;
        let (pod, node) = if o.kind == "Node" {
            ("", o.name.as_str())
        } else {
            (o.name.as_str(), f.node.as_str())
        };
        t.add(
            "kubepulse_finding",
            &[
                ("namespace", &o.namespace),
                ("pod", if o.kind == "Pod" { pod } else { "" }),
                ("node", node),
                ("kind", &o.kind),
                ("name", &o.name),
                ("reason", &f.reason),
                ("severity", f.severity.as_str()),
            ],
            1.0,
        );
    }
}
