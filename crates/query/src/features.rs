//! Failure-prediction features: for every pod and node, windows (by default the last 3 minutes
//! at 15 s) of the signals a real cluster exposes, named as cAdvisor, kube-state-metrics,
//! node-exporter and application clients name them. Each signal is a PromQL expression
//! aggregated to one series per object, evaluated over the whole span at once; each window of
//! it is summarised by [`window::stats`]. The same code reads the live store and a dataset
//! loaded into a [`crate::MemSource`].

pub mod events;
pub mod live;
pub mod signals;
pub mod silence;
pub mod window;

use std::collections::BTreeMap;

use kubepulse_model::K8sEvent;

use crate::{Engine, QueryError, QueryValue, Source};
pub use signals::{EXPORTER_DOWN, NODE_SIGNALS, POD_SIGNALS, Signal};
pub use silence::Silence;
use window::{Shape, WindowStats, envelope_trends, seconds_to, stats_in};

/// The kind of object a feature row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// A pod, keyed by namespace and name.
    Pod,
    /// A node, keyed by name.
    Node,
}

/// Longest a forecast looks ahead, in seconds.
pub const FORECAST_CAP_SECS: f64 = 3600.0;

/// The trend over the long window is fitted to the maxima of blocks this long (ms).
pub const TREND_BLOCK_MS: i64 = 60_000;
/// The recent trend is fitted to this many newest blocks (a fast climb shows there before the
/// long window's fit catches up with it).
pub const RECENT_BLOCKS: usize = 5;

/// Window lengths and step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Window length (ms).
    pub window: i64,
    /// Spacing of points in a window, and of rows (ms).
    pub step: i64,
    /// Long window, for trends and event counts (ms).
    pub long_window: i64,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            window: 180_000,
            step: 15_000,
            long_window: 900_000,
        }
    }
}

impl FeatureSpec {
    /// Points in the short window, after its first.
    fn short_steps(&self) -> usize {
        (self.window / self.step.max(1)).max(1) as usize
    }

    /// Points in the long window, after its first.
    fn long_steps(&self) -> usize {
        (self.long_window / self.step.max(1)).max(self.short_steps() as i64) as usize
    }
}

/// One object's features at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Pod or node.
    pub kind: ObjectKind,
    /// Namespace (empty for nodes).
    pub namespace: String,
    /// Pod or node name.
    pub name: String,
    /// Time of the window's end (ms).
    pub t: i64,
    /// Values, in the order of [`feature_names`].
    pub values: Vec<f64>,
}

/// The signals of a kind of object.
pub fn signals(kind: ObjectKind) -> &'static [Signal] {
    match kind {
        ObjectKind::Pod => POD_SIGNALS,
        ObjectKind::Node => NODE_SIGNALS,
    }
}

/// Names of the features of a kind of object: per signal `signal.stat`, then
/// `signal.seconds_to_limit` for signals with a limit; for signals with trends `signal.trend`
/// and `signal.trend_seconds_to_limit` (the long window since its last reset), then
/// `signal.recent_trend` and `signal.recent_seconds_to_limit` (its newest minutes); then the
/// event counts.
pub fn feature_names(kind: ObjectKind) -> Vec<String> {
    let mut out = Vec::new();
    for s in signals(kind) {
        out.extend(WindowStats::NAMES.iter().map(|n| format!("{}.{n}", s.name)));
        if s.limit.is_some() {
            out.push(format!("{}.seconds_to_limit", s.name));
        }
        if s.trend {
            out.push(format!("{}.trend", s.name));
            if s.limit.is_some() {
                out.push(format!("{}.trend_seconds_to_limit", s.name));
            }
            out.push(format!("{}.recent_trend", s.name));
            if s.limit.is_some() {
                out.push(format!("{}.recent_seconds_to_limit", s.name));
            }
        }
    }
    out.extend(events::names(kind));
    out
}

/// For each feature of [`feature_names`], whether it is context that models must not learn
/// from (see [`Signal::context`]).
pub fn context_mask(kind: ObjectKind) -> Vec<bool> {
    let mut out = Vec::new();
    for s in signals(kind) {
        let n = WindowStats::NAMES.len()
            + usize::from(s.limit.is_some())
            + if s.trend {
                2 * (1 + usize::from(s.limit.is_some()))
            } else {
                0
            };
        out.extend(std::iter::repeat_n(s.context, n));
    }
    out.extend(std::iter::repeat_n(false, events::names(kind).len()));
    out
}

/// Object key → one value (or none) per step of the grid.
type Grid = BTreeMap<(String, String), Vec<f64>>;

/// Features of every object of `kind` with data, for every step from `start` to `end`; `events`
/// are the Kubernetes events of that time (and of the long window before it).
pub fn compute(
    engine: &Engine,
    src: &dyn Source,
    events: &[K8sEvent],
    kind: ObjectKind,
    start: i64,
    end: i64,
    spec: FeatureSpec,
) -> Result<Vec<FeatureRow>, QueryError> {
    let step = spec.step.max(1);
    let long = spec.long_steps();
    let from = start - long as i64 * step;
    let len = ((end - from) / step) as usize + 1;
    let mut grids = Vec::new();
    for s in signals(kind) {
        grids.push(grid(engine, src, s.expr, kind, from, end, step, len)?);
    }
    let index = events::EventIndex::new(events, kind);
    let mut objects: Vec<&(String, String)> = grids.iter().flat_map(|g| g.keys()).collect();
    objects.sort();
    objects.dedup();
    let absent = vec![f64::NAN; long + 1];
    let mut rows = Vec::new();
    let mut windows: Vec<&[f64]> = Vec::with_capacity(grids.len());
    for key in objects {
        for i in long..len {
            let t = from + i as i64 * step;
            windows.clear();
            windows.extend(
                grids
                    .iter()
                    .map(|g| g.get(key).map_or(&absent[..], |p| &p[i - long..=i])),
            );
            if let Some(mut values) = signal_values(kind, &windows, spec) {
                index.counts(key, t, spec.window, spec.long_window, &mut values);
                rows.push(FeatureRow {
                    kind,
                    namespace: key.0.clone(),
                    name: key.1.clone(),
                    t,
                    values,
                });
            }
        }
    }
    Ok(rows)
}

/// Points a signal window holds: the long window's, newest last.
pub fn window_len(spec: FeatureSpec) -> usize {
    spec.long_steps() + 1
}

/// Points of the short window, newest last: all the statistics of a signal without trends read.
pub fn short_len(spec: FeatureSpec) -> usize {
    spec.short_steps() + 1
}

/// The signal features of one object from its signals' points (one slice per signal of `kind`,
/// newest last, NaN where missing: [`window_len`] points for a signal with trends, at least
/// [`short_len`] for the others); `None` when no signal has a point in the short window. Event
/// counts follow them in a full row.
pub fn signal_values(kind: ObjectKind, windows: &[&[f64]], spec: FeatureSpec) -> Option<Vec<f64>> {
    let mut values = Vec::with_capacity(windows.len() * (WindowStats::NAMES.len() + 3));
    signal_values_into(kind, windows, spec, &mut values).then_some(values)
}

/// [`signal_values`] written over `values` (its allocation kept); false when no signal has a
/// point in the short window.
pub fn signal_values_into(
    kind: ObjectKind,
    windows: &[&[f64]],
    spec: FeatureSpec,
    values: &mut Vec<f64>,
) -> bool {
    let step = spec.step.max(1);
    let step_secs = step as f64 / 1000.0;
    let block = (TREND_BLOCK_MS / step).max(1) as usize;
    let w = short_len(spec);
    let shape = Shape::new(w, step_secs);
    values.clear();
    let mut present = false;
    for (s, points) in signals(kind).iter().zip(windows) {
        let short = &points[points.len().saturating_sub(w)..];
        let st = stats_in(short, &shape);
        present |= st.missing < 1.0;
        values.extend(st.values());
        if let Some(limit) = s.limit {
            values.push(st.seconds_to(limit, FORECAST_CAP_SECS));
        }
        if s.trend {
            for (slope, top) in envelope_trends(points, step_secs, block, RECENT_BLOCKS) {
                values.push(slope);
                if let Some(limit) = s.limit {
                    values.push(seconds_to(top, slope, limit, FORECAST_CAP_SECS));
                }
            }
        }
    }
    present
}

/// Evaluates `expr` over the grid and files each series under its object.
#[allow(clippy::too_many_arguments)]
fn grid(
    engine: &Engine,
    src: &dyn Source,
    expr: &str,
    kind: ObjectKind,
    from: i64,
    end: i64,
    step: i64,
    len: usize,
) -> Result<Grid, QueryError> {
    let mut out = Grid::new();
    let QueryValue::Matrix(m) = engine.range(src, expr, from, end, step)?.value else {
        return Ok(out);
    };
    for s in m {
        let Some(key) = live::object_key(kind, &s.labels) else {
            continue;
        };
        let points = out.entry(key).or_insert_with(|| vec![f64::NAN; len]);
        for (t, v) in s.points {
            if let Some(p) = points.get_mut(((t - from) / step) as usize) {
                *p = v;
            }
        }
    }
    Ok(out)
}

/// A pod serving a service, and when it did (first and last step it was seen, ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pod.
    pub pod: String,
    /// First step it served the service.
    pub from: i64,
    /// Last step it served the service.
    pub to: i64,
}

/// The pods behind each service (`namespace`, `service`) between `start` and `end`, from the
/// application request counters, seen every `step`.
pub fn service_members(
    engine: &Engine,
    src: &dyn Source,
    start: i64,
    end: i64,
    step: i64,
) -> Result<BTreeMap<(String, String), Vec<Member>>, QueryError> {
    let mut out: BTreeMap<(String, String), Vec<Member>> = BTreeMap::new();
    let q = "group by (namespace, service, pod) (http_requests_total)";
    let QueryValue::Matrix(m) = engine.range(src, q, start, end, step.max(1))?.value else {
        return Ok(out);
    };
    for s in m {
        let get = |n: &str| s.labels.get(n).unwrap_or_default().to_string();
        let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else {
            continue;
        };
        out.entry((get("namespace"), get("service")))
            .or_default()
            .push(Member {
                pod: get("pod"),
                from: first.0,
                to: last.0,
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_match_rows() {
        for kind in [ObjectKind::Pod, ObjectKind::Node] {
            let mask = context_mask(kind);
            let mut names = feature_names(kind);
            assert_eq!(mask.len(), names.len());
            for (n, m) in names.iter().zip(&mask) {
                let context = ["memory_limit_bytes.", "cpu_limit_cores.", "fs_size_bytes."]
                    .iter()
                    .any(|p| n.starts_with(p));
                assert_eq!(*m, context, "{n}");
            }
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n);
        }
    }
}
