//! Alerts: firing alerts grouped as notifications group them, pending alerts, silences; a form
//! to create a silence (prefilled from an alert) and feedback buttons, all sent by the page's
//! script as JSON to the Alertmanager API and the feedback endpoint.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kubepulse_alert::AlertState;
use kubepulse_alert::notify::matchers::render;
use kubepulse_model::{format_rfc3339, parse_rfc3339};

use super::overview::{AlertRow, object_of};
use super::{ago, html, now};
use crate::AppState;

struct AlertItem {
    name: String,
    state: String,
    labels: String,
    summary: String,
    since: String,
    fingerprint: String,
    /// The alert's labels as matchers, for a silence form.
    matchers: String,
}

struct GroupItem {
    title: String,
    receiver: String,
    alerts: Vec<AlertItem>,
}

struct SilenceItem {
    id: String,
    matchers: String,
    state: String,
    ends: String,
    author: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct Page {
    nav: &'static str,
    live: bool,
    groups: Vec<GroupItem>,
    pending: Vec<AlertRow>,
    silences: Vec<SilenceItem>,
}

fn pairs(m: &std::collections::BTreeMap<String, String>, skip: &str) -> String {
    m.iter()
        .filter(|(k, _)| k.as_str() != skip)
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pending_rows(st: &AppState, t: i64) -> Vec<AlertRow> {
    let Some(rules) = &st.rules else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for g in rules.groups().iter() {
        for (_, a) in g.active_alerts() {
            if a.state == AlertState::Pending {
                out.push(AlertRow {
                    name: a.labels.get("alertname").unwrap_or("").to_string(),
                    severity: a.labels.get("severity").unwrap_or("none").to_string(),
                    object: object_of(&a.labels),
                    summary: a.annotations.get("summary").cloned().unwrap_or_default(),
                    since: ago(t, a.active_at),
                });
            }
        }
    }
    out
}

/// `GET /alerts`.
pub async fn page(st: State<AppState>) -> Response {
    let t = now(&st);
    let (mut groups, mut silences) = (Vec::new(), Vec::new());
    if let Some(svc) = &st.alertmanager {
        for g in svc.groups() {
            let title = if g.labels.is_empty() {
                "all alerts".to_string()
            } else {
                pairs(&g.labels, "")
            };
            let alerts = g
                .alerts
                .iter()
                .map(|a| AlertItem {
                    name: a.labels.get("alertname").cloned().unwrap_or_default(),
                    state: if a.status.state == "suppressed" {
                        "silenced".into()
                    } else {
                        "firing".into()
                    },
                    labels: pairs(&a.labels, "alertname"),
                    summary: a
                        .annotations
                        .get("summary")
                        .or_else(|| a.annotations.get("description"))
                        .cloned()
                        .unwrap_or_default(),
                    since: parse_rfc3339(&a.starts_at).map_or_else(String::new, |s| ago(t, s)),
                    fingerprint: a.fingerprint.clone(),
                    matchers: pairs(&a.labels, ""),
                })
                .collect();
            groups.push(GroupItem {
                title,
                receiver: g.receiver.name.clone(),
                alerts,
            });
        }
        let mut list = svc.silences();
        list.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
        for s in list {
            let state = format!("{:?}", s.state(t)).to_lowercase();
            let matchers = s
                .matchers
                .iter()
                .filter_map(|m| m.matcher().ok())
                .map(|m| render(&m))
                .collect::<Vec<_>>()
                .join(", ");
            silences.push(SilenceItem {
                id: s.id.clone(),
                matchers,
                state,
                ends: format_rfc3339(s.ends_at),
                author: s.created_by.clone(),
                comment: s.comment.clone(),
            });
        }
    }
    html(
        Page {
            nav: "alerts",
            live: true,
            groups,
            pending: pending_rows(&st, t),
            silences,
        }
        .render(),
    )
}
