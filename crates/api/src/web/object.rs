//! A pod's or a node's page: facts, its prediction with explanation and recommendation, CPU,
//! memory, network and disk charts (with request and limit lines for pods), anomalies marked on
//! the charts, and its events.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kubepulse_model::{EventType, ObjectRef, parse_duration};
use kubepulse_store::events::EventQuery;
use serde::Deserialize;

use super::chart::{Line, Reference, short, svg_marked};
use super::{ago, eta, html, instant, now, range};
use crate::AppState;

const RANGES: [&str; 5] = ["15m", "1h", "3h", "6h", "1d"];

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    range: Option<String>,
}

struct PredictionView {
    class: String,
    probability: String,
    eta: String,
    alarm: bool,
    explanation: String,
    recommendation: String,
    confidence: String,
    actions: Vec<String>,
}

struct EventItem {
    when: String,
    kind: &'static str,
    reason: String,
    message: String,
}

#[derive(Template)]
#[template(path = "object.html")]
struct Page {
    nav: &'static str,
    live: bool,
    title: String,
    facts: Vec<(String, String)>,
    range: String,
    ranges: Vec<String>,
    prediction: Option<PredictionView>,
    charts: Vec<(String, String)>,
    anomalies: Vec<(i64, String)>,
    events: Vec<EventItem>,
}

/// One chart: its title, the queries drawn, and the reference lines' queries.
struct ChartSpec {
    title: &'static str,
    lines: Vec<(&'static str, String)>,
    refs: Vec<(&'static str, String)>,
}

async fn chart(
    st: &AppState,
    id: &str,
    c: &ChartSpec,
    span: (i64, i64),
    marks: &[(i64, String)],
) -> String {
    let (start, end) = span;
    let step = ((end - start) / 240).max(15_000);
    let mut lines = Vec::new();
    for (name, q) in &c.lines {
        for s in range(st, q, start, end, step).await.unwrap_or_default() {
            lines.push(Line {
                name: name.to_string(),
                points: s.points,
            });
        }
    }
    let mut refs = Vec::new();
    for (name, q) in &c.refs {
        if let Some((_, v)) = instant(st, q, end).await.first() {
            refs.push(Reference {
                name: name.to_string(),
                value: *v,
            });
        }
    }
    svg_marked(id, &lines, &refs, marks, start, end)
}

fn prediction(st: &AppState, kind: &str, namespace: &str, name: &str) -> Option<PredictionView> {
    let (_, list) = st.predictions.as_ref()?.ranked().ok()?;
    let p = list.iter().find(|p| {
        p.subject.kind == kind && p.subject.namespace == namespace && p.subject.name == name
    })?;
    let x = &p.prediction;
    Some(PredictionView {
        class: x.class.name().to_string(),
        probability: format!("{:.0}%", x.probability * 100.0),
        eta: x.eta_seconds.map(eta).unwrap_or_default(),
        alarm: x.alarm,
        explanation: x.explanation.clone(),
        recommendation: x.recommendation.description.clone(),
        confidence: format!("{:.0}%", x.recommendation.confidence * 100.0),
        actions: x.recommendation.actions.clone(),
    })
}

/// Times the object's anomaly score reached 0.8, one per reporting burst.
async fn anomaly_marks(st: &AppState, sel: &str, start: i64, end: i64) -> Vec<(i64, String)> {
    let q = format!("max by (signal) (kubepulse_anomaly_score{{{sel}}})");
    let step = ((end - start) / 240).max(15_000);
    let mut out = Vec::new();
    for s in range(st, &q, start, end, step).await.unwrap_or_default() {
        let signal = s.labels.get("signal").unwrap_or("anomaly").to_string();
        let mut last: Option<i64> = None;
        for (t, v) in s.points {
            if v >= 0.8 && last.is_none_or(|l| t - l > 10 * step) {
                out.push((t, format!("anomaly in {signal} (score {v:.2})")));
                last = Some(t);
            }
        }
    }
    out
}

async fn events(st: &AppState, obj: ObjectRef, start: i64, end: i64) -> Vec<EventItem> {
    let read = st.read.clone();
    let list = tokio::task::spawn_blocking(move || {
        read.events(&EventQuery {
            object: Some(obj),
            start,
            end,
            limit: 200,
            ..EventQuery::default()
        })
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    list.into_iter()
        .map(|e| EventItem {
            when: ago(end, e.last_timestamp),
            kind: if e.event_type == EventType::Warning {
                "warning"
            } else {
                "normal"
            },
            reason: e.reason,
            message: e.message,
        })
        .collect()
}

/// What differs between a pod's page and a node's.
struct Object {
    obj: ObjectRef,
    title: String,
    /// Label matchers selecting the object's series.
    sel: String,
    specs: Vec<ChartSpec>,
    facts: Vec<(String, String)>,
}

/// The page of an object: its charts with anomalies marked, its prediction and its events.
async fn render(st: &AppState, o: Object, range: String, start: i64, end: i64) -> Response {
    let marks = anomaly_marks(st, &o.sel, start, end).await;
    let mut charts = Vec::new();
    for (i, s) in o.specs.iter().enumerate() {
        charts.push((
            s.title.to_string(),
            chart(st, &format!("chart-{i}"), s, (start, end), &marks).await,
        ));
    }
    let kind = o.obj.kind.to_lowercase();
    let prediction = prediction(st, &kind, &o.obj.namespace, &o.obj.name);
    html(
        Page {
            nav: "workloads",
            live: true,
            title: o.title,
            facts: o.facts,
            range,
            ranges: RANGES.iter().map(|x| x.to_string()).collect(),
            prediction,
            charts,
            anomalies: marks,
            events: events(st, o.obj, start, end).await,
        }
        .render(),
    )
}

fn span(st: &State<AppState>, p: &Params) -> (String, i64, i64) {
    let end = now(st);
    let r = p.range.clone().unwrap_or_else(|| "1h".into());
    let s = parse_duration(&r)
        .unwrap_or(3_600_000)
        .clamp(300_000, 86_400_000);
    (r, end - s, end)
}

/// `GET /pods/{namespace}/{pod}`.
pub async fn pod(
    st: State<AppState>,
    Path((ns, pod)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> Response {
    let (r, start, end) = span(&st, &p);
    let sel = format!("namespace={ns:?}, pod={pod:?}");
    let c = format!("{sel}, container!=\"\"");
    let specs = [
        ChartSpec {
            title: "CPU (cores)",
            lines: vec![(
                "used",
                format!("sum(rate(container_cpu_usage_seconds_total{{{c}}}[5m]))"),
            )],
            refs: vec![
                (
                    "request",
                    format!("sum(kube_pod_container_resource_requests{{{sel}, resource=\"cpu\"}})"),
                ),
                (
                    "limit",
                    format!("sum(kube_pod_container_resource_limits{{{sel}, resource=\"cpu\"}})"),
                ),
            ],
        },
        ChartSpec {
            title: "Memory working set (bytes)",
            lines: vec![(
                "working set",
                format!("sum(container_memory_working_set_bytes{{{c}}})"),
            )],
            refs: vec![
                (
                    "request",
                    format!(
                        "sum(kube_pod_container_resource_requests{{{sel}, resource=\"memory\"}})"
                    ),
                ),
                (
                    "limit",
                    format!(
                        "sum(kube_pod_container_resource_limits{{{sel}, resource=\"memory\"}})"
                    ),
                ),
            ],
        },
        ChartSpec {
            title: "Network (bytes/s)",
            lines: vec![
                (
                    "received",
                    format!("sum(rate(container_network_receive_bytes_total{{{sel}}}[5m]))"),
                ),
                (
                    "sent",
                    format!("sum(rate(container_network_transmit_bytes_total{{{sel}}}[5m]))"),
                ),
            ],
            refs: vec![],
        },
        ChartSpec {
            title: "Disk used (bytes)",
            lines: vec![(
                "filesystem",
                format!("sum(container_fs_usage_bytes{{{c}}})"),
            )],
            refs: vec![],
        },
    ];
    let mut facts = Vec::new();
    if let Some((l, _)) = instant(&st, &format!("kube_pod_info{{{sel}}}"), end)
        .await
        .first()
    {
        facts.push(("node".to_string(), l.get("node").unwrap_or("").to_string()));
        facts.push((
            "owner".to_string(),
            format!(
                "{} {}",
                l.get("created_by_kind").unwrap_or(""),
                l.get("created_by_name").unwrap_or("")
            ),
        ));
    }
    if let Some((l, _)) = instant(&st, &format!("kube_pod_status_phase{{{sel}}} == 1"), end)
        .await
        .first()
    {
        facts.push((
            "phase".to_string(),
            l.get("phase").unwrap_or("").to_string(),
        ));
    }
    let restarts = instant(
        &st,
        &format!("sum(kube_pod_container_status_restarts_total{{{sel}}})"),
        end,
    )
    .await;
    facts.push((
        "restarts".to_string(),
        restarts.first().map_or("0".into(), |x| short(x.1)),
    ));
    let obj = ObjectRef {
        kind: "Pod".into(),
        namespace: ns.clone(),
        name: pod.clone(),
        uid: String::new(),
    };
    let title = format!("Pod {ns}/{pod}");
    let o = Object {
        obj,
        title,
        sel,
        specs: specs.into(),
        facts,
    };
    render(&st, o, r, start, end).await
}

/// `GET /nodes/{node}`.
pub async fn node(
    st: State<AppState>,
    Path(node): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let (r, start, end) = span(&st, &p);
    let sel = format!("node={node:?}");
    let specs = [
        ChartSpec {
            title: "CPU (cores busy)",
            lines: vec![(
                "busy",
                format!("sum(rate(node_cpu_seconds_total{{{sel}, mode!=\"idle\"}}[5m]))"),
            )],
            refs: vec![(
                "allocatable",
                format!("sum(kube_node_status_allocatable{{{sel}, resource=\"cpu\"}})"),
            )],
        },
        ChartSpec {
            title: "Memory used (bytes)",
            lines: vec![(
                "used",
                format!(
                    "node_memory_MemTotal_bytes{{{sel}}} - node_memory_MemAvailable_bytes{{{sel}}}"
                ),
            )],
            refs: vec![(
                "allocatable",
                format!("sum(kube_node_status_allocatable{{{sel}, resource=\"memory\"}})"),
            )],
        },
        ChartSpec {
            title: "Network (bytes/s)",
            lines: vec![
                (
                    "received",
                    format!("sum(rate(node_network_receive_bytes_total{{{sel}}}[5m]))"),
                ),
                (
                    "sent",
                    format!("sum(rate(node_network_transmit_bytes_total{{{sel}}}[5m]))"),
                ),
            ],
            refs: vec![],
        },
        ChartSpec {
            title: "Filesystem free (bytes)",
            lines: vec![(
                "available",
                format!("sum(node_filesystem_avail_bytes{{{sel}}})"),
            )],
            refs: vec![("size", format!("sum(node_filesystem_size_bytes{{{sel}}})"))],
        },
    ];
    let mut facts = Vec::new();
    for (l, v) in instant(
        &st,
        &format!("kube_node_status_condition{{{sel}, status=\"true\"}}"),
        end,
    )
    .await
    {
        if v >= 1.0 {
            facts.push((
                "condition".to_string(),
                l.get("condition").unwrap_or("").to_string(),
            ));
        }
    }
    let pods = instant(&st, &format!("count(kube_pod_info{{{sel}}})"), end).await;
    facts.push((
        "pods".to_string(),
        pods.first().map_or("0".into(), |x| short(x.1)),
    ));
    let obj = ObjectRef {
        kind: "Node".into(),
        namespace: String::new(),
        name: node.clone(),
        uid: String::new(),
    };
    let o = Object {
        obj,
        title: format!("Node {node}"),
        sel,
        specs: specs.into(),
        facts,
    };
    render(&st, o, r, start, end).await
}
