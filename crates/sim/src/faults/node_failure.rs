//! A node failure: the kubelet stops at once (kernel panic, power loss). The node turns NotReady
//! after the monitor grace period and its pods are evicted by taint five minutes later. When the
//! fault ends the node comes back.

use kubepulse_model::ObjectRef;

use super::{Fault, Target, resolve_node};
use crate::SimError;
use crate::world::World;

/// A node that stops.
#[derive(Debug)]
pub struct NodeFailure {
    target: Target,
    node: Option<usize>,
}

impl NodeFailure {
    /// Failure of `target`'s node.
    pub fn new(target: Target) -> Self {
        Self { target, node: None }
    }
}

impl Fault for NodeFailure {
    fn begin(&mut self, w: &mut World) -> Result<(Vec<ObjectRef>, String), SimError> {
        let n = resolve_node(w, &self.target)?;
        self.node = Some(n);
        w.cluster.nodes[n].kubelet_up = false;
        Ok((vec![w.node_ref(n)], "kubelet stopped".into()))
    }

    fn end(&mut self, w: &mut World) {
        if let Some(n) = self.node {
            let t = w.t;
            let node = &mut w.cluster.nodes[n];
            node.kubelet_up = true;
            node.boot_time = (t / 1000) as f64;
            node.memory_pressure = false;
        }
    }
}
