//! A CPU hog in one container: extra CPU demand that ramps up over minutes (a runaway loop that
//! spreads to more worker threads), causing throttling, slower responses, failing readiness and,
//! when it is bad enough, liveness restarts.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, resolve_pod};
use crate::SimError;
use crate::world::World;

/// A CPU-burning container.
#[derive(Debug)]
pub struct CpuHog {
    target: Target,
    severity: f64,
    pod: Option<usize>,
    peak: f64,
    ramp_ms: f64,
}

impl CpuHog {
    /// A CPU hog in `target`.
    pub fn new(target: Target, severity: f64) -> Self {
        Self {
            target,
            severity,
            pod: None,
            peak: 0.0,
            ramp_ms: 1.0,
        }
    }
}

impl Fault for CpuHog {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let p = resolve_pod(w, &self.target)?;
        self.pod = Some(p);
        let pod = &w.cluster.pods[p];
        let cap = if pod.template.limits.cpu > 0.0 {
            pod.template.limits.cpu
        } else {
            pod.node
                .map(|n| w.cluster.nodes[n].cores() * 0.5)
                .unwrap_or(1.0)
        };
        self.peak = cap * lerp(1.0, 2.5, self.severity);
        self.ramp_ms = lerp(15.0, 3.0, self.severity) * 60_000.0;
        let detail = format!(
            "extra CPU demand ramps to {:.2} cores over {:.0} min (limit {:.2})",
            self.peak,
            self.ramp_ms / 60_000.0,
            cap
        );
        Ok((vec![w.pod_ref(p)], detail))
    }

    fn tick(&mut self, w: &mut World, elapsed_ms: i64) {
        if let Some(p) = self.pod {
            w.cluster.pods[p].effects.cpu_hog =
                self.peak * (elapsed_ms as f64 / self.ramp_ms).min(1.0);
        }
    }

    fn end(&mut self, w: &mut World) {
        if let Some(p) = self.pod {
            w.cluster.pods[p].effects.cpu_hog = 0.0;
        }
    }
}
