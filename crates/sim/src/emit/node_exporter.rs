//! node-exporter series (CPU by mode per core, memory, root filesystem, network, disk, load,
//! boot time) and the kubelet's running-pod gauge, emitted while the node is up; and the scrape's
//! `up` of node-exporter, 1 while the node is up and 0 while it is down, as a Prometheus server
//! scraping it records (the other series then go stale).

use kubepulse_model::MetricType::{Counter, Gauge};

use super::{CPU_MODES, SeriesTable, ms};
use crate::world::World;

/// Series ids of one node.
#[derive(Debug, Clone, Default)]
pub struct NodeSeries {
    exporter: Option<u32>,
    /// The scrape's `up` of node-exporter.
    up: Option<u32>,
    /// kube-state-metrics node series (first id).
    pub ksm: Option<u32>,
}

const SCALARS: [(&str, bool, &str); 18] = [
    (
        "node_memory_MemTotal_bytes",
        false,
        "Memory information field MemTotal_bytes.",
    ),
    (
        "node_memory_MemAvailable_bytes",
        false,
        "Memory information field MemAvailable_bytes.",
    ),
    (
        "node_memory_MemFree_bytes",
        false,
        "Memory information field MemFree_bytes.",
    ),
    (
        "node_memory_Cached_bytes",
        false,
        "Memory information field Cached_bytes.",
    ),
    (
        "node_memory_Buffers_bytes",
        false,
        "Memory information field Buffers_bytes.",
    ),
    (
        "node_network_receive_bytes_total",
        true,
        "Network device statistic receive_bytes.",
    ),
    (
        "node_network_transmit_bytes_total",
        true,
        "Network device statistic transmit_bytes.",
    ),
    (
        "node_network_receive_packets_total",
        true,
        "Network device statistic receive_packets.",
    ),
    (
        "node_network_transmit_packets_total",
        true,
        "Network device statistic transmit_packets.",
    ),
    (
        "node_network_receive_errs_total",
        true,
        "Network device statistic receive_errs.",
    ),
    (
        "node_network_transmit_errs_total",
        true,
        "Network device statistic transmit_errs.",
    ),
    (
        "node_network_receive_drop_total",
        true,
        "Network device statistic receive_drop.",
    ),
    (
        "node_network_transmit_drop_total",
        true,
        "Network device statistic transmit_drop.",
    ),
    (
        "node_disk_read_bytes_total",
        true,
        "The total number of bytes read successfully.",
    ),
    (
        "node_disk_written_bytes_total",
        true,
        "The total number of bytes written successfully.",
    ),
    (
        "node_disk_io_time_seconds_total",
        true,
        "Total seconds spent doing I/Os.",
    ),
    ("node_load1", false, "1m load average."),
    (
        "node_boot_time_seconds",
        false,
        "Node boot time, in unixtime.",
    ),
];

const FS: [(&str, &str); 3] = [
    ("node_filesystem_size_bytes", "Filesystem size in bytes."),
    (
        "node_filesystem_avail_bytes",
        "Filesystem space available to non-root users in bytes.",
    ),
    (
        "node_filesystem_free_bytes",
        "Filesystem free space in bytes.",
    ),
];

/// Emits node-exporter and kubelet series of node `n` while its kubelet is up.
pub fn emit(
    t: &mut SeriesTable,
    s: &mut NodeSeries,
    w: &World,
    n: usize,
    running: u32,
    out: &mut Vec<(u32, f64)>,
) {
    let node = &w.cluster.nodes[n];
    if !node.kubelet_up {
        if let Some(up) = s.up {
            out.push((up, 0.0));
        }
        return;
    }
    let base = *s.exporter.get_or_insert_with(|| {
        let instance = format!("{}:9100", node.ip);
        let common = [
            ("instance", instance.as_str()),
            ("job", "node-exporter"),
            ("node", node.name.as_str()),
        ];
        let mut first = None;
        for cpu in 0..node.shape.cores {
            let cpu = cpu.to_string();
            for mode in CPU_MODES {
                let mut l = common.to_vec();
                l.extend([("cpu", cpu.as_str()), ("mode", mode)]);
                first.get_or_insert(t.add(
                    "node_cpu_seconds_total",
                    Counter,
                    "Seconds the CPUs spent in each mode.",
                    &l,
                ));
            }
        }
        for (name, counter, help) in SCALARS {
            let mut l = common.to_vec();
            if name.starts_with("node_network") {
                l.push(("device", "eth0"));
            } else if name.starts_with("node_disk") {
                l.push(("device", "nvme0n1"));
            }
            t.add(name, if counter { Counter } else { Gauge }, help, &l);
        }
        t.add("node_load5", Gauge, "5m load average.", &common);
        t.add("node_load15", Gauge, "15m load average.", &common);
        for (name, help) in FS {
            let mut l = common.to_vec();
            l.extend([
                ("device", "/dev/nvme0n1p1"),
                ("fstype", "xfs"),
                ("mountpoint", "/"),
            ]);
            t.add(name, Gauge, help, &l);
        }
        let kl = [
            ("instance", format!("{}:10250", node.ip)),
            ("job", "kubelet".into()),
            ("metrics_path", "/metrics".into()),
            ("node", node.name.clone()),
        ];
        let kl: Vec<(&str, &str)> = kl.iter().map(|(a, b)| (*a, b.as_str())).collect();
        t.add(
            "kubelet_running_pods",
            Gauge,
            "Number of pods that have a running pod sandbox",
            &kl,
        );
        first.unwrap_or(0)
    });
    let up = *s.up.get_or_insert_with(|| {
        let instance = format!("{}:9100", node.ip);
        t.add(
            "up",
            Gauge,
            "Whether the scrape of the target succeeded.",
            &[
                ("instance", instance.as_str()),
                ("job", "node-exporter"),
                ("node", node.name.as_str()),
            ],
        )
    });
    out.push((up, 1.0));
    let mut id = base;
    for cpu in &node.counters.cpu {
        for v in cpu {
            out.push((id, ms(*v)));
            id += 1;
        }
    }
    let total = node.shape.memory;
    let avail = node.memory_available();
    let k = &node.counters;
    let scalars = [
        total,
        (avail / 1024.0).round() * 1024.0,
        ((avail - node.page_cache).max(0.0) / 1024.0).round() * 1024.0,
        (node.page_cache / 1024.0).round() * 1024.0,
        64.0 * 1024.0 * 1024.0,
        k.rx_bytes,
        k.tx_bytes,
        k.rx_packets,
        k.tx_packets,
        k.rx_errs,
        k.tx_errs,
        k.rx_drop,
        k.tx_drop,
        k.disk_read,
        k.disk_written,
        ms(k.disk_io_time),
        ms(node.load[0]),
        node.boot_time,
        ms(node.load[1]),
        ms(node.load[2]),
    ];
    for v in scalars {
        out.push((id, v));
        id += 1;
    }
    let avail_disk = (node.disk_available() / 4096.0).floor() * 4096.0;
    for v in [
        node.shape.disk,
        avail_disk,
        avail_disk + 0.05 * node.shape.disk,
    ] {
        out.push((id, v));
        id += 1;
    }
    out.push((id, f64::from(running)));
}
