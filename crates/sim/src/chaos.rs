//! Random chaos: faults drawn at Poisson times from the configured kinds, with targets picked
//! among the applications' workloads, services and the nodes, a random severity and a duration
//! typical of the kind (how long until someone fixes, rolls back or reboots).

use crate::cluster::WorkloadKind;
use crate::faults::{FaultKind, FaultSpec, Target, TargetKind};
use crate::rng::SimRng;
use crate::world::World;

/// The random chaos schedule.
#[derive(Debug, Clone)]
pub struct Chaos {
    per_hour: f64,
    kinds: Vec<FaultKind>,
    rng: SimRng,
}

impl Chaos {
    /// Chaos at `per_hour` faults per hour drawn from `kinds` (all when empty).
    pub fn new(per_hour: f64, kinds: &[FaultKind], rng: SimRng) -> Self {
        let kinds = if kinds.is_empty() {
            FaultKind::ALL.to_vec()
        } else {
            kinds.to_vec()
        };
        Self {
            per_hour,
            kinds,
            rng,
        }
    }

    /// Maybe draws a fault starting now. `busy` lists targets that already have a fault.
    pub fn draw(&mut self, w: &World, busy: &[Target]) -> Option<FaultSpec> {
        if self.per_hour <= 0.0
            || !self
                .rng
                .chance(self.per_hour * w.step_ms as f64 / 3_600_000.0)
        {
            return None;
        }
        let kind = self.kinds[self.rng.index(self.kinds.len())];
        let target = pick_target(w, kind.target_kind(), &mut self.rng, busy)?;
        let (lo, hi) = duration_minutes(kind);
        Some(FaultSpec {
            kind,
            at: w.t,
            target,
            severity: self.rng.range(0.3, 1.0),
            duration: Some((self.rng.range(lo, hi) * 60_000.0) as i64),
        })
    }
}

/// Typical time to resolution, minutes.
fn duration_minutes(k: FaultKind) -> (f64, f64) {
    match k {
        FaultKind::MemoryLeak => (30.0, 120.0),
        FaultKind::CpuHog => (15.0, 45.0),
        FaultKind::BadRollout | FaultKind::ImagePullFailure | FaultKind::Unschedulable => {
            (15.0, 40.0)
        }
        FaultKind::NetworkDelay | FaultKind::PacketLoss => (10.0, 30.0),
        FaultKind::DiskFill => (40.0, 100.0),
        FaultKind::NodeFailure => (8.0, 40.0),
        FaultKind::NoisyNeighbour => (10.0, 30.0),
        FaultKind::FailingDependency => (8.0, 25.0),
    }
}

/// A random target of the given kind among application objects and nodes.
pub fn pick_target(
    w: &World,
    kind: TargetKind,
    rng: &mut SimRng,
    busy: &[Target],
) -> Option<Target> {
    let c = &w.cluster;
    let app_deployments: Vec<usize> = (0..c.workloads.len())
        .filter(|&i| {
            let x = &c.workloads[i];
            x.app.is_some()
                && x.kind == WorkloadKind::Deployment
                && !x.deleted
                && x.rollout.is_none()
        })
        .collect();
    let free = |t: &Target| {
        !busy.iter().any(|b| {
            b == t
                || (!t.node.is_empty() && b.node == t.node)
                || (!t.workload.is_empty()
                    && b.workload == t.workload
                    && b.namespace == t.namespace)
        })
    };
    for _ in 0..8 {
        let target = match kind {
            TargetKind::Pod => {
                let wl = *app_deployments.get(rng.index(app_deployments.len()))?;
                let pods: Vec<usize> = c.pods_of(wl).filter(|&p| c.pods[p].running()).collect();
                let p = *pods.get(rng.index(pods.len()))?;
                Target {
                    namespace: c.pods[p].namespace.clone(),
                    pod: c.pods[p].name.clone(),
                    workload: c.workloads[wl].name.clone(),
                    ..Target::default()
                }
            }
            TargetKind::Workload => {
                let wl = *app_deployments.get(rng.index(app_deployments.len()))?;
                Target {
                    namespace: c.workloads[wl].namespace.clone(),
                    workload: c.workloads[wl].name.clone(),
                    ..Target::default()
                }
            }
            TargetKind::Service => {
                let s = rng.index(c.services.len().max(1));
                let svc = c.services.get(s)?;
                Target {
                    namespace: svc.namespace.clone(),
                    service: svc.name.clone(),
                    ..Target::default()
                }
            }
            TargetKind::Node => {
                let ready: Vec<usize> = (0..c.nodes.len()).filter(|&n| c.nodes[n].ready).collect();
                if ready.len() < 2 {
                    return None;
                }
                let n = ready[rng.index(ready.len())];
                Target {
                    node: c.nodes[n].name.clone(),
                    ..Target::default()
                }
            }
        };
        if free(&target) {
            return Some(target);
        }
    }
    None
}
