//! The overview: nodes ready, pods by phase, the top risks from the failure model, firing
//! alerts, cluster CPU and memory over the last hour, recent warning events.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kubepulse_alert::AlertState;
use kubepulse_intel::predict::UNLIKELY;
use kubepulse_store::events::EventQuery;

use super::chart::{Line, svg};
use super::{ago, eta, html, instant, now, range};
use crate::AppState;

/// A row of the risk table.
pub struct Risk {
    object: String,
    /// The object's page.
    href: String,
    class: String,
    probability: String,
    eta: String,
    explanation: String,
    alarm: bool,
}

/// A row of the alert table.
pub struct AlertRow {
    pub name: String,
    pub severity: String,
    pub object: String,
    pub summary: String,
    pub since: String,
}

/// A row of the event table.
pub struct EventRow {
    pub when: String,
    pub object: String,
    pub reason: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Page {
    nav: &'static str,
    live: bool,
    nodes: usize,
    ready: usize,
    pods: usize,
    phases: Vec<(String, usize)>,
    alarms: usize,
    risks: Vec<Risk>,
    /// Objects scored by the model (0 while it trains or when prediction is off).
    scored: usize,
    /// The probability from which an object is listed as a risk, in percent.
    unlikely_percent: u32,
    firing: Vec<AlertRow>,
    pending: usize,
    cpu_chart: String,
    mem_chart: String,
    events: Vec<EventRow>,
}

/// The object an alert is about, from its labels.
pub fn object_of(l: &kubepulse_model::Labels) -> String {
    match (l.get("namespace"), l.get("pod"), l.get("node")) {
        (Some(n), Some(p), _) => format!("{n}/{p}"),
        (_, _, Some(node)) => format!("node {node}"),
        (Some(n), None, _) => n.to_string(),
        _ => l.get("instance").unwrap_or("").to_string(),
    }
}

/// Firing alerts of the rules (newest first) and the number pending.
pub fn alert_rows(st: &AppState, now: i64) -> (Vec<AlertRow>, usize) {
    let Some(rules) = &st.rules else {
        return (Vec::new(), 0);
    };
    let groups = rules.groups();
    let mut firing = Vec::new();
    let mut pending = 0;
    for g in groups.iter() {
        for (_, a) in g.active_alerts() {
            match a.state {
                AlertState::Firing => firing.push((a.fired_at, a.clone())),
                AlertState::Pending => pending += 1,
                AlertState::Inactive => {}
            }
        }
    }
    firing.sort_by_key(|a| std::cmp::Reverse(a.0));
    let rows = firing
        .into_iter()
        .map(|(t, a)| AlertRow {
            name: a.labels.get("alertname").unwrap_or("").to_string(),
            severity: a.labels.get("severity").unwrap_or("none").to_string(),
            object: object_of(&a.labels),
            summary: a
                .annotations
                .get("summary")
                .or_else(|| a.annotations.get("description"))
                .cloned()
                .unwrap_or_default(),
            since: ago(now, t),
        })
        .collect();
    (rows, pending)
}

fn count(v: &[(kubepulse_model::Labels, f64)]) -> usize {
    v.first().map_or(0, |x| x.1.max(0.0) as usize)
}

/// `GET /`.
pub async fn page(st: State<AppState>) -> Response {
    let t = now(&st);
    let nodes = count(&instant(&st, "count(kube_node_info)", t).await);
    let ready = count(
        &instant(
            &st,
            r#"sum(kube_node_status_condition{condition="Ready",status="true"})"#,
            t,
        )
        .await,
    );
    let mut phases: Vec<(String, usize)> =
        instant(&st, "sum by (phase) (kube_pod_status_phase)", t)
            .await
            .into_iter()
            .map(|(l, v)| {
                (
                    l.get("phase").unwrap_or("?").to_string(),
                    v.max(0.0) as usize,
                )
            })
            .filter(|p| p.1 > 0)
            .collect();
    phases.sort_by_key(|p| std::cmp::Reverse(p.1));
    let pods = phases.iter().map(|p| p.1).sum();
    let (risks, alarms, scored) = match st.predictions.as_ref().map(|p| p.ranked()) {
        Some(Ok((_, list))) => (
            list.iter()
                .filter(|p| p.prediction.alarm || p.prediction.probability >= UNLIKELY)
                .take(10)
                .map(|p| Risk {
                    object: if p.subject.namespace.is_empty() {
                        format!("{} {}", p.subject.kind, p.subject.name)
                    } else {
                        format!("{}/{}", p.subject.namespace, p.subject.name)
                    },
                    href: if p.subject.namespace.is_empty() {
                        format!("/nodes/{}", p.subject.name)
                    } else {
                        format!("/pods/{}/{}", p.subject.namespace, p.subject.name)
                    },
                    class: p.prediction.class.name().to_string(),
                    probability: format!("{:.0}%", p.prediction.probability * 100.0),
                    eta: p
                        .prediction
                        .eta_seconds
                        .map(eta)
                        .unwrap_or_else(|| "—".into()),
                    explanation: p.prediction.explanation.clone(),
                    alarm: p.prediction.alarm,
                })
                .collect(),
            list.iter().filter(|p| p.prediction.alarm).count(),
            list.len(),
        ),
        _ => (Vec::new(), 0, 0),
    };
    let (firing, pending) = alert_rows(&st, t);
    let start = t - 3_600_000;
    // The built-in rules record both sums every interval; the raw expression is the fallback
    // when rules are off.
    let chart = |recorded: &'static str, q: &'static str, name: &'static str, id: &'static str| {
        let st = st.clone();
        async move {
            let mut series = range(&st, recorded, start, t, 60_000)
                .await
                .unwrap_or_default();
            if series.is_empty() {
                series = range(&st, q, start, t, 60_000).await.unwrap_or_default();
            }
            let lines: Vec<Line> = series
                .into_iter()
                .map(|s| Line {
                    name: name.to_string(),
                    points: s.points,
                })
                .collect();
            svg(id, &lines, &[], start, t)
        }
    };
    let cpu_chart = chart(
        "cluster:container_cpu_usage_seconds:rate5m",
        r#"sum(rate(container_cpu_usage_seconds_total{container!=""}[5m]))"#,
        "CPU used",
        "cpu",
    )
    .await;
    let mem_chart = chart(
        "cluster:container_memory_working_set_bytes:sum",
        r#"sum(container_memory_working_set_bytes{container!=""})"#,
        "working set",
        "memory",
    )
    .await;
    let read = st.read.clone();
    let evs = tokio::task::spawn_blocking(move || {
        read.events(&EventQuery {
            warnings_only: true,
            start: t - 3_600_000,
            end: t,
            limit: 15,
            ..EventQuery::default()
        })
    })
    .await;
    let events = match evs {
        Ok(Ok(list)) => list
            .into_iter()
            .map(|e| EventRow {
                when: ago(t, e.last_timestamp),
                object: format!(
                    "{} {}/{}",
                    e.involved_object.kind, e.involved_object.namespace, e.involved_object.name
                ),
                reason: e.reason,
                message: e.message,
            })
            .collect(),
        _ => Vec::new(),
    };
    html(
        Page {
            nav: "overview",
            live: true,
            nodes,
            ready,
            pods,
            phases,
            alarms,
            risks,
            scored,
            unlikely_percent: (UNLIKELY * 100.0).round() as u32,
            firing,
            pending,
            cpu_chart,
            mem_chart,
            events,
        }
        .render(),
    )
}
