//! Request load: each application's entry traffic follows a daily and weekly cycle with slow
//! drift, noise and bursts, and flows down the call graph to every service and, through the
//! ready endpoints, to each pod.

use std::f64::consts::TAU;

use crate::cluster::{Burst, Service};
use crate::world::World;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;

/// Services reachable from `entry`, callers before callees.
pub fn topo_order(services: &[Service], entry: usize) -> Vec<usize> {
    fn visit(s: usize, services: &[Service], seen: &mut Vec<bool>, out: &mut Vec<usize>) {
        if seen[s] {
            return;
        }
        seen[s] = true;
        for c in &services[s].calls {
            visit(c.to, services, seen, out);
        }
        out.push(s);
    }
    let mut seen = vec![false; services.len()];
    let mut out = Vec::new();
    visit(entry, services, &mut seen, &mut out);
    out.reverse();
    out
}

/// The daily load curve: 0.3 at 03:00, 1.0 at 15:00 local time.
pub fn diurnal(t: i64, tz_shift_hours: f64) -> f64 {
    let h = ((t.rem_euclid(DAY_MS)) as f64 / HOUR_MS + tz_shift_hours).rem_euclid(24.0);
    let x = 0.5 - 0.5 * (TAU * (h - 3.0) / 24.0).cos();
    0.3 + 0.7 * x.powf(1.5)
}

/// The weekly curve: weekends carry 72% of weekday load.
pub fn weekly(t: i64) -> f64 {
    // 1970-01-01 was a Thursday; 0 = Sunday.
    let dow = (t.div_euclid(DAY_MS) + 4).rem_euclid(7);
    if dow == 0 || dow == 6 { 0.72 } else { 1.0 }
}

/// Load multiplier of a burst at `t`: ramps up and down over a minute, flat in between.
pub fn burst_factor(b: &Burst, t: i64) -> f64 {
    if t < b.start || t >= b.end {
        return 1.0;
    }
    let ramp = 60_000.0;
    let up = ((t - b.start) as f64 / ramp).min(1.0);
    let down = ((b.end - t) as f64 / ramp).min(1.0);
    1.0 + (b.amplitude - 1.0) * up.min(down)
}

/// Sets every service's offered rate and every pod's share for this step.
pub fn step(w: &mut World) {
    let t = w.t;
    let c = &mut w.cluster;
    for s in &mut c.services {
        s.rate = 0.0;
    }
    for a in 0..c.apps.len() {
        let app = &mut c.apps[a];
        app.drift = 0.995 * app.drift + 0.01 * app.rng.normal();
        app.bursts.retain(|b| b.end > t);
        let burst: f64 = app.bursts.iter().map(|b| burst_factor(b, t)).product();
        let noise = 1.0 + 0.03 * app.rng.normal();
        let rate = app.peak_rps
            * diurnal(t, app.tz_shift_hours)
            * weekly(t)
            * app.drift.exp()
            * burst
            * noise.max(0.5);
        let entry = app.entry;
        c.services[entry].rate = rate.max(0.0);
        for s in topo_order(&c.services, entry) {
            let r = c.services[s].rate;
            for k in 0..c.services[s].calls.len() {
                let call = c.services[s].calls[k];
                c.services[call.to].rate += r * call.fanout;
            }
        }
    }
    let mut ready = vec![0u32; c.workloads.len()];
    for &p in &c.live {
        if c.pods[p].ready {
            ready[c.pods[p].workload] += 1;
        }
    }
    for s in &mut c.services {
        s.ready_endpoints = ready[s.workload];
    }
    for &p in &c.live {
        let pod = &c.pods[p];
        let rps = match c.workloads[pod.workload].service {
            Some(s) if pod.ready && ready[pod.workload] > 0 => {
                c.services[s].rate / f64::from(ready[pod.workload])
            }
            _ => 0.0,
        };
        c.pods[p].usage.rps = rps;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_curve_peaks_in_the_afternoon() {
        let h = |x: i64| x * 3_600_000;
        assert!((diurnal(h(3), 0.0) - 0.3).abs() < 1e-9);
        assert!((diurnal(h(15), 0.0) - 1.0).abs() < 1e-9);
        assert!(diurnal(h(9), 0.0) > 0.3 && diurnal(h(9), 0.0) < 1.0);
        assert!((diurnal(h(12), 3.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn weekends_are_quieter() {
        // 2026-01-05 was a Monday, 2026-01-10 a Saturday.
        let monday = 1_767_571_200_000;
        assert_eq!(weekly(monday), 1.0);
        assert_eq!(weekly(monday + 5 * DAY_MS), 0.72);
        assert_eq!(weekly(monday + 6 * DAY_MS), 0.72);
    }

    #[test]
    fn bursts_ramp() {
        let b = Burst {
            start: 0,
            end: 600_000,
            amplitude: 2.0,
        };
        assert_eq!(burst_factor(&b, -1), 1.0);
        assert!((burst_factor(&b, 30_000) - 1.5).abs() < 1e-9);
        assert!((burst_factor(&b, 300_000) - 2.0).abs() < 1e-9);
        assert_eq!(burst_factor(&b, 600_000), 1.0);
    }
}
