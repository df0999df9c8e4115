//! Explore: a PromQL box with a graph over a chosen range and a table of the values now, like
//! Prometheus' own page; the URL holds the query and range so that every view can be linked.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kubepulse_model::parse_duration;
use serde::Deserialize;

use super::chart::{Line, short, svg};
use super::{html, instant, now, range};
use crate::AppState;

/// Most series drawn.
const MAX_LINES: usize = 50;
const RANGES: [&str; 6] = ["15m", "1h", "3h", "6h", "12h", "1d"];

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    range: Option<String>,
}

#[derive(Template)]
#[template(path = "explore.html")]
struct Page {
    nav: &'static str,
    live: bool,
    q: String,
    range: String,
    ranges: Vec<String>,
    error: Option<String>,
    chart: String,
    rows: Vec<(String, String)>,
    truncated: bool,
    shown: usize,
    total: usize,
}

/// `GET /explore?q=…&range=1h`.
pub async fn page(st: State<AppState>, Query(p): Query<Params>) -> Response {
    let t = now(&st);
    let range_s = p.range.unwrap_or_else(|| "1h".into());
    let mut page = Page {
        nav: "explore",
        live: false,
        q: p.q.clone(),
        range: range_s.clone(),
        ranges: RANGES.iter().map(|r| r.to_string()).collect(),
        error: None,
        chart: String::new(),
        rows: Vec::new(),
        truncated: false,
        shown: 0,
        total: 0,
    };
    if !p.q.trim().is_empty() {
        match parse_duration(&range_s) {
            Ok(span) if span > 0 && span <= 7 * 86_400_000 => {
                let start = t - span;
                let step = (span / 240).max(1000);
                match range(&st, &p.q, start, t, step).await {
                    Ok(series) => {
                        page.total = series.len();
                        page.truncated = series.len() > MAX_LINES;
                        let lines: Vec<Line> = series
                            .into_iter()
                            .take(MAX_LINES)
                            .map(|s| Line {
                                name: s.labels.to_string(),
                                points: s.points,
                            })
                            .collect();
                        page.shown = lines.len();
                        page.chart = svg("graph", &lines, &[], start, t);
                        page.rows = instant(&st, &p.q, t)
                            .await
                            .into_iter()
                            .map(|(l, v)| (l.to_string(), short(v)))
                            .collect();
                    }
                    Err(e) => page.error = Some(e),
                }
            }
            _ => page.error = Some(format!("range: {range_s:?} is not a duration up to 1w")),
        }
    }
    html(page.render())
}
