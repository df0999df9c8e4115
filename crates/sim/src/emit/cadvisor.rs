//! cAdvisor series as the kubelet serves them on `/metrics/cadvisor`: per container (a new
//! series set for every container id, counters starting from zero) and per pod network.

use kubepulse_model::MetricType::{Counter, Gauge};

use super::{PodSeries, SeriesTable, ms};
use crate::dynamics::fs_usage;
use crate::world::World;

const CONTAINER: [(&str, kubepulse_model::MetricType, &str); 13] = [
    (
        "container_cpu_usage_seconds_total",
        Counter,
        "Cumulative cpu time consumed in seconds.",
    ),
    (
        "container_memory_working_set_bytes",
        Gauge,
        "Current working set in bytes.",
    ),
    ("container_memory_rss", Gauge, "Size of RSS in bytes."),
    (
        "container_memory_cache",
        Gauge,
        "Number of bytes of page cache memory.",
    ),
    (
        "container_memory_usage_bytes",
        Gauge,
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
    ),
    (
        "container_spec_memory_limit_bytes",
        Gauge,
        "Memory limit for the container.",
    ),
    (
        "container_fs_usage_bytes",
        Gauge,
        "Number of bytes that are consumed by the container on this filesystem.",
    ),
    (
        "container_fs_writes_bytes_total",
        Counter,
        "Cumulative count of bytes written",
    ),
    (
        "container_fs_reads_bytes_total",
        Counter,
        "Cumulative count of bytes read",
    ),
    (
        "container_oom_events_total",
        Counter,
        "Count of out of memory events observed for the container",
    ),
    (
        "container_cpu_cfs_periods_total",
        Counter,
        "Number of elapsed enforcement period intervals.",
    ),
    (
        "container_cpu_cfs_throttled_periods_total",
        Counter,
        "Number of throttled period intervals.",
    ),
    (
        "container_cpu_cfs_throttled_seconds_total",
        Counter,
        "Total time duration the container has been throttled.",
    ),
];

const NETWORK: [(&str, &str); 8] = [
    (
        "container_network_receive_bytes_total",
        "Cumulative count of bytes received",
    ),
    (
        "container_network_transmit_bytes_total",
        "Cumulative count of bytes transmitted",
    ),
    (
        "container_network_receive_packets_total",
        "Cumulative count of packets received",
    ),
    (
        "container_network_transmit_packets_total",
        "Cumulative count of packets transmitted",
    ),
    (
        "container_network_receive_errors_total",
        "Cumulative count of errors encountered while receiving",
    ),
    (
        "container_network_transmit_errors_total",
        "Cumulative count of errors encountered while transmitting",
    ),
    (
        "container_network_receive_packets_dropped_total",
        "Cumulative count of packets dropped while receiving",
    ),
    (
        "container_network_transmit_packets_dropped_total",
        "Cumulative count of packets dropped while transmitting",
    ),
];

/// The QoS class as it appears in cgroup paths.
fn qos(p: &crate::cluster::Pod) -> &'static str {
    let (r, l) = (&p.template.requests, &p.template.limits);
    if r.cpu == 0.0 && r.memory == 0.0 && l.cpu == 0.0 && l.memory == 0.0 {
        "besteffort"
    } else if l.cpu > 0.0 && l.memory > 0.0 && r.cpu == l.cpu && r.memory == l.memory {
        "guaranteed"
    } else {
        "burstable"
    }
}

fn pod_cgroup(p: &crate::cluster::Pod) -> String {
    let q = qos(p);
    format!(
        "/kubepods.slice/kubepods-{q}.slice/kubepods-{q}-pod{}.slice",
        p.uid.replace('-', "_")
    )
}

/// Emits the cAdvisor series of running pod `p`.
pub fn emit(
    table: &mut SeriesTable,
    s: &mut PodSeries,
    w: &World,
    p: usize,
    out: &mut Vec<(u32, f64)>,
) {
    let pod = &w.cluster.pods[p];
    let Some(n) = pod.node else { return };
    let node = &w.cluster.nodes[n];
    let cid = pod.container.id.trim_start_matches("containerd://");
    let registered = s.container.as_ref().is_some_and(|(_, id)| id == cid) && s.network.is_some();
    if !registered {
        register(table, s, pod, node, cid);
    }
    values(s, pod, out);
}

fn register(
    table: &mut SeriesTable,
    s: &mut PodSeries,
    pod: &crate::cluster::Pod,
    node: &crate::cluster::Node,
    cid: &str,
) {
    let instance = format!("{}:10250", node.ip);
    if s.container.as_ref().is_none_or(|(_, id)| id != cid) {
        let cg = format!("{}/cri-containerd-{cid}.scope", pod_cgroup(pod));
        let image = pod.container.image.clone();
        let labels = [
            ("instance", instance.as_str()),
            ("job", "kubelet"),
            ("metrics_path", "/metrics/cadvisor"),
            ("node", node.name.as_str()),
            ("namespace", pod.namespace.as_str()),
            ("pod", pod.name.as_str()),
            ("container", pod.container.name.as_str()),
            ("image", image.as_str()),
            ("id", cg.as_str()),
            ("name", cid),
        ];
        let mut base = None;
        for (i, (name, kind, help)) in CONTAINER.iter().enumerate() {
            let id = if i == 0 {
                let mut l = labels.to_vec();
                l.push(("cpu", "total"));
                table.add(name, *kind, help, &l)
            } else if name.starts_with("container_fs_") {
                let mut l = labels.to_vec();
                l.push(("device", "/dev/nvme0n1p1"));
                table.add(name, *kind, help, &l)
            } else {
                table.add(name, *kind, help, &labels)
            };
            base.get_or_insert(id);
        }
        s.container = base.map(|b| (b, cid.to_string()));
    }
    if s.network.is_none() {
        let cg = pod_cgroup(pod);
        let labels = [
            ("instance", instance.as_str()),
            ("job", "kubelet"),
            ("metrics_path", "/metrics/cadvisor"),
            ("node", node.name.as_str()),
            ("namespace", pod.namespace.as_str()),
            ("pod", pod.name.as_str()),
            ("interface", "eth0"),
            ("id", cg.as_str()),
        ];
        let mut base = None;
        for (name, help) in NETWORK {
            base.get_or_insert(table.add(name, Counter, help, &labels));
        }
        s.network = base;
    }
}

fn values(s: &PodSeries, pod: &crate::cluster::Pod, out: &mut Vec<(u32, f64)>) {
    let u = &pod.usage;
    if let Some((b, _)) = &s.container {
        let b = *b;
        let ws = u.working_set;
        let values = [
            ms(u.cpu_seconds),
            ws,
            (ws * 0.86 / 4096.0).round() * 4096.0,
            (u.cache * 0.3 / 4096.0).round() * 4096.0 + 1_048_576.0,
            ws + 2_097_152.0,
            pod.template.limits.memory,
            fs_usage(pod),
            u.fs_writes,
            u.fs_reads,
            u.oom_events,
        ];
        for (i, v) in values.into_iter().enumerate() {
            out.push((b + i as u32, v));
        }
        if pod.template.limits.cpu > 0.0 {
            out.push((b + 10, u.periods));
            out.push((b + 11, u.throttled_periods));
            out.push((b + 12, ms(u.throttled_seconds)));
        }
    }
    if let Some(b) = s.network {
        for (i, v) in u.net.iter().enumerate() {
            out.push((b + i as u32, *v));
        }
    }
}
