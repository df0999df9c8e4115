//! Anomalies over HTTP: `GET /api/v1/anomalies` lists the watched series' current anomaly
//! scores, the most anomalous first, each with its reason, what is usual for it and its last
//! report. The detection runs in the server, behind an [`AnomalyService`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use kubepulse_intel::anomaly::Reason;
use kubepulse_model::format_rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::predict::ServiceError;

/// The last time a series was reported anomalous.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Report {
    /// When (ms).
    #[serde(skip)]
    pub t: i64,
    /// Why.
    pub reason: Reason,
    /// The score then.
    pub score: f64,
    /// The value then.
    pub value: f64,
}

/// One watched series at the last evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesAnomaly {
    /// The watch it comes from (`memory_limit_ratio`, `service_error_ratio`, …).
    pub signal: String,
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// Its value (for a counter, its rate per second: what the detector scores).
    pub value: f64,
    /// Its anomaly score, in [0, 1].
    pub score: f64,
    /// Why it scored.
    pub reason: Reason,
    /// The usual level and spread the detector has learnt.
    pub usual: f64,
    /// The usual spread (one standard deviation).
    pub spread: f64,
    /// Whether the detector is still learning this series.
    pub warming_up: bool,
    /// The last report, if any.
    pub last_report: Option<Report>,
}

/// What the server provides.
pub trait AnomalyService: Send + Sync {
    /// The time of the last evaluation (ms) and every watched series then, most anomalous
    /// first.
    fn current(&self) -> (i64, Arc<Vec<SeriesAnomaly>>);
}

/// `GET /api/v1/anomalies` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyQuery {
    /// Only series scoring at least this (in [0, 1]).
    pub min_score: Option<f64>,
    /// Only this watch.
    pub signal: Option<String>,
    /// Only series reported anomalous at least once.
    pub reported: Option<bool>,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<usize>,
}

/// Most series one answer lists.
pub const MAX_LIMIT: usize = 10_000;

/// `GET /api/v1/anomalies`.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<AnomalyQuery>,
) -> Result<Response, ServiceError> {
    let svc = state
        .anomalies
        .clone()
        .ok_or_else(|| ServiceError::Unavailable("anomaly detection is switched off".into()))?;
    let min = q.min_score.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&min) {
        return Err(ServiceError::BadRequest(format!(
            "min_score: {min} is not in [0, 1]"
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if limit > MAX_LIMIT {
        return Err(ServiceError::BadRequest(format!(
            "limit: {limit} is above {MAX_LIMIT}"
        )));
    }
    let (t, all) = svc.current();
    let list: Vec<serde_json::Value> = all
        .iter()
        .filter(|a| a.score >= min)
        .filter(|a| q.signal.as_deref().is_none_or(|s| a.signal == s))
        .filter(|a| !q.reported.unwrap_or(false) || a.last_report.is_some())
        .take(limit)
        .map(|a| {
            let mut v = json!(a);
            if let Some(r) = &a.last_report {
                v["last_report"]["timestamp"] = json!(format_rfc3339(r.t));
            }
            v
        })
        .collect();
    let body = json!({
        "status": "success",
        "data": {
            "timestamp": format_rfc3339(t),
            "watched": all.len(),
            "warming_up": all.iter().filter(|a| a.warming_up).count(),
            "anomalies": list,
        },
    });
    Ok(Json(body).into_response())
}
