//! Log templates over HTTP: `GET /api/v1/log_templates` lists the templates the lines of a
//! namespace, workload or pod were given at ingest, with their line counts by level, most
//! lines first. The mining runs in the server, behind a [`TemplateService`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use kubepulse_model::format_rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::predict::ServiceError;

/// One template, as the lines that match a filter use it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateView {
    /// Its id (the `template_id` label of `kubepulse_log_template_lines_total`).
    pub id: u32,
    /// Its text, variables as `<*>`.
    pub template: String,
    /// Lines counted.
    pub lines: u64,
    /// Lines by level.
    pub levels: BTreeMap<String, u64>,
    /// First line seen (ms).
    #[serde(skip)]
    pub first_seen: i64,
    /// Last line seen (ms).
    #[serde(skip)]
    pub last_seen: i64,
}

/// Which lines to count.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFilter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only pods of this workload (pods named `<workload>-…`).
    pub workload: Option<String>,
    /// Only this pod.
    pub pod: Option<String>,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<usize>,
}

/// What the server provides.
pub trait TemplateService: Send + Sync {
    /// Templates of the lines matching `f`, most lines first.
    fn templates(&self, f: &TemplateFilter) -> Vec<TemplateView>;
}

/// `GET /api/v1/log_templates`.
pub async fn list(
    State(state): State<AppState>,
    Query(f): Query<TemplateFilter>,
) -> Result<Response, ServiceError> {
    let svc: Arc<dyn TemplateService> = state
        .log_templates
        .clone()
        .ok_or_else(|| ServiceError::Unavailable("log template mining is switched off".into()))?;
    let limit = f.limit.unwrap_or(100);
    if limit > 10_000 {
        return Err(ServiceError::BadRequest(format!(
            "limit: {limit} is above 10000"
        )));
    }
    let all = tokio::task::spawn_blocking(move || svc.templates(&f))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let list: Vec<serde_json::Value> = all
        .iter()
        .take(limit)
        .map(|t| {
            let mut v = json!(t);
            v["first_seen"] = json!(format_rfc3339(t.first_seen));
            v["last_seen"] = json!(format_rfc3339(t.last_seen));
            v
        })
        .collect();
    Ok(
        Json(json!({"status": "success", "data": {"templates": list, "total": all.len()}}))
            .into_response(),
    )
}
