//! A disk filling up: one container writes to its writable layer (a log file without rotation, a
//! runaway temp file) so that the node's root filesystem reaches the 10% eviction threshold after
//! a time set by severity. The kubelet reports DiskPressure and evicts the largest consumer. At
//! its end the writing pod is deleted, and what it wrote with it; its controller starts a fresh
//! one.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, lerp, replace_pod, resolve_node};
use crate::SimError;
use crate::cluster::WorkloadKind;
use crate::nodes::DISK_EVICTION_RATIO;
use crate::truth::FailureType;
use crate::world::World;

/// A container filling its node's disk.
#[derive(Debug)]
pub struct DiskFill {
    target: Target,
    severity: f64,
    pod: Option<usize>,
}

impl DiskFill {
    /// Fills `target`'s node.
    pub fn new(target: Target, severity: f64) -> Self {
        Self {
            target,
            severity,
            pod: None,
        }
    }
}

impl Fault for DiskFill {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let n = resolve_node(w, &self.target)?;
        let c = &w.cluster;
        let mut candidates: Vec<usize> = c
            .pods_on(n)
            .filter(|&p| {
                c.pods[p].running()
                    && c.workloads[c.pods[p].workload].kind != WorkloadKind::DaemonSet
            })
            .collect();
        candidates.sort_by(|&a, &b| c.pods[a].name.cmp(&c.pods[b].name));
        let Some(&p) = candidates.first() else {
            return Err(SimError::Inject(format!(
                "node {} runs no pod that could fill its disk",
                c.nodes[n].name
            )));
        };
        self.pod = Some(p);
        let node = &c.nodes[n];
        let minutes = lerp(60.0, 8.0, self.severity);
        let to_fill = node.disk_available() - 0.08 * node.shape.disk;
        let rate = to_fill.max(1e9) / (minutes * 60.0);
        w.cluster.pods[p].effects.fs_fill_rate = rate;
        let detail = format!(
            "container of pod {} writes {:.0} MiB/min; node reaches the eviction threshold in about {minutes:.0} min",
            w.cluster.pods[p].name,
            rate * 60.0 / 1_048_576.0
        );
        Ok((vec![w.node_ref(n), w.pod_ref(p)], detail))
    }

    fn end(&mut self, w: &mut World) {
        if let Some(p) = self.pod {
            let pod = &w.cluster.pods[p];
            let rate = pod.effects.fs_fill_rate;
            if let Some(n) = pod.node
                && pod.running()
                && rate > 0.0
            {
                let node = &w.cluster.nodes[n];
                // Under the threshold already, the failure came: nothing was averted.
                let room = node.disk_available() - DISK_EVICTION_RATIO * node.shape.disk;
                if room > 0.0 {
                    let (nr, pr) = (w.node_ref(n), w.pod_ref(p));
                    let why = "the node's disk reaches the eviction threshold";
                    w.averted(nr, FailureType::DiskPressure, room / rate * 1000.0, why);
                    w.averted(pr, FailureType::DiskPressure, room / rate * 1000.0, why);
                }
            }
            w.cluster.pods[p].effects.fs_fill_rate = 0.0;
            // The written files go with the container's writable layer: the pod is deleted.
            replace_pod(w, p);
        }
    }
}
