//! Failure prediction over HTTP: `GET /api/v1/predictions` (the current risks of every pod and
//! node, ranked), `POST /api/v1/predict` (one object's metrics, instantaneous or a window; an
//! empty body draws a simulated object) and `GET /api/v1/simulate/{count}` (simulated clusters,
//! one prediction each). The work is done by a [`PredictionService`] the server provides.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kubepulse_intel::predict::Prediction;
use kubepulse_model::format_rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;

/// Why the service could not answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceError {
    /// The request is wrong; the message names the field.
    BadRequest(String),
    /// Not ready yet (the model is training) or switched off.
    Unavailable(String),
    /// Something failed inside.
    Internal(String),
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let (status, kind, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_data", m),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            Self::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
        };
        let body = json!({"status": "error", "errorType": kind, "error": message});
        (status, Json(body)).into_response()
    }
}

/// The object a prediction is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subject {
    /// `pod` or `node`.
    pub kind: String,
    /// Namespace (empty for nodes).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// A prediction for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPrediction {
    /// When (ms).
    pub t: i64,
    /// The cluster.
    pub cluster_id: String,
    /// The object.
    pub subject: Subject,
    /// The prediction.
    pub prediction: Prediction,
    /// The metrics it was made from (the last value of each signal, by signal name).
    pub metrics: BTreeMap<String, f64>,
}

/// A `POST /api/v1/predict` body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The cluster, echoed back.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// `pod` (default) or `node`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The pod's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The pod's or node's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Instantaneous metrics, by name (taken as steady over the window).
    #[serde(default)]
    pub metrics: Option<BTreeMap<String, f64>>,
    /// A window of metrics, oldest first, one entry per scrape interval.
    #[serde(default)]
    pub window: Option<Vec<BTreeMap<String, f64>>>,
}

/// Current risks, as `GET /api/v1/predictions` filters them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RankedQuery {
    /// At most this many (default 100).
    pub limit: Option<usize>,
    /// Only `pod` or `node`.
    pub kind: Option<String>,
    /// Only risks at least this likely.
    pub min_probability: Option<f64>,
    /// Only alarms.
    pub alarms: Option<bool>,
}

/// What serves predictions.
pub trait PredictionService: Send + Sync {
    /// The latest scoring of every object, riskiest first, and when it ran (ms).
    fn ranked(&self) -> Result<(i64, Arc<Vec<ObjectPrediction>>), ServiceError>;
    /// A prediction for the object a request describes.
    fn predict(&self, req: PredictRequest) -> Result<ObjectPrediction, ServiceError>;
    /// Simulates `count` clusters and predicts for the riskiest object of each.
    fn simulate(&self, count: usize) -> Result<Vec<ObjectPrediction>, ServiceError>;
    /// Most clusters one simulate call may ask for.
    fn max_simulate(&self) -> usize;
}

fn service(state: &AppState) -> Result<Arc<dyn PredictionService>, ServiceError> {
    state
        .predictions
        .clone()
        .ok_or_else(|| ServiceError::Unavailable("failure prediction is turned off".into()))
}

/// The answer shape of the KubePulse prototype's API, with the richer fields beside.
pub fn prototype_json(p: &ObjectPrediction) -> Value {
    let x = &p.prediction;
    json!({
        "timestamp": format_rfc3339(p.t),
        "cluster_id": p.cluster_id,
        "object": p.subject,
        "prediction": {
            "will_have_issue": x.alarm,
            "issue_probability": x.probability,
            "issue_type": x.class,
            "eta_seconds": x.eta_seconds,
            "eta_source": x.eta_source,
            "explanation": x.explanation,
            "evidence": x.evidence,
            "confidence": x.recommendation.confidence,
            "recommendation": {
                "description": x.recommendation.description,
                "actions": x.recommendation.actions,
                "confidence": x.recommendation.confidence,
            },
        },
        "metrics": p.metrics,
    })
}

/// `GET /api/v1/predictions`.
pub async fn ranked(
    State(state): State<AppState>,
    Query(q): Query<RankedQuery>,
) -> Result<Response, ServiceError> {
    let svc = service(&state)?;
    if let Some(k) = q.kind.as_deref()
        && k != "pod"
        && k != "node"
    {
        return Err(ServiceError::BadRequest(format!(
            "kind: {k:?} is neither \"pod\" nor \"node\""
        )));
    }
    let (t, all) = tokio::task::spawn_blocking(move || svc.ranked())
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    let min = q.min_probability.unwrap_or(0.0);
    let list: Vec<Value> = all
        .iter()
        .filter(|p| q.kind.as_deref().is_none_or(|k| p.subject.kind == k))
        .filter(|p| p.prediction.probability >= min)
        .filter(|p| !q.alarms.unwrap_or(false) || p.prediction.alarm)
        .take(q.limit.unwrap_or(100))
        .map(|p| {
            json!({
                "object": p.subject,
                "type": p.prediction.class,
                "probability": p.prediction.probability,
                "alarm": p.prediction.alarm,
                "eta_seconds": p.prediction.eta_seconds,
                "explanation": p.prediction.explanation,
                "evidence": p.prediction.evidence,
                "recommendation": p.prediction.recommendation,
            })
        })
        .collect();
    let body = json!({
        "status": "success",
        "data": {"timestamp": format_rfc3339(t), "scored": all.len(), "predictions": list},
    });
    Ok(Json(body).into_response())
}

/// `POST /api/v1/predict`.
pub async fn predict(State(state): State<AppState>, body: Bytes) -> Result<Response, ServiceError> {
    let svc = service(&state)?;
    let req: PredictRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PredictRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ServiceError::BadRequest(format!("body: {e}")))?
    };
    let p = tokio::task::spawn_blocking(move || svc.predict(req))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    Ok(Json(prototype_json(&p)).into_response())
}

/// `GET /api/v1/simulate/{count}`.
pub async fn simulate(
    State(state): State<AppState>,
    Path(count): Path<String>,
) -> Result<Response, ServiceError> {
    let svc = service(&state)?;
    let max = svc.max_simulate();
    let n: usize = count
        .parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ServiceError::BadRequest(format!("count: {count:?} must be between 1 and {max}"))
        })?;
    let all = tokio::task::spawn_blocking(move || svc.simulate(n))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    let list: Vec<Value> = all.iter().map(prototype_json).collect();
    Ok(Json(Value::Array(list)).into_response())
}
