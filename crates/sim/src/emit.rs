//! Turning cluster state into what real components emit: cAdvisor, kube-state-metrics and
//! node-exporter series, application request metrics, the service graph metrics a trace
//! pipeline derives from spans, Kubernetes object states, container logs and trace spans. One
//! file per source.

pub mod app;
pub mod cadvisor;
pub mod ksm;
pub mod logs;
pub mod node_exporter;
pub mod objects;
mod series;
pub mod servicegraph;
pub mod spans;

pub use series::{PodSeries, SeriesDef, SeriesTable};

use crate::world::World;

/// The modes of `node_cpu_seconds_total`, in the order of the node's counters.
pub const CPU_MODES: [&str; 8] = [
    "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
];

/// Upper bounds of the request latency histogram (Prometheus client defaults).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// The same bounds as written in the `le` label.
pub const LATENCY_LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// Rounds to milliseconds (seconds counters), so that files stay compact.
pub fn ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Per-step indexes of the cluster, computed once and shared by the emitters.
#[derive(Debug, Default)]
pub struct Census {
    /// Live pods of each workload.
    pub by_workload: Vec<Vec<usize>>,
    /// Per workload: unfinished pods, ready pods, pods at the current revision.
    pub counts: Vec<(u32, u32, u32)>,
    /// Running pods per node.
    pub running_on: Vec<u32>,
}

impl Census {
    /// Indexes the cluster of `w`.
    pub fn of(w: &World) -> Self {
        let c = &w.cluster;
        let mut by_workload = vec![Vec::new(); c.workloads.len()];
        let mut counts = vec![(0, 0, 0); c.workloads.len()];
        let mut running_on = vec![0; c.nodes.len()];
        for &p in &c.live {
            let pod = &c.pods[p];
            by_workload[pod.workload].push(p);
            if !pod.finished() {
                let e = &mut counts[pod.workload];
                e.0 += 1;
                e.1 += u32::from(pod.ready);
                e.2 += u32::from(pod.revision == c.workloads[pod.workload].revision);
            }
            if let (Some(n), true) = (pod.node, pod.running()) {
                running_on[n] += 1;
            }
        }
        Self {
            by_workload,
            counts,
            running_on,
        }
    }
}

/// Metrics emitted in one step.
#[derive(Debug, Default)]
pub struct MetricsOut {
    /// Series that appeared this step.
    pub new_series: Vec<std::sync::Arc<SeriesDef>>,
    /// Samples of this step: series id and value.
    pub samples: Vec<(u32, f64)>,
}

/// Keeps the series registry and the per-entity series ids, and emits every exporter's series.
#[derive(Debug, Default)]
pub struct Emitter {
    table: SeriesTable,
    pods: Vec<PodSeries>,
    nodes: Vec<node_exporter::NodeSeries>,
    workloads: Vec<ksm::WorkloadSeries>,
    edges: Vec<Vec<servicegraph::EdgeSeries>>,
}

impl Emitter {
    /// Emits every exporter's samples for the current state of `w`.
    pub fn emit(&mut self, w: &World, census: &Census) -> MetricsOut {
        let c = &w.cluster;
        let mut out = Vec::with_capacity(self.table.len() + 1024);
        self.pods.resize_with(c.pods.len(), PodSeries::default);
        self.nodes.resize_with(c.nodes.len(), Default::default);
        self.workloads
            .resize_with(c.workloads.len(), Default::default);
        for n in 0..c.nodes.len() {
            node_exporter::emit(
                &mut self.table,
                &mut self.nodes[n],
                w,
                n,
                census.running_on[n],
                &mut out,
            );
            ksm::node(&mut self.table, &mut self.nodes[n], w, n, &mut out);
        }
        for wl in 0..c.workloads.len() {
            if !c.workloads[wl].deleted {
                ksm::workload(
                    &mut self.table,
                    &mut self.workloads[wl],
                    w,
                    wl,
                    census,
                    &mut out,
                );
            }
        }
        for &p in &c.live {
            let s = &mut self.pods[p];
            ksm::pod(&mut self.table, s, w, p, &mut out);
            let pod = &c.pods[p];
            if pod.running() && pod.node.is_some_and(|n| c.nodes[n].kubelet_up) {
                cadvisor::emit(&mut self.table, s, w, p, &mut out);
                app::emit(&mut self.table, s, w, p, &mut out);
            }
        }
        servicegraph::emit(&mut self.table, &mut self.edges, w, &mut out);
        MetricsOut {
            new_series: self.table.take_new(),
            samples: out,
        }
    }

    /// Every series registered so far.
    pub fn series(&self) -> &[std::sync::Arc<SeriesDef>] {
        self.table.all()
    }
}
