//! Failure-prediction features: for every pod and node, windows (by default the last 3 minutes
//! at 15 s) of the signals a real cluster exposes, named as cAdvisor, kube-state-metrics,
//! node-exporter and application clients name them. Each signal is a PromQL expression
//! aggregated to one series per object, evaluated over the whole span at once; each window of
//! it is summarised by [`window::stats`]. The same code reads the live store and a dataset
//! loaded into a [`crate::MemSource`].

pub mod window;

use std::collections::BTreeMap;

use crate::{Engine, QueryError, QueryValue, Source};
use window::{WindowStats, stats};

/// The kind of object a feature row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// A pod, keyed by namespace and name.
    Pod,
    /// A node, keyed by name.
    Node,
}

/// A signal: a PromQL expression with one series per object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// Feature name prefix.
    pub name: &'static str,
    /// The expression; its series carry `namespace` and `pod`, or `node`.
    pub expr: &'static str,
    /// A limit the signal fails at, for a time-to-limit forecast.
    pub limit: Option<f64>,
}

const fn signal(name: &'static str, expr: &'static str) -> Signal {
    Signal {
        name,
        expr,
        limit: None,
    }
}

/// Pod signals.
pub const POD_SIGNALS: &[Signal] = &[
    Signal {
        name: "memory_limit_ratio",
        expr: r#"max by (namespace, pod) (container_memory_working_set_bytes{container!=""} / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}))"#,
        limit: Some(1.0),
    },
    signal(
        "memory_request_ratio",
        r#"max by (namespace, pod) (container_memory_working_set_bytes{container!=""} / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_requests{resource="memory"}))"#,
    ),
    signal(
        "cpu_limit_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[1m]) / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="cpu"}))"#,
    ),
    signal(
        "cpu_request_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[1m]) / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_requests{resource="cpu"}))"#,
    ),
    signal(
        "cpu_throttled_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total{container!=""}[1m]) / rate(container_cpu_cfs_periods_total{container!=""}[1m]))"#,
    ),
    signal(
        "restarts",
        r#"sum by (namespace, pod) (kube_pod_container_status_restarts_total)"#,
    ),
    signal(
        "waiting",
        r#"max by (namespace, pod) (kube_pod_container_status_waiting)"#,
    ),
    signal(
        "ready",
        r#"min by (namespace, pod) (kube_pod_status_ready{condition="true"})"#,
    ),
    signal(
        "network_errors",
        r#"sum by (namespace, pod) (rate(container_network_receive_errors_total[1m]) + rate(container_network_transmit_errors_total[1m]))"#,
    ),
    signal(
        "network_drops",
        r#"sum by (namespace, pod) (rate(container_network_receive_packets_dropped_total[1m]) + rate(container_network_transmit_packets_dropped_total[1m]))"#,
    ),
    signal(
        "fs_usage_bytes",
        r#"sum by (namespace, pod) (container_fs_usage_bytes{container!=""})"#,
    ),
    signal(
        "http_error_ratio",
        r#"sum by (namespace, pod) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (namespace, pod) (rate(http_requests_total[1m]))"#,
    ),
    signal(
        "http_latency_seconds",
        r#"sum by (namespace, pod) (rate(http_request_duration_seconds_sum[1m])) / sum by (namespace, pod) (rate(http_request_duration_seconds_count[1m]))"#,
    ),
    signal(
        "last_terminated_oom",
        r#"max by (namespace, pod) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled"})"#,
    ),
    signal(
        "crash_loop_back_off",
        r#"max by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})"#,
    ),
    // The node the pod runs on.
    signal(
        "node_memory_used_ratio",
        r#"max by (namespace, pod) (kube_pod_info * on (node) group_left max by (node) (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes))"#,
    ),
    signal(
        "node_cpu_busy_ratio",
        r#"max by (namespace, pod) (kube_pod_info * on (node) group_left avg by (node) (1 - rate(node_cpu_seconds_total{mode="idle"}[1m])))"#,
    ),
    Signal {
        name: "node_fs_used_ratio",
        expr: r#"max by (namespace, pod) (kube_pod_info * on (node) group_left max by (node) (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}))"#,
        limit: Some(0.9),
    },
];

/// Node signals.
pub const NODE_SIGNALS: &[Signal] = &[
    signal(
        "cpu_busy_ratio",
        r#"1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[1m]))"#,
    ),
    signal(
        "memory_available_ratio",
        r#"max by (node) (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)"#,
    ),
    Signal {
        name: "fs_used_ratio",
        expr: r#"max by (node) (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})"#,
        limit: Some(0.9),
    },
    signal(
        "load_per_core",
        r#"max by (node) (node_load1) / count by (node) (node_cpu_seconds_total{mode="idle"})"#,
    ),
    signal(
        "network_errors",
        r#"sum by (node) (rate(node_network_receive_errs_total[1m]) + rate(node_network_transmit_errs_total[1m]))"#,
    ),
    signal(
        "ready",
        r#"max by (node) (kube_node_status_condition{condition="Ready",status="true"})"#,
    ),
    signal(
        "memory_pressure",
        r#"max by (node) (kube_node_status_condition{condition="MemoryPressure",status="true"})"#,
    ),
    signal(
        "disk_pressure",
        r#"max by (node) (kube_node_status_condition{condition="DiskPressure",status="true"})"#,
    ),
    signal("running_pods", r#"max by (node) (kubelet_running_pods)"#),
];

/// Longest a forecast looks ahead, in seconds.
pub const FORECAST_CAP_SECS: f64 = 3600.0;

/// Window length and step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Window length (ms).
    pub window: i64,
    /// Spacing of points in a window, and of rows (ms).
    pub step: i64,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            window: 180_000,
            step: 15_000,
        }
    }
}

/// One object's features at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Pod or node.
    pub kind: ObjectKind,
    /// Namespace (empty for nodes).
    pub namespace: String,
    /// Pod or node name.
    pub name: String,
    /// Time of the window's end (ms).
    pub t: i64,
    /// Values, in the order of [`feature_names`].
    pub values: Vec<f64>,
}

/// The signals of a kind of object.
pub fn signals(kind: ObjectKind) -> &'static [Signal] {
    match kind {
        ObjectKind::Pod => POD_SIGNALS,
        ObjectKind::Node => NODE_SIGNALS,
    }
}

/// Names of the features of a kind of object, as `signal.stat`, then `signal.seconds_to_limit`
/// for signals with a limit.
pub fn feature_names(kind: ObjectKind) -> Vec<String> {
    let mut out = Vec::new();
    for s in signals(kind) {
        out.extend(WindowStats::NAMES.iter().map(|n| format!("{}.{n}", s.name)));
        if s.limit.is_some() {
            out.push(format!("{}.seconds_to_limit", s.name));
        }
    }
    out
}

/// Object key → one value (or none) per step of the grid.
type Grid = BTreeMap<(String, String), Vec<Option<f64>>>;

/// Features of every object of `kind` with data, for every step from `start` to `end`.
pub fn compute(
    engine: &Engine,
    src: &dyn Source,
    kind: ObjectKind,
    start: i64,
    end: i64,
    spec: FeatureSpec,
) -> Result<Vec<FeatureRow>, QueryError> {
    let step = spec.step.max(1);
    let w = (spec.window / step).max(1) as usize;
    let from = start - w as i64 * step;
    let len = ((end - from) / step) as usize + 1;
    let mut grids = Vec::new();
    for s in signals(kind) {
        grids.push(grid(engine, src, s.expr, kind, from, end, step, len)?);
    }
    let mut objects: Vec<&(String, String)> = grids.iter().flat_map(|g| g.keys()).collect();
    objects.sort();
    objects.dedup();
    let step_secs = step as f64 / 1000.0;
    let absent = vec![None; w + 1];
    let mut rows = Vec::new();
    for key in objects {
        for i in w..len {
            let mut values = Vec::new();
            let mut present = false;
            for (s, g) in signals(kind).iter().zip(&grids) {
                let st = match g.get(key) {
                    Some(points) => stats(&points[i - w..=i], step_secs),
                    None => stats(&absent, step_secs),
                };
                present |= st.missing < 1.0;
                values.extend(st.values());
                if let Some(limit) = s.limit {
                    values.push(st.seconds_to(limit, FORECAST_CAP_SECS));
                }
            }
            if present {
                rows.push(FeatureRow {
                    kind,
                    namespace: key.0.clone(),
                    name: key.1.clone(),
                    t: from + i as i64 * step,
                    values,
                });
            }
        }
    }
    Ok(rows)
}

/// Evaluates `expr` over the grid and files each series under its object.
#[allow(clippy::too_many_arguments)]
fn grid(
    engine: &Engine,
    src: &dyn Source,
    expr: &str,
    kind: ObjectKind,
    from: i64,
    end: i64,
    step: i64,
    len: usize,
) -> Result<Grid, QueryError> {
    let mut out = Grid::new();
    let QueryValue::Matrix(m) = engine.range(src, expr, from, end, step)?.value else {
        return Ok(out);
    };
    for s in m {
        let key = match kind {
            ObjectKind::Pod => (
                s.labels.get("namespace").unwrap_or_default().to_string(),
                s.labels.get("pod").unwrap_or_default().to_string(),
            ),
            ObjectKind::Node => (
                String::new(),
                s.labels.get("node").unwrap_or_default().to_string(),
            ),
        };
        if key.1.is_empty() {
            continue;
        }
        let points = out.entry(key).or_insert_with(|| vec![None; len]);
        for (t, v) in s.points {
            if let Some(p) = points.get_mut(((t - from) / step) as usize) {
                *p = Some(v);
            }
        }
    }
    Ok(out)
}

/// A pod serving a service, and when it did (first and last step it was seen, ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pod.
    pub pod: String,
    /// First step it served the service.
    pub from: i64,
    /// Last step it served the service.
    pub to: i64,
}

/// The pods behind each service (`namespace`, `service`) between `start` and `end`, from the
/// application request counters, seen every `step`.
pub fn service_members(
    engine: &Engine,
    src: &dyn Source,
    start: i64,
    end: i64,
    step: i64,
) -> Result<BTreeMap<(String, String), Vec<Member>>, QueryError> {
    let mut out: BTreeMap<(String, String), Vec<Member>> = BTreeMap::new();
    let q = "group by (namespace, service, pod) (http_requests_total)";
    let QueryValue::Matrix(m) = engine.range(src, q, start, end, step.max(1))?.value else {
        return Ok(out);
    };
    for s in m {
        let get = |n: &str| s.labels.get(n).unwrap_or_default().to_string();
        let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else {
            continue;
        };
        out.entry((get("namespace"), get("service")))
            .or_default()
            .push(Member {
                pod: get("pod"),
                from: first.0,
                to: last.0,
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_parses_and_names_are_unique() {
        for kind in [ObjectKind::Pod, ObjectKind::Node] {
            for s in signals(kind) {
                if let Err(e) = crate::parse::parse(s.expr) {
                    panic!("{}: {}", s.name, e.render(s.expr));
                }
            }
            let mut names = feature_names(kind);
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n);
        }
    }
}
