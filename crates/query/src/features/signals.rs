//! The signals features are computed from: one PromQL expression per signal, aggregated to one
//! series per pod (`namespace`, `pod`) or per node (`node`), over the series a real cluster has
//! (cAdvisor, kube-state-metrics, node-exporter and the applications' Prometheus clients).

/// A signal: a PromQL expression with one series per object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// Feature name prefix.
    pub name: &'static str,
    /// The expression; its series carry `namespace` and `pod`, or `node`.
    pub expr: &'static str,
    /// A limit the signal fails at, for a time-to-limit forecast.
    pub limit: Option<f64>,
    /// Whether a trend over the long window is computed too (for slow climbs hidden by
    /// short-term noise such as a garbage collector's sawtooth).
    pub trend: bool,
    /// Context, not evidence: an absolute size (a memory limit, a disk's capacity) that
    /// explanations and recommendations quote, but that models must not learn from: it names
    /// the workload, and a model that learns which workloads failed in training does not
    /// generalise.
    pub context: bool,
}

const fn signal(name: &'static str, expr: &'static str) -> Signal {
    Signal {
        name,
        expr,
        limit: None,
        trend: false,
        context: false,
    }
}

const fn context(name: &'static str, expr: &'static str) -> Signal {
    Signal {
        context: true,
        ..signal(name, expr)
    }
}

const fn trended(name: &'static str, expr: &'static str, limit: Option<f64>) -> Signal {
    Signal {
        name,
        expr,
        limit,
        trend: true,
        context: false,
    }
}

/// The node signal that is 1 while the scrape of the node's node-exporter fails.
pub const EXPORTER_DOWN: &str = "exporter_down";

/// Pod signals.
pub const POD_SIGNALS: &[Signal] = &[
    trended(
        "memory_limit_ratio",
        r#"max by (namespace, pod) (container_memory_working_set_bytes{container!=""} / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}))"#,
        Some(1.0),
    ),
    signal(
        "memory_request_ratio",
        r#"max by (namespace, pod) (container_memory_working_set_bytes{container!=""} / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_requests{resource="memory"}))"#,
    ),
    context(
        "memory_limit_bytes",
        r#"max by (namespace, pod) (kube_pod_container_resource_limits{resource="memory"})"#,
    ),
    trended(
        "cpu_limit_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[1m]) / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="cpu"}))"#,
        Some(1.0),
    ),
    context(
        "cpu_limit_cores",
        r#"max by (namespace, pod) (kube_pod_container_resource_limits{resource="cpu"})"#,
    ),
    signal(
        "cpu_request_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[1m]) / on (namespace, pod, container) group_left max by (namespace, pod, container) (kube_pod_container_resource_requests{resource="cpu"}))"#,
    ),
    trended(
        "cpu_throttled_ratio",
        r#"max by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total{container!=""}[1m]) / rate(container_cpu_cfs_periods_total{container!=""}[1m]))"#,
        None,
    ),
    signal(
        "restarts",
        r#"sum by (namespace, pod) (kube_pod_container_status_restarts_total)"#,
    ),
    signal(
        "restarts_10m",
        r#"sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[10m]))"#,
    ),
    signal(
        "age_seconds",
        r#"max by (namespace, pod) (time() - kube_pod_created)"#,
    ),
    // How long the pod's revision has run: the age of the ReplicaSet that owns it. A build
    // rolled out minutes ago is new; a rollout undone brings back a ReplicaSet that ran before.
    signal(
        "revision_age_seconds",
        r#"max by (namespace, pod) (kube_pod_owner{owner_kind="ReplicaSet"} * on (namespace, owner_name) group_left () max by (namespace, owner_name) (label_replace(time() - kube_replicaset_created, "owner_name", "$1", "replicaset", "(.*)")))"#,
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
    trended(
        "fs_usage_bytes",
        r#"sum by (namespace, pod) (container_fs_usage_bytes{container!=""})"#,
        None,
    ),
    trended(
        "http_error_ratio",
        r#"sum by (namespace, pod) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (namespace, pod) (rate(http_requests_total[1m]))"#,
        None,
    ),
    trended(
        "http_latency_seconds",
        r#"sum by (namespace, pod) (rate(http_request_duration_seconds_sum[1m])) / sum by (namespace, pod) (rate(http_request_duration_seconds_count[1m]))"#,
        None,
    ),
    // The service the pod serves, all its endpoints together.
    trended(
        "service_error_ratio",
        r#"max by (namespace, pod) (group by (namespace, service, pod) (http_requests_total) * on (namespace, service) group_left () (sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (namespace, service) (rate(http_requests_total[1m]))))"#,
        None,
    ),
    trended(
        "service_latency_seconds",
        r#"max by (namespace, pod) (group by (namespace, service, pod) (http_requests_total) * on (namespace, service) group_left () (sum by (namespace, service) (rate(http_request_duration_seconds_sum[1m])) / sum by (namespace, service) (rate(http_request_duration_seconds_count[1m]))))"#,
        None,
    ),
    // What the pod's service calls: the worst of its callees' failed share of calls and mean
    // server latency, from the service graph metrics a trace pipeline derives from spans
    // (namespace as a dimension). Missing where no traces are collected.
    trended(
        "dependency_error_ratio",
        r#"max by (namespace, pod) (group by (namespace, service, pod) (http_requests_total) * on (namespace, service) group_left () max by (namespace, service) (label_replace(label_replace((sum by (client, client_k8s_namespace_name, server, server_k8s_namespace_name) (rate(traces_service_graph_request_failed_total[1m])) or 0 * sum by (client, client_k8s_namespace_name, server, server_k8s_namespace_name) (rate(traces_service_graph_request_total[1m]))) / sum by (client, client_k8s_namespace_name, server, server_k8s_namespace_name) (rate(traces_service_graph_request_total[1m])), "service", "$1", "client", "(.*)"), "namespace", "$1", "client_k8s_namespace_name", "(.*)")))"#,
        None,
    ),
    trended(
        "dependency_latency_seconds",
        r#"max by (namespace, pod) (group by (namespace, service, pod) (http_requests_total) * on (namespace, service) group_left () max by (namespace, service) (label_replace(label_replace(sum by (client, client_k8s_namespace_name, server, server_k8s_namespace_name) (rate(traces_service_graph_request_server_seconds_sum[1m])) / sum by (client, client_k8s_namespace_name, server, server_k8s_namespace_name) (rate(traces_service_graph_request_server_seconds_count[1m])), "service", "$1", "client", "(.*)"), "namespace", "$1", "client_k8s_namespace_name", "(.*)")))"#,
        None,
    ),
    signal(
        "last_terminated_oom",
        r#"max by (namespace, pod) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled"})"#,
    ),
    signal(
        "last_terminated_error",
        r#"max by (namespace, pod) (kube_pod_container_status_last_terminated_reason{reason="Error"})"#,
    ),
    signal(
        "crash_loop_back_off",
        r#"max by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})"#,
    ),
    // Seconds until the container has run as long as its runs before a termination lasted on
    // average (from the pod's start): a build that exits some minutes after it starts exits
    // again about as long after its restart. Missing until the container first terminates
    // (and where it never restarted: a division by zero); negative once it outlives its
    // earlier runs.
    signal(
        "run_left_seconds",
        r#"max by (namespace, pod) ((kube_pod_container_status_last_terminated_timestamp - on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_start_time)) / kube_pod_container_status_restarts_total - (time() - kube_pod_container_state_started))"#,
    ),
    // Error and fatal log lines per second, from the per-template line counts.
    signal(
        "log_error_rate",
        r#"sum by (namespace, pod) (rate(kubepulse_log_template_lines_total{level=~"error|fatal"}[1m]))"#,
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
    trended(
        "node_fs_used_ratio",
        r#"max by (namespace, pod) (kube_pod_info * on (node) group_left max by (node) (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}))"#,
        Some(0.9),
    ),
    signal(
        "node_pressure",
        r#"max by (namespace, pod) (kube_pod_info * on (node) group_left max by (node) (kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure",status="true"}))"#,
    ),
];

/// Node signals.
pub const NODE_SIGNALS: &[Signal] = &[
    trended(
        "cpu_busy_ratio",
        r#"1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[1m]))"#,
        None,
    ),
    trended(
        "memory_available_ratio",
        r#"max by (node) (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)"#,
        None,
    ),
    trended(
        "fs_used_ratio",
        r#"max by (node) (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})"#,
        Some(0.9),
    ),
    context(
        "fs_size_bytes",
        r#"max by (node) (node_filesystem_size_bytes{mountpoint="/"})"#,
    ),
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
    // 1 while the scrape of the node's node-exporter fails: a node that stops answering shows
    // here first (its node-exporter series go stale, so nothing else of them is left to read).
    signal(
        EXPORTER_DOWN,
        r#"1 - min by (node) (up{job=~".*node-exporter"})"#,
    ),
];

/// Event reasons counted for pods.
pub const POD_EVENT_REASONS: &[&str] = &[
    "BackOff",
    "Unhealthy",
    "Killing",
    "Failed",
    "Evicted",
    "FailedScheduling",
    "NodeNotReady",
];

/// Event reasons counted for nodes.
pub const NODE_EVENT_REASONS: &[&str] = &[
    "EvictionThresholdMet",
    "NodeHasDiskPressure",
    "NodeHasInsufficientMemory",
    "OOMKilling",
    "NodeNotReady",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_parses() {
        for s in POD_SIGNALS.iter().chain(NODE_SIGNALS) {
            if let Err(e) = crate::parse::parse(s.expr) {
                panic!("{}: {}", s.name, e.render(s.expr));
            }
        }
    }
}
