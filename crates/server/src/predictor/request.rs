//! Predictions on request: one object's metrics turned into a feature row, and small simulated
//! clusters whose riskiest object is predicted.

use std::collections::BTreeMap;

use kubepulse_api::predict::{ObjectPrediction, PredictRequest, ServiceError};
use kubepulse_intel::model::FailureModel;
use kubepulse_query::Engine;
use kubepulse_query::features::{
    FeatureRow, ObjectKind, compute, events, signal_values, signals, window_len,
};
use kubepulse_sim::SimConfig;

use super::score_rows;
use crate::training::{Episode, model_spec};

/// Names a request may use besides the signal names, with the factor to the signal's unit.
const ALIASES: &[(&str, &str, f64)] = &[
    ("cpu_usage_percent", "cpu_limit_ratio", 0.01),
    ("memory_usage_percent", "memory_limit_ratio", 0.01),
    ("restart_count", "restarts", 1.0),
];

/// Signals a request leaves out, taken as a steady healthy object's: no restarts, ready, not
/// waiting, no errors, running for a day (pods); Ready, no pressure, reporting (nodes). Without
/// them an object described by its memory alone would look like one nothing is known about.
const POD_DEFAULTS: &[(&str, f64)] = &[
    ("restarts", 0.0),
    ("restarts_10m", 0.0),
    ("age_seconds", 86_400.0),
    ("revision_age_seconds", 86_400.0),
    ("waiting", 0.0),
    ("ready", 1.0),
    ("network_errors", 0.0),
    ("network_drops", 0.0),
    ("last_terminated_oom", 0.0),
    ("last_terminated_error", 0.0),
    ("crash_loop_back_off", 0.0),
    ("log_error_rate", 0.0),
    ("node_pressure", 0.0),
];
const NODE_DEFAULTS: &[(&str, f64)] = &[
    ("network_errors", 0.0),
    ("ready", 1.0),
    ("memory_pressure", 0.0),
    ("disk_pressure", 0.0),
    ("exporter_down", 0.0),
];

/// Accepted and echoed, but not a signal (the prototype sent it).
const IGNORED: &[&str] = &["node_count"];

/// Simulated minutes before a simulated object is predicted.
const SIMULATED_MINUTES: i64 = 30;

/// The feature row a request describes, at `now`.
pub fn row(
    model: &FailureModel,
    req: &PredictRequest,
    now: i64,
) -> Result<FeatureRow, ServiceError> {
    let bad = |m: String| ServiceError::BadRequest(m);
    let kind = match req.kind.as_deref().unwrap_or("pod") {
        "pod" => ObjectKind::Pod,
        "node" => ObjectKind::Node,
        k => return Err(bad(format!("kind: {k:?} is neither \"pod\" nor \"node\""))),
    };
    let spec = model_spec(model);
    let len = window_len(spec);
    let entries: Vec<(&str, &BTreeMap<String, f64>)> = match (&req.metrics, &req.window) {
        (Some(_), Some(_)) => return Err(bad("give either metrics or window, not both".into())),
        (Some(m), None) => vec![("metrics", m)],
        (None, Some(w)) if w.is_empty() => return Err(bad("window: is empty".into())),
        (None, Some(w)) => w.iter().map(|e| ("window", e)).collect(),
        (None, None) => return Err(bad("metrics or window is required".into())),
    };
    if entries.len() > len {
        return Err(bad(format!(
            "window: {} entries, at most {len} (one per {} s)",
            entries.len(),
            spec.step / 1000
        )));
    }
    let sigs = signals(kind);
    let mut points = vec![vec![f64::NAN; len]; sigs.len()];
    let instant = req.window.is_none();
    for (i, (field, entry)) in entries.iter().enumerate() {
        let at = len - entries.len() + i;
        for (name, v) in entry.iter() {
            let place = if *field == "window" {
                format!("window[{i}].{name}")
            } else {
                format!("metrics.{name}")
            };
            if IGNORED.contains(&name.as_str()) {
                continue;
            }
            let (signal, factor) = ALIASES
                .iter()
                .find(|a| a.0 == name)
                .map_or((name.as_str(), 1.0), |a| (a.1, a.2));
            let Some(s) = sigs.iter().position(|x| x.name == signal) else {
                let known: Vec<&str> = sigs.iter().map(|x| x.name).collect();
                return Err(bad(format!(
                    "{place}: unknown metric; known: {}, and {}",
                    known.join(", "),
                    ALIASES.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
                )));
            };
            if !v.is_finite() {
                return Err(bad(format!("{place}: must be a finite number")));
            }
            if instant {
                points[s].iter_mut().for_each(|p| *p = v * factor);
            } else {
                points[s][at] = v * factor;
            }
        }
    }
    let defaults = match kind {
        ObjectKind::Pod => POD_DEFAULTS,
        ObjectKind::Node => NODE_DEFAULTS,
    };
    let given = points.iter().any(|p| p.iter().any(|v| !v.is_nan()));
    for (name, v) in defaults.iter().filter(|_| given) {
        if let Some(s) = sigs.iter().position(|x| x.name == *name)
            && points[s].iter().all(|v| v.is_nan())
        {
            points[s].iter_mut().for_each(|p| *p = *v);
        }
    }
    let windows: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
    let mut values = signal_values(kind, &windows, spec)
        .ok_or_else(|| bad("metrics: no known metric was given".into()))?;
    values.extend(std::iter::repeat_n(0.0, events::names(kind).len()));
    Ok(FeatureRow {
        kind,
        namespace: req.namespace.clone().unwrap_or_default(),
        name: req.name.clone().unwrap_or_else(|| "unnamed".into()),
        t: now,
        values,
    })
}

/// Simulates `count` small clusters with random faults (seeds from `seed`) and predicts for the
/// riskiest object of each.
pub fn simulated(
    engine: &Engine,
    model: &FailureModel,
    seed: u64,
    count: usize,
    cluster: &str,
) -> Result<Vec<ObjectPrediction>, ServiceError> {
    let spec = model_spec(model);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let cfg = SimConfig {
            nodes: 3,
            pods: 40,
            seed: seed.wrapping_add(i as u64),
            chaos_per_hour: 12.0,
            ..SimConfig::default()
        };
        let ep = Episode::simulate(cfg, SIMULATED_MINUTES)
            .map_err(|e| ServiceError::Internal(format!("simulation: {e}")))?;
        let mut rows = Vec::new();
        for kind in [ObjectKind::Pod, ObjectKind::Node] {
            rows.extend(
                compute(engine, &ep.src, &ep.events, kind, ep.end, ep.end, spec)
                    .map_err(|e| ServiceError::Internal(format!("features: {e}")))?,
            );
        }
        let id = format!("{cluster}-simulated-{}", i + 1);
        if let Some(p) = score_rows(model, &rows, &id).into_iter().next() {
            out.push(p);
        }
    }
    Ok(out)
}
