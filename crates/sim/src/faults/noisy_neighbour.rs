//! A noisy neighbour: a batch pod without CPU limits is pinned to a node and ramps up to more
//! CPU than the node has spare, starving the other pods there (their latency rises and their
//! probes start failing although nothing is wrong with them).

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, resolve_node};
use crate::SimError;
use crate::catalog::REPORT_JOB;
use crate::cluster::{JobState, Resources};
use crate::world::World;

/// A CPU-hungry pod on a node.
#[derive(Debug)]
pub struct NoisyNeighbour {
    target: Target,
    severity: f64,
    workload: Option<usize>,
    peak: f64,
    ramp_ms: f64,
}

impl NoisyNeighbour {
    /// A noisy neighbour on `target`'s node.
    pub fn new(target: Target, severity: f64) -> Self {
        Self {
            target,
            severity,
            workload: None,
            peak: 0.0,
            ramp_ms: 1.0,
        }
    }
}

impl Fault for NoisyNeighbour {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let n = resolve_node(w, &self.target)?;
        let mut bp = REPORT_JOB.1;
        bp.name = "data-export";
        bp.cpu_limit_m = 0.0;
        bp.memory_limit_mi = 0.0;
        bp.cpu_request_m = 0.0;
        bp.memory_request_mi = 0.0;
        let profile = crate::topology::push_profile(&mut w.cluster, &bp, 0.0, 0.0);
        let mut rng = w.rng.fork(n as u64);
        let wl = crate::topology::add_workload(
            &mut w.cluster,
            &mut rng,
            REPORT_JOB.0,
            &bp,
            1,
            profile,
            None,
        );
        let suffix = rng.k8s_suffix(5);
        let workload = &mut w.cluster.workloads[wl];
        workload.name = format!("data-export-{suffix}");
        workload.template.requests = Resources::default();
        workload.node_selector = Some(n);
        workload.job = Some(JobState {
            run_for: i64::MAX / 4,
            started: w.t,
            ..JobState::default()
        });
        self.workload = Some(wl);
        let cores = w.cluster.nodes[n].cores();
        self.peak = cores * lerp(0.6, 1.3, self.severity);
        self.ramp_ms = lerp(12.0, 2.0, self.severity) * 60_000.0;
        let detail = format!(
            "best-effort pod ramps to {:.1} of the node's {cores} cores over {:.0} min",
            self.peak,
            self.ramp_ms / 60_000.0
        );
        Ok((vec![w.node_ref(n), w.workload_ref(wl)], detail))
    }

    fn tick(&mut self, w: &mut World, elapsed_ms: i64) {
        let Some(wl) = self.workload else { return };
        let hog = self.peak * (elapsed_ms as f64 / self.ramp_ms).min(1.0);
        for p in w.cluster.pods_of(wl).collect::<Vec<_>>() {
            w.cluster.pods[p].effects.cpu_hog = hog;
        }
    }

    fn end(&mut self, w: &mut World) {
        let Some(wl) = self.workload else { return };
        for p in w.cluster.pods_of(wl).collect::<Vec<_>>() {
            crate::pods::delete(w, p);
        }
        w.cluster.workloads[wl].deleted = true;
    }
}
