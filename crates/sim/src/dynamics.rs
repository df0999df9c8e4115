//! Resource dynamics of every running container: CPU against limits and node capacity (with CFS
//! throttling), memory as live set plus garbage (the GC sawtooth) plus leaks and caches, network
//! and disk driven by load, and the container's own latency under queueing.

use crate::cluster::{Cluster, Pod};
use crate::profile::Profile;
use crate::world::World;

const PAGE: f64 = 4096.0;
const MIB: f64 = 1024.0 * 1024.0;
/// CFS periods per second (100 ms period).
const CFS_PERIODS_PER_SEC: f64 = 10.0;
/// Node CPU utilisation above which neighbours slow each other down.
const CONTENTION_ONSET: f64 = 0.8;
/// Extra CPU per unit of contention (cache misses, memory stalls).
const CONTENTION_CPU: f64 = 1.5;
/// Extra latency per unit of contention.
const CONTENTION_LATENCY: f64 = 4.0;
/// Container logs are rotated by the kubelet when they reach this size.
const LOG_ROTATE_BYTES: f64 = 50.0 * MIB;

/// Latency multiplier for utilisation `rho`: gentle below 80%, steep above.
pub fn queueing_factor(rho: f64) -> f64 {
    if rho < 0.8 {
        1.0 + 0.6 * rho * rho
    } else {
        let x = rho - 0.8;
        1.384 + 8.0 * x + 30.0 * x * x
    }
}

/// Advances CPU, memory, network and disk of every running container by one step, and the
/// node-level aggregates.
pub fn step(w: &mut World) {
    let dt = w.dt();
    let c = &mut w.cluster;
    let n_nodes = c.nodes.len();
    let mut node_demand = vec![0.0; n_nodes];
    let mut wants: Vec<Vec<f64>> = vec![Vec::new(); n_nodes];
    for i in 0..c.live.len() {
        let p = c.live[i];
        let demand = if active(c, p) {
            let prof = c.pods[p].template.profile;
            demand_of(&mut c.pods[p], &c.profiles[prof])
        } else {
            0.0
        };
        c.pods[p].usage.cpu_demand = demand;
        if let Some(n) = c.pods[p].node {
            let lim = c.pods[p].template.limits.cpu;
            let want = if lim > 0.0 { demand.min(lim) } else { demand };
            node_demand[n] += want;
            wants[n].push(want);
        }
    }
    let mut level = vec![f64::INFINITY; n_nodes];
    let mut contention = vec![0.0; n_nodes];
    for (n, node) in c.nodes.iter_mut().enumerate() {
        node_demand[n] += node.system_cpu;
        node.cpu_demand = node_demand[n];
        // Busy neighbours compete for caches and memory bandwidth: work gets slower for all.
        contention[n] = (node_demand[n] / node.cores() - CONTENTION_ONSET).max(0.0);
        let slowdown = 1.0 + CONTENTION_CPU * contention[n];
        for x in &mut wants[n] {
            *x *= slowdown;
        }
        level[n] = fair_level(&mut wants[n], node.cores() * 0.98 - node.system_cpu);
    }
    for i in 0..c.live.len() {
        let p = c.live[i];
        if !active(c, p) {
            continue;
        }
        let n = c.pods[p].node.unwrap_or(0);
        let cores = c.nodes[n].cores();
        let svc_latency = c.workloads[c.pods[p].workload]
            .service
            .map(|s| (c.services[s].base_latency, c.services[s].base_error));
        let prof = c.pods[p].template.profile;
        let pod = &mut c.pods[p];
        pod.usage.cpu_demand *= 1.0 + CONTENTION_CPU * contention[n];
        advance_pod(
            pod,
            &c.profiles[prof],
            level[n],
            cores,
            dt,
            svc_latency.unwrap_or((0.0, 0.0)),
        );
        pod.usage.own_latency *= 1.0 + CONTENTION_LATENCY * contention[n];
    }
}

fn active(c: &Cluster, p: usize) -> bool {
    let pod = &c.pods[p];
    pod.running() && pod.node.is_some_and(|n| c.nodes[n].kubelet_up)
}

fn demand_of(pod: &mut Pod, prof: &Profile) -> f64 {
    let noise = 1.0 + 0.06 * pod.rng.normal();
    let idle = prof.base_cpu * (1.0 + 0.1 * pod.rng.normal());
    (idle + pod.usage.rps * prof.cpu_per_request * noise + pod.effects.cpu_hog).max(0.0005)
}

/// The max-min fair share of `capacity` among `wants`: every container gets what it wants up
/// to a common level, and the level is as high as capacity allows (CFS is work-conserving).
/// Infinite when everything fits.
pub fn fair_level(wants: &mut [f64], capacity: f64) -> f64 {
    if wants.iter().sum::<f64>() <= capacity {
        return f64::INFINITY;
    }
    wants.sort_by(|a, b| a.total_cmp(b));
    let mut left = capacity.max(0.0);
    for (i, w) in wants.iter().enumerate() {
        let share = left / (wants.len() - i) as f64;
        if *w > share {
            return share;
        }
        left -= w;
    }
    f64::INFINITY
}

/// Garbage piles up at this many bytes per second besides what requests allocate.
const BACKGROUND_ALLOC: f64 = 8.0 * 1024.0;

/// How long until the working set of `pod`'s container meets `limit` (ms) if its live set
/// grows by `leak` bytes/s and its load stays as it is, garbage piling up between collections
/// as it does now; `None` if not within an hour.
pub fn time_to_limit(pod: &Pod, prof: &Profile, limit: f64, leak: f64) -> Option<f64> {
    let u = &pod.usage;
    let alloc = prof.alloc_per_request * u.rps + BACKGROUND_ALLOC;
    let (mut live, mut garbage) = (u.live, u.garbage);
    for second in 0..=3600 {
        if live + garbage >= limit {
            return Some(f64::from(second) * 1000.0);
        }
        live += leak;
        garbage += alloc;
        if garbage > prof.gc_headroom * live {
            garbage = live * 0.005;
        }
    }
    None
}

fn advance_pod(pod: &mut Pod, prof: &Profile, level: f64, cores: f64, dt: f64, svc: (f64, f64)) {
    let lim = pod.template.limits.cpu;
    let u = &mut pod.usage;
    let cap = if lim > 0.0 { lim.min(cores) } else { cores };
    let avail = cap.min(level);
    u.cpu_used = u.cpu_demand.min(avail);
    u.rho = u.cpu_demand / avail.max(1e-6);
    u.cpu_seconds += u.cpu_used * dt;
    if lim > 0.0 {
        let periods = CFS_PERIODS_PER_SEC * dt;
        let ratio = u.cpu_demand / lim;
        let frac = ((ratio - 0.55) / 0.55).clamp(0.0, 1.0).powf(1.5);
        u.periods += periods;
        u.throttled_periods += (periods * frac).round();
        u.throttled_seconds += ((u.cpu_demand - lim).max(0.0) + frac * 0.05 * lim) * dt;
    }

    // Memory: live set (with load, leak and cache) plus garbage awaiting collection.
    u.leaked += pod.effects.leak_rate * dt;
    if pod.effects.cache_target > u.cache {
        u.cache += (pod.effects.cache_target - u.cache) * (1.0 - (-dt / 1200.0).exp());
    }
    let base = prof.base_memory * (1.0 + 0.004 * pod.rng.normal());
    u.live = base + u.rps * prof.memory_per_rps + u.leaked + u.cache;
    u.garbage += (prof.alloc_per_request * u.rps + BACKGROUND_ALLOC)
        * dt
        * (1.0 + 0.2 * pod.rng.normal()).max(0.1);
    if u.garbage > prof.gc_headroom * u.live {
        u.garbage = u.live * 0.01 * pod.rng.f64();
    }
    u.working_set = ((u.live + u.garbage) / PAGE).round() * PAGE;

    // Network: payloads plus probe and scrape traffic; loss shows as drops and errors.
    let rx = (u.rps * prof.request_bytes * (1.0 + 0.05 * pod.rng.normal()) + 300.0).max(0.0) * dt;
    let tx = (u.rps * prof.response_bytes * (1.0 + 0.05 * pod.rng.normal()) + 900.0).max(0.0) * dt;
    let (rxp, txp) = ((rx / 1100.0).ceil(), (tx / 1300.0).ceil());
    let loss = pod.effects.net_loss;
    u.net[0] += rx.round();
    u.net[1] += tx.round();
    u.net[2] += rxp;
    u.net[3] += txp;
    if loss > 0.0 {
        u.net[4] += (rxp * loss * 0.02).round();
        u.net[5] += (txp * loss * 0.01).round();
        u.net[6] += (rxp * loss).round();
        u.net[7] += (txp * loss * 0.5).round();
    }

    // Disk: logs (rotated) and whatever a filling process writes (never rotated).
    let logs = u.rps * prof.disk_per_request * 0.2 * dt + 40.0 * dt;
    u.fs_logs += logs;
    if u.fs_logs > LOG_ROTATE_BYTES {
        u.fs_logs = 2.0 * MIB;
    }
    let fill = pod.effects.fs_fill_rate * dt;
    u.fs_fill += fill;
    u.fs_writes += (u.rps * prof.disk_per_request * dt + fill + 40.0 * dt).round();
    u.fs_reads += (u.rps * prof.disk_per_request * 0.3 * dt).round();

    // Own latency and errors: queueing under saturation and injected errors. Loss and delay on
    // the path into the pod are seen by its callers (see `health`), not by the server itself.
    let (base_latency, base_error) = svc;
    u.own_latency =
        base_latency * queueing_factor(u.rho) * (1.0 + 0.05 * pod.rng.normal()).max(0.5);
    let overload = if u.rho > 1.0 {
        0.5 * (u.rho - 1.0) / u.rho
    } else {
        0.0
    };
    u.own_error = (base_error + pod.effects.error_rate + overload).min(1.0);
}

/// The container's fs usage as cAdvisor reports it.
pub fn fs_usage(pod: &Pod) -> f64 {
    pod.usage.fs_logs + pod.usage.fs_fill + 4.0 * 1024.0 * 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_share_is_max_min() {
        assert_eq!(fair_level(&mut [1.0, 2.0], 4.0), f64::INFINITY);
        // Small consumers keep their demand; the large one gets the rest.
        assert!((fair_level(&mut [0.5, 0.5, 10.0], 4.0) - 3.0).abs() < 1e-12);
        assert!((fair_level(&mut [3.0, 3.0, 3.0], 3.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn queueing_is_continuous_and_steep() {
        let below = queueing_factor(0.7999999);
        let above = queueing_factor(0.8);
        assert!((below - above).abs() < 1e-5);
        assert!(queueing_factor(0.3) < 1.1);
        assert!(queueing_factor(1.0) > 4.0);
        assert!(queueing_factor(1.5) > 20.0);
    }
}
