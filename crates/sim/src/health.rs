//! Service health: every pod's latency and error ratio (own work plus the calls it makes), each
//! service's aggregate, and SLO breaches, classified by what caused them.

use crate::cluster::Edge;
use crate::load::topo_order;
use crate::truth::FailureType;
use crate::world::World;

/// Error ratio above which a service breaches its SLO.
const ERROR_SLO: f64 = 0.05;
/// Error ratio below which a breached service counts as recovered.
const ERROR_OK: f64 = 0.02;
const RECOVERY_MS: i64 = 120_000;

/// Why a service's requests fail or slow down, by contribution.
#[derive(Debug, Clone, Copy, Default)]
struct Causes {
    saturation: f64,
    network: f64,
    downstream: f64,
    own: f64,
}

/// Computes pod and service latency and errors, leaves of the call graph first, and tracks SLOs.
pub fn step(w: &mut World) {
    let window = ((60_000 / w.step_ms.max(1)) as usize).clamp(1, 8);
    let mut causes = vec![Causes::default(); w.cluster.services.len()];
    let mut by_workload = vec![Vec::new(); w.cluster.workloads.len()];
    for &p in &w.cluster.live {
        if w.cluster.pods[p].running() {
            by_workload[w.cluster.pods[p].workload].push(p);
        }
    }
    for a in 0..w.cluster.apps.len() {
        let order = topo_order(&w.cluster.services, w.cluster.apps[a].entry);
        for &s in order.iter().rev() {
            let wl = w.cluster.services[s].workload;
            causes[s] = service(w, s, &by_workload[wl]);
        }
    }
    for (s, cause) in causes.into_iter().enumerate() {
        track_slo(w, s, window, cause);
    }
}

fn service(w: &mut World, s: usize, pods: &[usize]) -> Causes {
    let c = &mut w.cluster;
    let mut down_latency = 0.0;
    let mut ok = 1.0;
    let mut cause = Causes::default();
    let mut edges = std::mem::take(&mut c.services[s].edges);
    let svc = &c.services[s];
    edges.resize(svc.calls.len(), Edge::default());
    for (call, edge) in svc.calls.iter().zip(edges.iter_mut()) {
        let callee = &c.services[call.to];
        let net_extra = callee.edge_delay + callee.edge_loss * 0.6;
        let lat = (callee.latency + net_extra).min(callee.timeout);
        down_latency += call.fanout * lat;
        cause.network += call.fanout * callee.edge_delay;
        cause.downstream += call.fanout * callee.latency.min(callee.timeout);
        let timeout = if callee.latency + net_extra >= callee.timeout {
            1.0
        } else {
            0.0
        };
        let loss_err = (callee.edge_loss.powf(1.5) * 2.0).min(1.0);
        let fail = (callee.error_ratio + loss_err + timeout).min(1.0);
        edge.fail = fail;
        edge.server_latency = callee.latency.min(callee.timeout);
        if call.critical {
            ok *= (1.0 - fail).powf(call.fanout.max(0.0));
            cause.network += loss_err * 10.0;
            cause.downstream += (callee.error_ratio + timeout) * 10.0;
        }
    }
    let (base_latency, fault_error) = (svc.base_latency, svc.fault_error);
    c.services[s].edges = edges;
    let (mut lat_sum, mut err_sum, mut weight, mut sat) = (0.0, 0.0, 0.0, 0.0f64);
    for &p in pods {
        let pod = &mut c.pods[p];
        pod.usage.latency = pod.usage.own_latency + down_latency;
        let own = (pod.usage.own_error + fault_error).min(1.0);
        pod.usage.error_ratio = 1.0 - (1.0 - own) * ok;
        if pod.ready {
            let wgt = pod.usage.rps.max(1e-9);
            lat_sum += wgt * pod.usage.latency;
            err_sum += wgt * pod.usage.error_ratio;
            weight += wgt;
            sat = sat.max(pod.usage.own_latency - base_latency);
            cause.own += wgt * own;
        }
    }
    let svc = &mut c.services[s];
    if weight > 0.0 {
        svc.latency = lat_sum / weight;
        svc.error_ratio = err_sum / weight;
        cause.own /= weight;
    } else {
        // No ready endpoint: callers get connection refused at once.
        svc.latency = base_latency;
        svc.error_ratio = 1.0;
        cause.own = 1.0;
    }
    cause.saturation = sat;
    cause
}

fn track_slo(w: &mut World, s: usize, window: usize, cause: Causes) {
    let t = w.t;
    let svc = &mut w.cluster.services[s];
    let h = &mut svc.health;
    let baseline = h.baseline_latency;
    h.recent_errors[h.slot % window] = svc.error_ratio;
    h.recent_latency[h.slot % window] = svc.latency;
    h.slot += 1;
    if h.slot < window {
        return;
    }
    let err = h.recent_errors[..window].iter().sum::<f64>() / window as f64;
    let lat = h.recent_latency[..window].iter().sum::<f64>() / window as f64;
    if !h.breached && h.baseline_latency > 0.0 {
        h.baseline_latency = 0.99 * h.baseline_latency + 0.01 * lat.min(4.0 * h.baseline_latency);
    } else if h.baseline_latency == 0.0 {
        h.baseline_latency = lat;
    }
    let slow = lat > 0.5 && baseline > 0.0 && lat > 4.0 * baseline;
    let bad = err > ERROR_SLO || slow;
    if bad && !h.breached {
        h.breached = true;
        h.healthy_since = None;
        let ty = classify(cause, err > ERROR_SLO);
        let Some(ty) = ty else { return };
        let detail = format!(
            "error ratio {:.1}%, mean latency {:.0} ms over the last minute",
            err * 100.0,
            lat * 1000.0
        );
        let reason = if err > ERROR_SLO {
            "ErrorRateBreach"
        } else {
            "LatencyBreach"
        };
        let related = related_of_service(w, s);
        let r = w.service_ref(s);
        w.fail(r, &related, ty, reason, detail);
    } else if h.breached && err < ERROR_OK && !slow {
        let since = *h.healthy_since.get_or_insert(t);
        if t - since >= RECOVERY_MS {
            h.breached = false;
            h.healthy_since = None;
        }
    } else if h.breached {
        h.healthy_since = None;
    }
}

/// The failure type of a breach, from its largest cause. A breach whose cause is only that the
/// service's own pods are down is already reported as those pods' failures.
fn classify(c: Causes, errors: bool) -> Option<FailureType> {
    let candidates = [
        (c.network, FailureType::NetworkDegradation),
        (c.downstream, FailureType::DependencyFailure),
        (c.saturation * 10.0, FailureType::CpuSaturation),
        (
            c.own * if errors { 10.0 } else { 0.0 },
            FailureType::DependencyFailure,
        ),
    ];
    let (v, ty) =
        candidates.into_iter().fold(
            (0.0, None),
            |acc, (v, ty)| if v > acc.0 { (v, Some(ty)) } else { acc },
        );
    if v <= 0.0 { None } else { ty }
}

/// Objects whose faults can explain a breach of service `s`: its workload, its pods, and every
/// service it calls, transitively.
fn related_of_service(w: &World, s: usize) -> Vec<kubepulse_model::ObjectRef> {
    let c = &w.cluster;
    let mut out = Vec::new();
    for callee in topo_order(&c.services, s) {
        out.push(w.service_ref(callee));
        let wl = c.services[callee].workload;
        out.push(w.workload_ref(wl));
        out.extend(c.pods_of(wl).map(|p| w.pod_ref(p)));
        for p in c.pods_of(wl) {
            if let Some(n) = c.pods[p].node {
                out.push(w.node_ref(n));
            }
        }
    }
    out
}

/// The standard normal CDF (Abramowitz–Stegun 7.1.26, error below 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Spread of request latency around the mean (log-normal sigma).
const LATENCY_SIGMA: f64 = 0.5;

/// Adds this step's requests of every running pod to its counters and latency histogram, and
/// every call-graph edge's calls to its service graph counters.
pub fn account_requests(w: &mut World) {
    let dt = w.dt();
    let c = &mut w.cluster;
    for &p in &c.live {
        let pod = &mut c.pods[p];
        if !pod.running() || pod.usage.rps <= 0.0 {
            continue;
        }
        let u = &mut pod.usage;
        let n = u.rps * dt;
        let err = u.error_ratio.clamp(0.0, 1.0);
        let overload = if u.rho > 1.0 {
            (0.5 * (u.rho - 1.0) / u.rho).min(err)
        } else {
            0.0
        };
        u.requests[0] += n * (1.0 - err);
        u.requests[1] += n * (err - overload);
        u.requests[2] += n * overload;
        u.latency_sum += n * observe(&mut u.buckets, n, u.latency);
    }
    for svc in &mut c.services {
        for (call, e) in svc.calls.iter().zip(svc.edges.iter_mut()) {
            let n = svc.rate * call.fanout * dt;
            if n <= 0.0 {
                continue;
            }
            e.requests += n;
            e.failed += n * e.fail.clamp(0.0, 1.0);
            e.latency_sum += n * observe(&mut e.buckets, n, e.server_latency);
        }
    }
}

/// Adds `n` requests of mean latency `latency` (log-normally spread) to cumulative histogram
/// buckets; returns the latency counted.
fn observe(buckets: &mut [f64; 12], n: f64, latency: f64) -> f64 {
    let lat = latency.max(1e-5);
    let ln_median = lat.ln() - LATENCY_SIGMA * LATENCY_SIGMA / 2.0;
    for (b, le) in buckets.iter_mut().zip(crate::emit::LATENCY_BUCKETS) {
        let share = if le.is_infinite() {
            1.0
        } else {
            normal_cdf((le.ln() - ln_median) / LATENCY_SIGMA)
        };
        *b += n * share;
    }
    lat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975_002).abs() < 1e-5);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
        assert!(normal_cdf(-10.0) < 1e-7);
    }
}
