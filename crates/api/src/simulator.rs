//! The built-in simulated cluster over HTTP: `POST /api/v1/simulator/faults` injects a chaos
//! fault into a chosen target now (the body names the kind, the target, the severity and the
//! duration; a bad body answers 400 naming the field), `GET /api/v1/simulator/faults` lists the
//! faults injected so far and `GET /api/v1/simulator/targets` what can be hit.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kubepulse_model::{format_rfc3339, parse_duration};
use kubepulse_sim::faults::TargetKind;
use kubepulse_sim::{FaultKind, FaultSpec, Simulator, Target};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::predict::ServiceError;

/// The running simulator, shared with its live source.
pub type SharedSimulator = Arc<Mutex<Simulator>>;

/// `POST /api/v1/simulator/faults` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// `memory_leak`, `cpu_hog`, `bad_rollout`, …
    pub kind: String,
    /// Namespace of a workload or service.
    #[serde(default)]
    pub namespace: String,
    /// Workload (pod faults hit its first replica).
    #[serde(default)]
    pub workload: String,
    /// Service.
    #[serde(default)]
    pub service: String,
    /// Node.
    #[serde(default)]
    pub node: String,
    /// How bad, in (0, 1]; 0.8 by default.
    #[serde(default)]
    pub severity: Option<f64>,
    /// How long (`30m`); until the server stops when absent.
    #[serde(default)]
    pub duration: Option<String>,
}

fn sim(st: &AppState) -> Result<SharedSimulator, ServiceError> {
    st.simulator
        .clone()
        .ok_or_else(|| ServiceError::Unavailable("the simulated cluster is not running".into()))
}

/// What a kind of fault is aimed at, as the form and the body name it.
pub fn target_word(k: FaultKind) -> &'static str {
    match k.target_kind() {
        TargetKind::Pod | TargetKind::Workload => "workload",
        TargetKind::Service => "service",
        TargetKind::Node => "node",
    }
}

/// Injects a fault now; its spec.
pub fn inject(s: &SharedSimulator, r: FaultRequest) -> Result<FaultSpec, ServiceError> {
    let bad = |m: String| ServiceError::BadRequest(m);
    let kind = FaultKind::parse(&r.kind).ok_or_else(|| {
        let all: Vec<&str> = FaultKind::ALL.iter().map(FaultKind::as_str).collect();
        bad(format!(
            "kind: {:?} is not one of {}",
            r.kind,
            all.join(", ")
        ))
    })?;
    let severity = r.severity.unwrap_or(0.8);
    if !(severity > 0.0 && severity <= 1.0) {
        return Err(bad(format!("severity: {severity} is not in (0, 1]")));
    }
    let duration = match r.duration.as_deref() {
        None | Some("") => None,
        Some(d) => match parse_duration(d) {
            Ok(ms) if ms > 0 && ms <= 86_400_000 => Some(ms),
            _ => return Err(bad(format!("duration: {d:?} is not a duration up to 1d"))),
        },
    };
    let target = Target {
        namespace: r.namespace,
        workload: r.workload,
        service: r.service,
        node: r.node,
        pod: String::new(),
    };
    kubepulse_sim::engine::check_target(&kind.target_kind(), &target)
        .map_err(|e| bad(format!("target: {e}")))?;
    let mut g = s
        .lock()
        .map_err(|_| ServiceError::Internal("simulator poisoned".into()))?;
    let spec = FaultSpec {
        kind,
        at: g.now(),
        target,
        severity,
        duration,
    };
    g.inject(spec.clone())
        .map_err(|e| bad(format!("target: {e}")))?;
    Ok(spec)
}

/// `POST /api/v1/simulator/faults`.
pub async fn post_fault(State(st): State<AppState>, body: Bytes) -> Result<Response, ServiceError> {
    let s = sim(&st)?;
    let r: FaultRequest = serde_json::from_slice(&body)
        .map_err(|e| ServiceError::BadRequest(format!("bad fault body: {e}")))?;
    let spec = inject(&s, r)?;
    Ok(Json(json!({
        "status": "success",
        "data": {
            "kind": spec.kind.as_str(),
            "at": format_rfc3339(spec.at),
            "target": spec.target,
            "severity": spec.severity,
        }
    }))
    .into_response())
}

/// The faults injected so far, newest first: kind, target, start, end, detail.
pub fn faults(s: &SharedSimulator) -> Vec<(String, String, i64, Option<i64>, String)> {
    let Ok(g) = s.lock() else {
        return Vec::new();
    };
    let mut v: Vec<_> = g
        .truth()
        .faults
        .iter()
        .map(|f| {
            let t = &f.target;
            let target = if t.namespace.is_empty() {
                format!("{} {}", t.kind, t.name)
            } else {
                format!("{} {}/{}", t.kind, t.namespace, t.name)
            };
            (
                f.kind.as_str().to_string(),
                target,
                f.start,
                f.end,
                f.detail.clone(),
            )
        })
        .collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.2));
    v
}

/// Workloads and services as (namespace, name), and node names.
pub type Targets = (Vec<(String, String)>, Vec<(String, String)>, Vec<String>);

/// Workloads (namespace, name), services (namespace, name) and nodes of the simulated cluster.
pub fn targets(s: &SharedSimulator) -> Targets {
    let Ok(g) = s.lock() else {
        return Default::default();
    };
    let c = &g.world().cluster;
    (
        c.workloads
            .iter()
            .map(|w| (w.namespace.clone(), w.name.clone()))
            .collect(),
        c.services
            .iter()
            .map(|x| (x.namespace.clone(), x.name.clone()))
            .collect(),
        c.nodes.iter().map(|n| n.name.clone()).collect(),
    )
}

/// `GET /api/v1/simulator/faults`.
pub async fn get_faults(State(st): State<AppState>) -> Result<Response, ServiceError> {
    let s = sim(&st)?;
    let list: Vec<_> = faults(&s)
        .into_iter()
        .map(|(kind, target, start, end, detail)| {
            json!({"kind": kind, "target": target, "start": format_rfc3339(start),
                   "end": end.map(format_rfc3339), "detail": detail})
        })
        .collect();
    Ok(Json(json!({"status": "success", "data": list})).into_response())
}

/// `GET /api/v1/simulator/targets`.
pub async fn get_targets(State(st): State<AppState>) -> Result<Response, ServiceError> {
    let s = sim(&st)?;
    let (w, svc, n) = targets(&s);
    let kinds: Vec<_> = FaultKind::ALL
        .iter()
        .map(|k| json!({"kind": k.as_str(), "target": target_word(*k)}))
        .collect();
    Ok(Json(json!({"status": "success", "data": {
        "kinds": kinds,
        "workloads": w.iter().map(|(a, b)| format!("{a}/{b}")).collect::<Vec<_>>(),
        "services": svc.iter().map(|(a, b)| format!("{a}/{b}")).collect::<Vec<_>>(),
        "nodes": n,
    }}))
    .into_response())
}
