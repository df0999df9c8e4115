//! A memory leak in one container: the working set grows linearly until it meets the limit and
//! the container is OOM-killed; the leak starts again after every restart while the fault lasts.
//! At its end the pod is deleted (what a process leaked stays until it ends) and its controller
//! starts a fresh one.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, replace_pod, resolve_pod};
use crate::SimError;
use crate::dynamics::time_to_limit;
use crate::truth::FailureType;
use crate::world::World;

/// A leaking container.
#[derive(Debug)]
pub struct MemoryLeak {
    target: Target,
    severity: f64,
    pod: Option<usize>,
}

impl MemoryLeak {
    /// A leak in `target`.
    pub fn new(target: Target, severity: f64) -> Self {
        Self {
            target,
            severity,
            pod: None,
        }
    }
}

impl Fault for MemoryLeak {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let p = resolve_pod(w, &self.target)?;
        self.pod = Some(p);
        let pod = &w.cluster.pods[p];
        let limit = if pod.template.limits.memory > 0.0 {
            pod.template.limits.memory
        } else {
            pod.node
                .map(|n| w.cluster.nodes[n].shape.memory * 0.3)
                .unwrap_or(1e9)
        };
        let minutes = lerp(60.0, 6.0, self.severity);
        let rate = (limit - pod.usage.working_set).max(limit * 0.2) / (minutes * 60.0);
        w.cluster.pods[p].effects.leak_rate = rate;
        let detail = format!(
            "leaks {:.1} MiB/min, limit {:.0} MiB",
            rate * 60.0 / 1_048_576.0,
            limit / 1_048_576.0
        );
        Ok((vec![w.pod_ref(p)], detail))
    }

    fn end(&mut self, w: &mut World) {
        if let Some(p) = self.pod {
            let pod = &w.cluster.pods[p];
            let (rate, limit) = (pod.effects.leak_rate, pod.template.limits.memory);
            let prof = w.cluster.profile_of(p);
            if pod.running()
                && rate > 0.0
                && limit > 0.0
                && let Some(after) = time_to_limit(pod, prof, limit, rate)
            {
                let r = w.pod_ref(p);
                w.averted(
                    r,
                    FailureType::Oom,
                    after,
                    "the working set meets the memory limit",
                );
            }
            w.cluster.pods[p].effects.leak_rate = 0.0;
            // What it leaked stays until the process ends: the remedy deletes the pod.
            replace_pod(w, p);
        }
    }
}
