//! Events: a timeline of Kubernetes events (and KubePulse's own: anomalies, log template
//! changes), newest first, filtered by namespace, reason, type and time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kubepulse_model::{EventType, parse_duration};
use kubepulse_store::events::EventQuery;
use serde::Deserialize;

use super::{ago, html, now};
use crate::AppState;

const RANGES: [&str; 5] = ["15m", "1h", "6h", "1d", "7d"];

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    reason: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    range: Option<String>,
}

struct Row {
    when: String,
    kind: &'static str,
    reason: String,
    object: String,
    message: String,
    count: u32,
}

#[derive(Template)]
#[template(path = "events.html")]
struct Page {
    nav: &'static str,
    live: bool,
    namespace: String,
    reason: String,
    warnings: bool,
    range: String,
    ranges: Vec<String>,
    events: Vec<Row>,
}

/// `GET /events`.
pub async fn page(st: State<AppState>, Query(p): Query<Params>) -> Response {
    let t = now(&st);
    let range = p.range.unwrap_or_else(|| "1h".into());
    let span = parse_duration(&range)
        .unwrap_or(3_600_000)
        .clamp(60_000, 7 * 86_400_000);
    let q = EventQuery {
        namespace: (!p.namespace.is_empty()).then(|| p.namespace.clone()),
        reason: (!p.reason.is_empty()).then(|| p.reason.clone()),
        warnings_only: p.kind == "warning",
        start: t - span,
        end: t,
        limit: 500,
        ..EventQuery::default()
    };
    let read = st.read.clone();
    let list = tokio::task::spawn_blocking(move || read.events(&q))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let events = list
        .into_iter()
        .map(|e| Row {
            when: ago(t, e.last_timestamp),
            kind: if e.event_type == EventType::Warning {
                "warning"
            } else {
                "normal"
            },
            object: format!(
                "{} {}/{}",
                e.involved_object.kind, e.involved_object.namespace, e.involved_object.name
            ),
            reason: e.reason,
            message: e.message,
            count: e.count,
        })
        .collect();
    html(
        Page {
            nav: "events",
            live: true,
            namespace: p.namespace,
            reason: p.reason,
            warnings: p.kind == "warning",
            range,
            ranges: RANGES.iter().map(|r| r.to_string()).collect(),
            events,
        }
        .render(),
    )
}
