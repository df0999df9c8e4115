//! A failing dependency: a service starts answering errors (a database out of connections, a
//! bad config flag), growing over a few minutes. Its callers' error rates follow.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, resolve_service};
use crate::SimError;
use crate::world::World;

/// A service returning errors.
#[derive(Debug)]
pub struct FailingDependency {
    target: Target,
    severity: f64,
    service: Option<usize>,
    peak: f64,
    ramp_ms: f64,
}

impl FailingDependency {
    /// Errors from `target`'s service.
    pub fn new(target: Target, severity: f64) -> Self {
        Self {
            target,
            severity,
            service: None,
            peak: 0.0,
            ramp_ms: 1.0,
        }
    }
}

impl Fault for FailingDependency {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let s = resolve_service(w, &self.target)?;
        self.service = Some(s);
        self.peak = lerp(0.08, 0.9, self.severity);
        self.ramp_ms = lerp(10.0, 1.0, self.severity) * 60_000.0;
        let wl = w.cluster.services[s].workload;
        let mut scope = vec![w.service_ref(s), w.workload_ref(wl)];
        scope.extend(w.cluster.pods_of(wl).map(|p| w.pod_ref(p)));
        Ok((
            scope,
            format!(
                "error ratio ramps to {:.0}% over {:.0} min",
                self.peak * 100.0,
                self.ramp_ms / 60_000.0
            ),
        ))
    }

    fn tick(&mut self, w: &mut World, elapsed_ms: i64) {
        if let Some(s) = self.service {
            w.cluster.services[s].fault_error =
                self.peak * (elapsed_ms as f64 / self.ramp_ms).min(1.0);
        }
    }

    fn end(&mut self, w: &mut World) {
        if let Some(s) = self.service {
            w.cluster.services[s].fault_error = 0.0;
        }
    }
}
