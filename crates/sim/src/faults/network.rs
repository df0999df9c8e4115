//! Network degradation on the path into a service: added latency (with jitter) or packet loss,
//! growing over a few minutes as a failing link or an overloaded overlay does. Callers see slower
//! and failing calls; the service's pods count dropped and errored packets.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, resolve_service};
use crate::SimError;
use crate::world::World;

/// Delay or loss on calls into a service.
#[derive(Debug)]
pub struct Network {
    target: Target,
    severity: f64,
    loss: bool,
    service: Option<usize>,
    peak: f64,
    ramp_ms: f64,
}

impl Network {
    /// Delay (`loss == false`) or packet loss into `target`'s service.
    pub fn new(target: Target, severity: f64, loss: bool) -> Self {
        Self {
            target,
            severity,
            loss,
            service: None,
            peak: 0.0,
            ramp_ms: 1.0,
        }
    }
}

impl Fault for Network {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let s = resolve_service(w, &self.target)?;
        self.service = Some(s);
        self.ramp_ms = lerp(12.0, 2.0, self.severity) * 60_000.0;
        self.peak = if self.loss {
            lerp(0.03, 0.4, self.severity)
        } else {
            lerp(0.08, 1.5, self.severity)
        };
        let detail = if self.loss {
            format!(
                "packet loss ramps to {:.0}% over {:.0} min",
                self.peak * 100.0,
                self.ramp_ms / 60_000.0
            )
        } else {
            format!(
                "latency ramps to +{:.0} ms over {:.0} min",
                self.peak * 1000.0,
                self.ramp_ms / 60_000.0
            )
        };
        let mut scope = vec![w.service_ref(s)];
        let wl = w.cluster.services[s].workload;
        scope.extend(w.cluster.pods_of(wl).map(|p| w.pod_ref(p)));
        Ok((scope, detail))
    }

    fn tick(&mut self, w: &mut World, elapsed_ms: i64) {
        let Some(s) = self.service else { return };
        let ramp = (elapsed_ms as f64 / self.ramp_ms).min(1.0);
        let jitter = (1.0 + 0.15 * w.rng.normal()).max(0.5);
        let v = self.peak * ramp * jitter;
        let wl = w.cluster.services[s].workload;
        let pods: Vec<usize> = w.cluster.pods_of(wl).collect();
        if self.loss {
            w.cluster.services[s].edge_loss = v.min(1.0);
            for p in pods {
                w.cluster.pods[p].effects.net_loss = v.min(1.0);
            }
        } else {
            w.cluster.services[s].edge_delay = v;
        }
    }

    fn end(&mut self, w: &mut World) {
        let Some(s) = self.service else { return };
        w.cluster.services[s].edge_loss = 0.0;
        w.cluster.services[s].edge_delay = 0.0;
        let wl = w.cluster.services[s].workload;
        for p in w.cluster.pods_of(wl).collect::<Vec<_>>() {
            w.cluster.pods[p].effects.net_loss = 0.0;
        }
    }
}
