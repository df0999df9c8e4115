//! Logs: a LogQL search box with the matching lines (newest first), and the templates of a
//! namespace or workload with their line counts and levels.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kubepulse_model::parse_duration;
use kubepulse_query::logql::{self, Answer, Params as Eval};
use serde::Deserialize;

use super::{ago, html, now};
use crate::AppState;
use crate::templates::TemplateFilter;

const RANGES: [&str; 5] = ["15m", "1h", "6h", "1d", "7d"];
/// Most lines shown.
const LIMIT: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    workload: String,
}

type Row = (String, String, String);
type TemplateRow = (String, u64, String, String);

#[derive(Template)]
#[template(path = "logs.html")]
struct Page {
    nav: &'static str,
    live: bool,
    q: String,
    range: String,
    ranges: Vec<String>,
    error: Option<String>,
    lines: Vec<Row>,
    limit: usize,
    namespace: String,
    workload: String,
    scope: String,
    templates: Vec<TemplateRow>,
}

fn clock_ns(ns: i64) -> String {
    kubepulse_model::format_rfc3339(ns / 1_000_000)
}

async fn search(st: &AppState, q: &str, start: i64, end: i64) -> Result<Vec<Row>, String> {
    let parsed = logql::parse(q).map_err(|e| format!("parse error: {e}"))?;
    let read = st.read.clone();
    let e = Eval {
        start_ns: start * 1_000_000,
        end_ns: end * 1_000_000,
        step_ms: 0,
        limit: LIMIT,
        backward: true,
    };
    let answer = tokio::task::spawn_blocking(move || logql::evaluate(read.as_ref(), &parsed, &e))
        .await
        .map_err(|e| e.to_string())??;
    let Answer::Streams(streams) = answer else {
        return Err(
            "this page shows log lines: use a log query (metric queries belong on Explore)".into(),
        );
    };
    let mut rows: Vec<(i64, String, String)> = Vec::new();
    for (labels, entries) in streams {
        let stream = ["namespace", "pod", "container"]
            .iter()
            .filter_map(|k| labels.get(*k).cloned())
            .collect::<Vec<_>>()
            .join("/");
        for (ts, line) in entries {
            rows.push((ts, stream.clone(), line));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.truncate(LIMIT);
    Ok(rows
        .into_iter()
        .map(|(t, s, l)| (clock_ns(t), s, l))
        .collect())
}

/// `GET /logs`.
pub async fn page(st: State<AppState>, Query(p): Query<Params>) -> Response {
    let t = now(&st);
    let range = p.range.clone().unwrap_or_else(|| "1h".into());
    let span = parse_duration(&range)
        .unwrap_or(3_600_000)
        .clamp(60_000, 7 * 86_400_000);
    let (mut lines, mut error) = (Vec::new(), None);
    if !p.q.trim().is_empty() {
        match search(&st, &p.q, t - span, t).await {
            Ok(l) => lines = l,
            Err(e) => error = Some(e),
        }
    }
    let mut templates = Vec::new();
    if let Some(svc) = st.log_templates.clone() {
        let f = TemplateFilter {
            namespace: (!p.namespace.is_empty()).then(|| p.namespace.clone()),
            workload: (!p.workload.is_empty()).then(|| p.workload.clone()),
            pod: None,
            limit: Some(50),
        };
        let list = tokio::task::spawn_blocking(move || svc.templates(&f))
            .await
            .unwrap_or_default();
        templates = list
            .into_iter()
            .take(50)
            .map(|v| {
                let levels = v
                    .levels
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                (v.template, v.lines, levels, ago(t, v.last_seen))
            })
            .collect();
    }
    let scope = [p.namespace.as_str(), p.workload.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    html(
        Page {
            nav: "logs",
            live: false,
            q: p.q,
            range,
            ranges: RANGES.iter().map(|r| r.to_string()).collect(),
            error,
            lines,
            limit: LIMIT,
            namespace: p.namespace,
            workload: p.workload,
            scope,
            templates,
        }
        .render(),
    )
}
