//! kube-state-metrics series for pods, nodes and workloads, with the label names and value
//! conventions of kube-state-metrics 2.x (one series per state with value 0 or 1; waiting and
//! termination reasons as labels of series that exist only while they apply).

mod node;
mod pod;
mod workload;

pub use node::node;
pub use pod::pod;
pub use workload::{WorkloadSeries, workload};

use kubepulse_model::MetricType;

use super::SeriesTable;

const BOOLS: [&str; 3] = ["true", "false", "unknown"];

fn ksm_labels<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("job", "kube-state-metrics"),
        ("instance", "kube-state-metrics.monitoring.svc:8080"),
    ];
    v.extend_from_slice(extra);
    v
}

fn add(t: &mut SeriesTable, name: &str, kind: MetricType, extra: &[(&str, &str)]) -> u32 {
    t.add(name, kind, "", &ksm_labels(extra))
}

fn b(v: bool) -> f64 {
    if v { 1.0 } else { 0.0 }
}
