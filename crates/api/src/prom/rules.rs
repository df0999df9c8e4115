//! `GET /api/v1/rules` and `GET /api/v1/alerts` in Prometheus' JSON shapes, and `POST
//! /-/reload`. The rules run in the server, behind a [`RulesService`].

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kubepulse_alert::{Alert, AlertState, Group, RuleKind, RuleRun};
use kubepulse_model::format_rfc3339;
use kubepulse_model::gofloat::format_e;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, success};
use crate::AppState;

/// What the server provides.
pub trait RulesService: Send + Sync {
    /// The groups as they stand, in evaluation order.
    fn groups(&self) -> Arc<Vec<Group>>;
    /// Loads the rule files again; on refusal, why (the running rules go on).
    fn reload(&self) -> Result<(), String>;
}

/// `GET /api/v1/rules` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    /// `alert` or `record`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

fn time(ms: i64) -> Value {
    if ms == 0 {
        json!("0001-01-01T00:00:00Z")
    } else {
        json!(format_rfc3339(ms))
    }
}

/// Milliseconds as seconds, whole numbers written without a fraction as Go writes them.
fn seconds(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn alert_json(a: &Alert) -> Value {
    json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "state": a.state.as_str(),
        "activeAt": time(a.active_at),
        "value": format_e(a.value),
    })
}

fn rule_state(r: &RuleRun) -> AlertState {
    r.alerts
        .active
        .values()
        .map(|a| a.state)
        .max()
        .unwrap_or(AlertState::Inactive)
}

fn rule_json(r: &RuleRun) -> Value {
    let mut v = json!({
        "name": r.rule.name(),
        "query": r.rule.expr.trim_end(),
        "labels": r.rule.labels,
        "health": r.health.as_str(),
        "evaluationTime": r.eval_seconds,
        "lastEvaluation": time(r.last_eval),
    });
    // Prometheus leaves `lastError` out when there is none.
    if let Some(e) = &r.last_error {
        v["lastError"] = json!(e);
    }
    match &r.rule.kind {
        RuleKind::Recording { .. } => {
            v["type"] = json!("recording");
            // Prometheus leaves a recording rule's empty labels out.
            if r.rule.labels.is_empty()
                && let Some(o) = v.as_object_mut()
            {
                o.remove("labels");
            }
        }
        RuleKind::Alerting {
            hold,
            keep_firing_for,
            annotations,
            ..
        } => {
            let alerts: Vec<Value> = r
                .alerts
                .alerts()
                .into_iter()
                .filter(|a| a.state != AlertState::Inactive)
                .map(alert_json)
                .collect();
            v["type"] = json!("alerting");
            v["state"] = json!(rule_state(r).as_str());
            v["duration"] = json!(hold / 1000);
            v["keepFiringFor"] = json!(keep_firing_for / 1000);
            v["annotations"] = json!(annotations);
            v["alerts"] = json!(alerts);
        }
    }
    v
}

/// `GET /api/v1/rules`.
pub async fn rules(
    State(st): State<AppState>,
    Query(q): Query<RulesQuery>,
) -> Result<Response, ApiError> {
    let want = match q.kind.as_deref() {
        None | Some("") => None,
        Some("alert") => Some(true),
        Some("record") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid rule type {other:?}: must be \"alert\" or \"record\""
            )));
        }
    };
    let groups = st.rules.as_ref().map(|r| r.groups()).unwrap_or_default();
    let list: Vec<Value> = groups
        .iter()
        .map(|g| {
            let rules: Vec<Value> = g
                .rules
                .iter()
                .filter(|r| {
                    want.is_none_or(|a| a == matches!(r.rule.kind, RuleKind::Alerting { .. }))
                })
                .map(rule_json)
                .collect();
            json!({
                "name": g.name,
                "file": g.file,
                "rules": rules,
                "interval": seconds(g.interval),
                "limit": g.limit,
                "evaluationTime": g.eval_seconds,
                "lastEvaluation": time(g.last_eval),
            })
        })
        .collect();
    Ok(success(&json!({ "groups": list }).to_string(), &[]))
}

/// `GET /api/v1/alerts`: every pending and firing alert.
pub async fn alerts(State(st): State<AppState>) -> Result<Response, ApiError> {
    let groups = st.rules.as_ref().map(|r| r.groups()).unwrap_or_default();
    let list: Vec<Value> = groups
        .iter()
        .flat_map(|g| g.active_alerts().map(|(_, a)| alert_json(a)))
        .collect();
    Ok(success(&json!({ "alerts": list }).to_string(), &[]))
}

/// `POST /-/reload`: rule files loaded again; 500 with the reason when refused.
pub async fn reload(State(st): State<AppState>) -> Response {
    let Some(svc) = st.rules.clone() else {
        return (StatusCode::OK, "no rules are configured\n").into_response();
    };
    match tokio::task::spawn_blocking(move || svc.reload()).await {
        Ok(Ok(())) => (StatusCode::OK, "").into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
