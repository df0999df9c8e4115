//! Harmless look-alikes: things that resemble the run-up to a failure but pass. Caches that
//! grow and settle below their limit, load spikes, disk use that climbs and is rotated away,
//! and routine rollouts that restart pods. They keep any single threshold from separating
//! failing objects from healthy ones.

use kubepulse_model::ObjectRef;

use crate::cluster::{Burst, WorkloadKind};
use crate::faults::{next_version, start_rollout};
use crate::rng::SimRng;
use crate::truth::{LookalikeKind, LookalikeRecord};
use crate::world::World;

const HOUR_MS: f64 = 3_600_000.0;

/// Schedules and runs look-alikes.
#[derive(Debug, Clone)]
pub struct Lookalikes {
    enabled: bool,
    rollouts_per_day: f64,
    rng: SimRng,
    disk: Vec<(usize, i64)>,
}

impl Lookalikes {
    /// Look-alikes (when `enabled`) and routine rollouts at `rollouts_per_day` per Deployment.
    pub fn new(enabled: bool, rollouts_per_day: f64, rng: SimRng) -> Self {
        Self {
            enabled,
            rollouts_per_day,
            rng,
            disk: Vec::new(),
        }
    }

    /// Runs one step. `busy` tells whether a workload has an active fault.
    pub fn step(&mut self, w: &mut World, busy: &dyn Fn(&str, &str) -> bool) {
        let t = w.t;
        let per_step = w.step_ms as f64 / HOUR_MS;
        self.disk.retain(|&(n, end)| {
            if t >= end {
                w.cluster.nodes[n].fill_rate = 0.0;
                w.cluster.nodes[n].fill_bytes = 0.0;
                false
            } else {
                true
            }
        });
        self.rollouts(w, busy);
        if !self.enabled {
            return;
        }
        let pods = w.cluster.live.len() as f64;
        if self.rng.chance((0.1 + 0.0005 * pods) * per_step) {
            self.cache_growth(w);
        }
        for a in 0..w.cluster.apps.len() {
            if self.rng.chance(per_step / 6.0) {
                let dur = self.rng.range(3.0, 15.0) * 60_000.0;
                let amplitude = self.rng.range(1.4, 2.0);
                w.cluster.apps[a].bursts.push(Burst {
                    start: t,
                    end: t + dur as i64,
                    amplitude,
                });
                let entry = w.cluster.apps[a].entry;
                let target = w.service_ref(entry);
                self.record(w, LookalikeKind::LoadSpike, target, dur as i64);
            }
        }
        if self.rng.chance(0.15 * per_step) {
            let n = self.rng.index(w.cluster.nodes.len());
            if w.cluster.nodes[n].fill_rate == 0.0 && w.cluster.nodes[n].ready {
                let node = &w.cluster.nodes[n];
                let minutes = self.rng.range(20.0, 60.0);
                let room = (node.disk_available() - 0.25 * node.shape.disk).max(0.0);
                let bytes = room * self.rng.range(0.3, 0.9);
                w.cluster.nodes[n].fill_rate = bytes / (minutes * 60.0);
                let end = t + (minutes * 60_000.0) as i64;
                self.disk.push((n, end));
                let target = w.node_ref(n);
                self.record(w, LookalikeKind::DiskGrowth, target, end - t);
            }
        }
    }

    fn cache_growth(&mut self, w: &mut World) {
        let c = &w.cluster;
        let candidates: Vec<usize> = c
            .live
            .iter()
            .copied()
            .filter(|&p| {
                let pod = &c.pods[p];
                pod.running()
                    && pod.template.limits.memory > 0.0
                    && pod.effects.cache_target == 0.0
                    && c.workloads[pod.workload].app.is_some()
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let p = candidates[self.rng.index(candidates.len())];
        let pod = &c.pods[p];
        let prof = c.profile_of(p);
        let lim = pod.template.limits.memory;
        let peak =
            prof.base_memory * (1.0 + prof.gc_headroom) + prof.memory_per_rps * pod.usage.rps * 2.5;
        let room = 0.9 * lim - peak;
        if room <= 0.0 {
            return;
        }
        w.cluster.pods[p].effects.cache_target =
            room * self.rng.range(0.6, 1.0) / (1.0 + prof.gc_headroom);
        let target = w.pod_ref(p);
        self.record(w, LookalikeKind::CacheGrowth, target, 3 * HOUR_MS as i64);
    }

    fn rollouts(&mut self, w: &mut World, busy: &dyn Fn(&str, &str) -> bool) {
        if self.rollouts_per_day <= 0.0 {
            return;
        }
        let p = self.rollouts_per_day * w.step_ms as f64 / (24.0 * HOUR_MS);
        for wl in 0..w.cluster.workloads.len() {
            let x = &w.cluster.workloads[wl];
            if x.app.is_none()
                || x.kind != WorkloadKind::Deployment
                || x.deleted
                || x.rollout.is_some()
                || !self.rng.chance(p)
            {
                continue;
            }
            if busy(&x.namespace, &x.name)
                || x.template.crash_after.is_some()
                || !x.template.image_ok
            {
                continue;
            }
            start_rollout(w, wl, |t| t.version = next_version(&t.version));
            let target = w.workload_ref(wl);
            self.record(w, LookalikeKind::Rollout, target, 10 * 60_000);
        }
    }

    fn record(&self, w: &mut World, kind: LookalikeKind, target: ObjectRef, dur: i64) {
        if !w.quiet {
            w.truth.lookalikes.push(LookalikeRecord {
                kind,
                target,
                start: w.t,
                end: w.t + dur,
            });
        }
    }
}
