//! The registry of every series the simulator has emitted: label sets are built once, when a
//! series first appears, and samples refer to them by a dense id.

use std::sync::Arc;

use kubepulse_model::{Labels, MetricType};

/// One series: its labels and its family's type and help.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDef {
    /// Dense id, unique within a run.
    pub id: u32,
    /// Labels, metric name included.
    pub labels: Labels,
    /// Family type.
    pub kind: MetricType,
    /// Family help text.
    pub help: &'static str,
}

/// All series of a run, in order of first appearance.
#[derive(Debug, Default)]
pub struct SeriesTable {
    defs: Vec<Arc<SeriesDef>>,
    published: usize,
}

impl SeriesTable {
    /// Registers a series; `labels` are the non-name labels (empty values are dropped).
    pub fn add(
        &mut self,
        name: &str,
        kind: MetricType,
        help: &'static str,
        labels: &[(&str, &str)],
    ) -> u32 {
        let id = self.defs.len() as u32;
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(labels.len() + 1);
        pairs.push(("__name__", name));
        pairs.extend_from_slice(labels);
        // Label names below are fixed literals, never duplicated; a duplicate would be a bug in
        // an emitter, caught by the tests that validate every emitted series.
        let labels = Labels::from_pairs(pairs).unwrap_or_default();
        self.defs.push(Arc::new(SeriesDef {
            id,
            labels,
            kind,
            help,
        }));
        id
    }

    /// Series registered since the last call.
    pub fn take_new(&mut self) -> Vec<Arc<SeriesDef>> {
        let new = self.defs[self.published..].to_vec();
        self.published = self.defs.len();
        new
    }

    /// Every series so far.
    pub fn all(&self) -> &[Arc<SeriesDef>] {
        &self.defs
    }

    /// Number of series so far.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// True when no series was registered.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// Series ids of one pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodSeries {
    /// kube-state-metrics pod status series (first id of a fixed block).
    pub status: Option<u32>,
    /// kube-state-metrics series that carry the node (first id), registered when bound.
    pub placement: Option<u32>,
    /// cAdvisor container series (first id) and the container id they belong to.
    pub container: Option<(u32, String)>,
    /// cAdvisor pod network series (first id).
    pub network: Option<u32>,
    /// Application request series (first id).
    pub app: Option<u32>,
    /// `http_requests_total` for codes 500 and 503, once the first one happens.
    pub errors: [Option<u32>; 2],
    /// `kube_pod_container_status_waiting_reason` for the current reason.
    pub waiting: Option<(&'static str, u32)>,
    /// `kube_pod_container_status_last_terminated_reason` and `_exitcode` for the last reason.
    pub terminated: Option<(&'static str, u32)>,
    /// `kube_pod_status_reason` when the pod has a status reason.
    pub reason: Option<(String, u32)>,
}
