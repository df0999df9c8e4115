//! Alertmanager's v2 API, so that `amtool --alertmanager.url` pointed at KubePulse lists alerts
//! and groups and manages silences, and Prometheus can send its alerts here: `GET/POST
//! /api/v2/alerts`, `GET /api/v2/alerts/groups`, `GET/POST /api/v2/silences`, `GET/DELETE
//! /api/v2/silence/{id}`, `GET /api/v2/status`; plus `POST/GET /api/v1/alerts/feedback`, where
//! people mark an alert `important` or `noise` for the triage model. The pipeline runs in the
//! server, behind an [`AlertmanagerService`].

pub mod json;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_alert::notify::matchers;
use kubepulse_alert::notify::silence::Silence;
use kubepulse_store::Matcher;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::prom::params::Params;

pub use json::{AlertView, GroupView};

/// A verdict on an alert, for the triage model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// `important` or `noise`.
    pub verdict: String,
    /// Why, in the giver's words.
    #[serde(default)]
    pub comment: String,
    /// Who gave it.
    #[serde(default)]
    pub author: String,
    /// The alert's labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The alert's annotations and state when the feedback was given.
    #[serde(default)]
    pub context: serde_json::Value,
    /// When (RFC 3339), set by the server.
    #[serde(default)]
    pub at: String,
}

/// What the server provides.
pub trait AlertmanagerService: Send + Sync {
    /// Every alert with its pipeline status.
    fn alerts(&self) -> Vec<AlertView>;
    /// The aggregation groups.
    fn groups(&self) -> Vec<GroupView>;
    /// Alerts received from a client (Prometheus, amtool).
    fn post_alerts(&self, alerts: Vec<PipelineAlert>) -> Result<(), String>;
    /// Every silence.
    fn silences(&self) -> Vec<Silence>;
    /// Creates or updates a silence; its id.
    fn upsert_silence(&self, s: Silence) -> Result<String, String>;
    /// Expires a silence.
    fn expire_silence(&self, id: &str) -> Result<(), String>;
    /// The configuration in use (YAML) and the start time (ms).
    fn status(&self) -> (String, i64);
    /// Now (ms), for silence states.
    fn now(&self) -> i64;
    /// Stores feedback on an alert found by fingerprint or labels; the stored record.
    fn feedback(&self, f: FeedbackRequest) -> Result<Feedback, String>;
    /// Feedback given so far, newest last.
    fn feedback_list(&self) -> Vec<Feedback>;
}

/// `POST /api/v1/alerts/feedback` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The alert's fingerprint (16 hex digits), or
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// its labels.
    #[serde(default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// `important` or `noise`.
    pub verdict: String,
    /// Why.
    #[serde(default)]
    pub comment: String,
    /// Who.
    #[serde(default)]
    pub author: String,
}

/// An error as Alertmanager's API writes it: a status and a JSON string.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let m: String = message.into();
    (
        status,
        [("content-type", "application/json")],
        serde_json::Value::String(m).to_string(),
    )
        .into_response()
}

fn ok_json(v: &impl Serialize) -> Response {
    match serde_json::to_string(v) {
        Ok(body) => (StatusCode::OK, [("content-type", "application/json")], body).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn off() -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, "alerting is switched off")
}

/// Filters shared by the alert listings.
struct Filter {
    matchers: Vec<Matcher>,
    active: bool,
    silenced: bool,
    inhibited: bool,
    unprocessed: bool,
    receiver: Option<regex::Regex>,
}

fn flag(p: &Params, k: &str) -> Result<bool, String> {
    match p.get(k) {
        None => Ok(true),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(format!("{k}: {v:?} is not a boolean")),
    }
}

fn filter(q: Option<&str>) -> Result<Filter, String> {
    let p = Params::new(q, &HeaderMap::new(), &[]);
    let mut ms = Vec::new();
    for f in p.all("filter") {
        ms.extend(matchers::parse(f)?);
    }
    let receiver = match p.get("receiver") {
        Some(r) if !r.is_empty() => Some(
            regex::Regex::new(&format!("^(?:{r})$"))
                .map_err(|e| format!("failed to parse receiver param: {e}"))?,
        ),
        _ => None,
    };
    Ok(Filter {
        matchers: ms,
        active: flag(&p, "active")?,
        silenced: flag(&p, "silenced")?,
        inhibited: flag(&p, "inhibited")?,
        unprocessed: flag(&p, "unprocessed")?,
        receiver,
    })
}

impl Filter {
    fn keep(&self, a: &AlertView) -> bool {
        let state_ok = match a.status.state.as_str() {
            "active" => self.active,
            "unprocessed" => self.unprocessed,
            _ => {
                (self.silenced || a.status.silenced_by.is_empty())
                    && (self.inhibited || a.status.inhibited_by.is_empty())
            }
        };
        state_ok
            && self
                .matchers
                .iter()
                .all(|m| m.matches(a.labels.get(&m.name).map_or("", String::as_str)))
            && self
                .receiver
                .as_ref()
                .is_none_or(|r| a.receivers.iter().any(|x| r.is_match(&x.name)))
    }
}

async fn get_alerts(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let f = match filter(q.as_deref()) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let list: Vec<AlertView> = svc.alerts().into_iter().filter(|a| f.keep(a)).collect();
    ok_json(&list)
}

async fn get_groups(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let f = match filter(q.as_deref()) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let groups: Vec<GroupView> = svc
        .groups()
        .into_iter()
        .filter(|g| {
            f.receiver
                .as_ref()
                .is_none_or(|r| r.is_match(&g.receiver.name))
        })
        .filter_map(|mut g| {
            g.alerts.retain(|a| f.keep(a));
            (!g.alerts.is_empty()).then_some(g)
        })
        .collect();
    ok_json(&groups)
}

async fn post_alerts(State(st): State<AppState>, body: Bytes) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let alerts = match json::postable_alerts(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match svc.post_alerts(alerts) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_silences(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let p = Params::new(q.as_deref(), &HeaderMap::new(), &[]);
    let mut ms = Vec::new();
    for f in p.all("filter") {
        match matchers::parse(f) {
            Ok(m) => ms.extend(m),
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    }
    let now = svc.now();
    let list: Vec<serde_json::Value> = svc
        .silences()
        .iter()
        .filter(|s| json::silence_matches(s, &ms))
        .map(|s| json::silence(s, now))
        .collect();
    ok_json(&list)
}

async fn post_silence(State(st): State<AppState>, body: Bytes) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let s = match json::postable_silence(&body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match svc.upsert_silence(s) {
        Ok(id) => ok_json(&serde_json::json!({ "silenceID": id })),
        Err(e) if e.contains("not found") => error(StatusCode::NOT_FOUND, e),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_silence(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let now = svc.now();
    match svc.silences().iter().find(|s| s.id == id) {
        Some(s) => ok_json(&json::silence(s, now)),
        None => error(StatusCode::NOT_FOUND, format!("silence {id} not found")),
    }
}

async fn delete_silence(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    match svc.expire_silence(&id) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) if e.contains("not found") => error(StatusCode::NOT_FOUND, e),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn status(State(st): State<AppState>) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let (yaml, started) = svc.status();
    ok_json(&json::status(&yaml, started, &st.query.info.revision))
}

async fn post_feedback(State(st): State<AppState>, body: Bytes) -> Response {
    let Some(svc) = st.alertmanager.clone() else {
        return off();
    };
    let req: FeedbackRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad feedback body: {e}")),
    };
    if req.verdict != "important" && req.verdict != "noise" {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "verdict: {:?} must be \"important\" or \"noise\"",
                req.verdict
            ),
        );
    }
    if req.fingerprint.is_none() && req.labels.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "give the alert's fingerprint or labels",
        );
    }
    match svc.feedback(req) {
        Ok(f) => ok_json(&f),
        Err(e) if e.contains("no alert") => error(StatusCode::NOT_FOUND, e),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_feedback(State(st): State<AppState>) -> Response {
    match st.alertmanager.clone() {
        Some(s) => ok_json(&s.feedback_list()),
        None => off(),
    }
}

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/alerts", get(get_alerts).post(post_alerts))
        .route("/api/v2/alerts/groups", get(get_groups))
        .route("/api/v2/silences", get(get_silences).post(post_silence))
        .route(
            "/api/v2/silence/{id}",
            get(get_silence).delete(delete_silence),
        )
        .route("/api/v2/status", get(status))
        .route(
            "/api/v1/alerts/feedback",
            post(post_feedback).get(get_feedback),
        )
}
