//! Rollouts of broken templates: a build that crashes after start (crash loop), an image tag
//! that does not exist (image pull back-off), or requests no node can hold (Pending). At the end
//! the workload is rolled back, as `kubectl rollout undo` does: a new revision with the old
//! template.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, resolve_workload};
use crate::SimError;
use crate::cluster::PodTemplate;
use crate::truth::FailureType;
use crate::world::World;

/// What is broken in the new template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// The process exits with an error some time after start.
    Crash,
    /// The image tag does not exist.
    Image,
    /// The requests exceed every node's allocatable resources.
    Requests,
}

/// A rollout of a broken template.
#[derive(Debug)]
pub struct BadRollout {
    target: Target,
    severity: f64,
    breakage: Breakage,
    workload: Option<usize>,
    good: Option<PodTemplate>,
}

impl BadRollout {
    /// A bad rollout into `target`'s workload.
    pub fn new(target: Target, severity: f64, breakage: Breakage) -> Self {
        Self {
            target,
            severity,
            breakage,
            workload: None,
            good: None,
        }
    }
}

impl Fault for BadRollout {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let wl = resolve_workload(w, &self.target)?;
        self.workload = Some(wl);
        self.good = Some(w.cluster.workloads[wl].template.clone());
        let severity = self.severity;
        let max_cpu = w
            .cluster
            .nodes
            .iter()
            .map(|n| n.alloc_cpu)
            .fold(0.0, f64::max);
        let breakage = self.breakage;
        let detail = match breakage {
            Breakage::Crash => {
                let after = lerp(480_000.0, 10_000.0, severity) as i64;
                start_rollout(w, wl, |t| {
                    t.version = next_version(&t.version);
                    t.crash_after = Some(after);
                    t.crash_exit_code = 1;
                });
                format!(
                    "new build exits with code 1 about {}s after start",
                    after / 1000
                )
            }
            Breakage::Image => {
                start_rollout(w, wl, |t| {
                    t.version = format!("{}-rc{}", t.version, 1 + (severity * 3.0) as u32);
                    t.image_ok = false;
                });
                format!(
                    "image {} does not exist",
                    w.cluster.workloads[wl].template.image()
                )
            }
            Breakage::Requests => {
                let cpu = (max_cpu * lerp(1.2, 3.0, severity)).ceil();
                start_rollout(w, wl, |t| t.requests.cpu = cpu);
                format!("new template requests {cpu} CPU cores, more than any node has")
            }
        };
        Ok((vec![w.workload_ref(wl)], detail))
    }

    fn end(&mut self, w: &mut World) {
        if let (Some(wl), Some(good)) = (self.workload, self.good.take())
            && !w.cluster.workloads[wl].deleted
        {
            if self.breakage == Breakage::Crash {
                averted_crash_loops(w, wl);
            }
            new_revision(w, wl, good);
        }
    }
}

/// Records the crash loops the broken build's running containers of workload `wl` were heading
/// for: the exit after the first restart brings the back-off, so a container that exited once
/// fails at its next exit, one that never did at the exit after.
fn averted_crash_loops(w: &mut World, wl: usize) {
    let pods: Vec<usize> = w.cluster.pods_of(wl).collect();
    for p in pods {
        let pod = &w.cluster.pods[p];
        let Some(after) = pod.template.crash_after else {
            continue;
        };
        if !pod.running() || pod.container.backoff_level > 1 {
            continue;
        }
        let exits = if pod.container.backoff_level == 1 {
            1
        } else {
            2
        };
        let at = pod.container.started_at + exits * after;
        let r = w.pod_ref(p);
        let why = "the broken build exits again and backs off";
        w.averted(r, FailureType::CrashLoop, (at - w.t) as f64, why);
    }
}

/// Gives workload `wl` a new revision with `template`; rolling back to a template it ran
/// before, as `kubectl rollout undo` does, keeps that template's hash.
pub fn new_revision(w: &mut World, wl: usize, template: PodTemplate) {
    let workload = &mut w.cluster.workloads[wl];
    workload.template = template;
    workload.revision += 1;
    workload.generation += 1;
}

/// Starts a rollout of workload `wl` with its template changed by `change`: a new revision with
/// a new template hash; the controllers replace the pods.
pub fn start_rollout(w: &mut World, wl: usize, change: impl FnOnce(&mut PodTemplate)) {
    let hash = w.rng.k8s_suffix(10);
    let mut template = w.cluster.workloads[wl].template.clone();
    change(&mut template);
    template.hash = hash;
    new_revision(w, wl, template);
}

/// The next patch version of a `vMAJOR.MINOR.PATCH` tag (other tags get `-1` appended).
pub fn next_version(v: &str) -> String {
    let core = v.split('-').next().unwrap_or(v);
    let parts: Vec<&str> = core.trim_start_matches('v').split('.').collect();
    match parts.as_slice() {
        [a, b, c] => match c.parse::<u32>() {
            Ok(n) => format!(
                "{}{a}.{b}.{}",
                if v.starts_with('v') { "v" } else { "" },
                n + 1
            ),
            Err(_) => format!("{v}-1"),
        },
        _ => format!("{v}-1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(next_version("v1.2.3"), "v1.2.4");
        assert_eq!(next_version("7.2.4"), "7.2.5");
        assert_eq!(next_version("v1.2.3-rc1"), "v1.2.4");
        assert_eq!(next_version("latest"), "latest-1");
    }
}
