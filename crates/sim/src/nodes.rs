//! Node behaviour: heartbeats and the node lifecycle controller (NotReady 40 s after the kubelet
//! stops posting status, pods evicted by taint 5 minutes later), node-level resource aggregates,
//! DiskPressure and MemoryPressure with the kubelet's evictions, and the system OOM killer.

use kubepulse_model::EventType;

use crate::cluster::WorkloadKind;
use crate::dynamics::fs_usage;
use crate::truth::FailureType;
use crate::world::World;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;
const NODE_MONITOR_GRACE_MS: i64 = 40_000;
const TAINT_EVICTION_MS: i64 = 300_000;
const PRESSURE_TRANSITION_MS: i64 = 300_000;
/// `nodefs.available<10%`.
pub(crate) const DISK_EVICTION_RATIO: f64 = 0.10;
/// `memory.available<100Mi`.
const MEMORY_EVICTION_BYTES: f64 = 100.0 * MIB;
/// Disk used by each pod's images, on average.
const IMAGE_BYTES_PER_POD: f64 = 0.35 * GIB;

/// Heartbeats and the node lifecycle controller.
pub fn lifecycle(w: &mut World) {
    let t = w.t;
    for n in 0..w.cluster.nodes.len() {
        let node = &mut w.cluster.nodes[n];
        if !node.kubelet_up {
            let since = *node.down_since.get_or_insert(t);
            if node.ready && t - since >= NODE_MONITOR_GRACE_MS {
                node.ready = false;
                node.not_ready_since = Some(t);
                let name = node.name.clone();
                let nr = w.node_ref(n);
                w.event(
                    nr.clone(),
                    EventType::Normal,
                    "NodeNotReady",
                    format!("Node {name} status is now: NodeNotReady"),
                    "node-controller",
                    "",
                );
                w.fail(
                    nr,
                    &[],
                    FailureType::NodeFailure,
                    "NodeNotReady",
                    "kubelet stopped posting node status".into(),
                );
                for p in w.cluster.pods_on(n).collect::<Vec<_>>() {
                    w.cluster.pods[p].ready = false;
                    let r = w.pod_ref(p);
                    w.event(
                        r,
                        EventType::Warning,
                        "NodeNotReady",
                        "Node is not ready".into(),
                        "node-controller",
                        "",
                    );
                }
            }
            if let Some(nr_since) = w.cluster.nodes[n].not_ready_since
                && t - nr_since >= TAINT_EVICTION_MS
            {
                taint_evict(w, n);
            }
        } else if !node.ready {
            node.ready = true;
            node.down_since = None;
            node.not_ready_since = None;
            let name = node.name.clone();
            let nr = w.node_ref(n);
            w.event(
                nr.clone(),
                EventType::Normal,
                "Starting",
                "Starting kubelet.".into(),
                "kubelet",
                &name,
            );
            w.event(
                nr,
                EventType::Normal,
                "NodeReady",
                format!("Node {name} status is now: NodeReady"),
                "kubelet",
                &name,
            );
            // Containers did not survive the outage: they start again.
            for p in w.cluster.pods_on(n).collect::<Vec<_>>() {
                let pod = &mut w.cluster.pods[p];
                if pod.running() {
                    pod.container.restarts += 1;
                    pod.container.state = crate::cluster::ContainerState::Waiting(
                        crate::cluster::WaitReason::ContainerCreating,
                    );
                    pod.container.next_start = t;
                    pod.ready = false;
                }
            }
        }
    }
}

fn taint_evict(w: &mut World, n: usize) {
    for p in w.cluster.pods_on(n).collect::<Vec<_>>() {
        if w.cluster.workloads[w.cluster.pods[p].workload].kind == WorkloadKind::DaemonSet {
            continue;
        }
        let pod = &w.cluster.pods[p];
        let msg = format!("Marking for deletion Pod {}/{}", pod.namespace, pod.name);
        let r = w.pod_ref(p);
        w.event(
            r,
            EventType::Normal,
            "TaintManagerEviction",
            msg,
            "taint-eviction-controller",
            "",
        );
        crate::pods::delete(w, p);
    }
}

/// Sums pods into node memory, disk, CPU counters, network, disk I/O and load averages.
pub fn aggregate(w: &mut World) {
    let dt = w.dt();
    let c = &mut w.cluster;
    let n_nodes = c.nodes.len();
    let mut mem = vec![0.0; n_nodes];
    let mut disk = vec![0.0; n_nodes];
    let mut cpu = vec![0.0; n_nodes];
    let mut net = vec![[0.0f64; 4]; n_nodes];
    let mut io = vec![[0.0f64; 2]; n_nodes];
    for &p in &c.live {
        let pod = &c.pods[p];
        let Some(n) = pod.node else { continue };
        if pod.finished() {
            // The writable layer of a finished container is gone; its image may stay cached.
            disk[n] += IMAGE_BYTES_PER_POD;
            continue;
        }
        disk[n] += fs_usage(pod) + IMAGE_BYTES_PER_POD;
        if pod.running() {
            mem[n] += pod.usage.working_set;
            cpu[n] += pod.usage.cpu_used;
            let prof = &c.profiles[pod.template.profile];
            let r = pod.usage.rps * dt;
            net[n][0] += r * prof.request_bytes;
            net[n][1] += r * prof.response_bytes;
            io[n][0] += r * prof.disk_per_request * 0.3;
            io[n][1] += r * prof.disk_per_request + pod.effects.fs_fill_rate * dt;
        }
    }
    for (n, node) in c.nodes.iter_mut().enumerate() {
        node.fill_bytes = (node.fill_bytes + node.fill_rate * dt).max(0.0);
        node.disk_used = node.os_disk_used + disk[n] + node.fill_bytes;
        if !node.kubelet_up {
            continue;
        }
        node.memory_used = 1.2 * GIB + 0.03 * node.shape.memory + mem[n];
        node.cpu_used = (cpu[n] + node.system_cpu).min(node.cores());
        let iowait = 0.01 * node.cores() * (io[n][1] / (50.0 * MIB * dt)).min(1.0);
        let busy = node.cpu_used;
        let per_cpu = 1.0 / node.cores();
        let modes = [
            0.0,
            iowait,
            0.002 * busy,
            0.0,
            0.03 * busy,
            0.005 * busy,
            0.25 * busy,
            0.715 * busy,
        ];
        let used: f64 = modes.iter().sum();
        for c in node.counters.cpu.iter_mut() {
            let jitter = 1.0 + 0.1 * node.rng.normal();
            let mut total = 0.0;
            for (m, v) in modes.iter().enumerate().skip(1) {
                let x = (v * per_cpu * jitter).clamp(0.0, 1.0 - total) * dt;
                c[m] += x;
                total += x / dt;
            }
            c[0] += ((1.0 - total).max(0.0)) * dt;
        }
        let _ = used;
        let k = &mut node.counters;
        let bg = 2_000.0 * dt;
        k.rx_bytes += (net[n][0] + bg).round();
        k.tx_bytes += (net[n][1] + bg).round();
        k.rx_packets += ((net[n][0] + bg) / 1100.0).ceil();
        k.tx_packets += ((net[n][1] + bg) / 1300.0).ceil();
        k.rx_drop += (node.net_loss * (net[n][0] + bg) / 1100.0).round();
        k.tx_drop += (node.net_loss * 0.5 * (net[n][1] + bg) / 1300.0).round();
        k.disk_read += (io[n][0] + 4096.0 * dt).round();
        k.disk_written += (io[n][1] + 16_384.0 * dt).round();
        k.disk_io_time += dt * (0.01 + io[n][1] / (200.0 * MIB * dt)).min(1.0);
        for (i, tau) in [60.0, 300.0, 900.0].into_iter().enumerate() {
            let a = (-dt / tau).exp();
            node.load[i] = node.load[i] * a + node.cpu_demand * (1.0 - a);
        }
    }
}

/// DiskPressure and MemoryPressure conditions, the evictions they cause, and the kernel's OOM
/// killer when a node runs out of memory altogether.
pub fn pressure(w: &mut World) {
    let t = w.t;
    for n in 0..w.cluster.nodes.len() {
        if !w.cluster.nodes[n].kubelet_up {
            continue;
        }
        let node = &w.cluster.nodes[n];
        let disk_low = node.disk_available() < DISK_EVICTION_RATIO * node.shape.disk;
        let mem_low = node.memory_available() < MEMORY_EVICTION_BYTES;
        set_condition(w, n, disk_low, true);
        set_condition(w, n, mem_low, false);
        let node = &w.cluster.nodes[n];
        if disk_low {
            let avail = node.disk_available();
            if let Some(p) = pick_victim(w, n, fs_usage) {
                let pod = &w.cluster.pods[p];
                let msg = format!(
                    "The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: {}Ki. Container {} was using {}Ki, request is 0, has larger consumption of ephemeral-storage.",
                    (avail / 1024.0) as u64,
                    pod.container.name,
                    (fs_usage(pod) / 1024.0) as u64
                );
                evict_with_failure(w, p, msg, FailureType::DiskPressure);
            }
        } else if mem_low {
            let avail = node.memory_available();
            if let Some(p) = pick_victim(w, n, |pod| {
                pod.usage.working_set - pod.template.requests.memory
            }) {
                let pod = &w.cluster.pods[p];
                let msg = format!(
                    "The node was low on resource: memory. Threshold quantity: 100Mi, available: {}Ki. Container {} was using {}Ki, request is {}Mi, has larger consumption of memory.",
                    (avail / 1024.0) as u64,
                    pod.container.name,
                    (pod.usage.working_set / 1024.0) as u64,
                    (pod.template.requests.memory / MIB) as u64
                );
                evict_with_failure(w, p, msg, FailureType::Oom);
            }
        }
        if w.cluster.nodes[n].memory_used > w.cluster.nodes[n].shape.memory - 32.0 * MIB
            && let Some(p) = pick_victim(w, n, |pod| {
                pod.usage.working_set - pod.template.requests.memory
            })
        {
            crate::kubelet::oom_kill(w, p, "node out of memory");
        }
        let _ = t;
    }
}

fn set_condition(w: &mut World, n: usize, low: bool, disk: bool) {
    let t = w.t;
    let node = &mut w.cluster.nodes[n];
    let current = if disk {
        node.disk_pressure
    } else {
        node.memory_pressure
    };
    let change = if low {
        !current
    } else {
        current && t - node.pressure_changed >= PRESSURE_TRANSITION_MS
    };
    if low && current {
        node.pressure_changed = t;
    }
    if !change {
        return;
    }
    if disk {
        node.disk_pressure = low;
    } else {
        node.memory_pressure = low;
    }
    node.pressure_changed = t;
    let name = node.name.clone();
    let (cond, resource) = if disk {
        ("DiskPressure", "ephemeral-storage")
    } else {
        ("Memory", "memory")
    };
    let reason = match (disk, low) {
        (true, true) => "NodeHasDiskPressure",
        (true, false) => "NodeHasNoDiskPressure",
        (false, true) => "NodeHasInsufficientMemory",
        (false, false) => "NodeHasSufficientMemory",
    };
    let nr = w.node_ref(n);
    w.event(
        nr.clone(),
        EventType::Normal,
        reason,
        format!("Node {name} status is now: {reason}"),
        "kubelet",
        &name,
    );
    if low {
        w.event(
            nr.clone(),
            EventType::Warning,
            "EvictionThresholdMet",
            format!("Attempting to reclaim {resource}"),
            "kubelet",
            &name,
        );
        if disk {
            w.fail(
                nr,
                &[],
                FailureType::DiskPressure,
                cond,
                "nodefs.available below 10%".into(),
            );
        }
    }
}

/// The pod the kubelet evicts first: not a DaemonSet pod, largest by `score`.
fn pick_victim(w: &World, n: usize, score: impl Fn(&crate::cluster::Pod) -> f64) -> Option<usize> {
    let c = &w.cluster;
    c.pods_on(n)
        .filter(|&p| {
            c.pods[p].running() && c.workloads[c.pods[p].workload].kind != WorkloadKind::DaemonSet
        })
        .max_by(|&a, &b| {
            score(&c.pods[a])
                .total_cmp(&score(&c.pods[b]))
                .then(b.cmp(&a))
        })
}

fn evict_with_failure(w: &mut World, p: usize, msg: String, ty: FailureType) {
    let r = w.pod_ref(p);
    let related = crate::kubelet::related_of(w, p);
    let reason_detail = msg.clone();
    crate::pods::evict(w, p, msg);
    w.fail(r, &related, ty, "Evicted", reason_detail);
}
