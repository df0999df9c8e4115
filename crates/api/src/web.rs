//! The dashboard: server-rendered pages (askama templates, checked at compile time and escaped
//! everywhere) for the overview, workloads, pods and nodes, alerts, PromQL exploration, logs,
//! events and the simulator, SVG charts drawn on the
//! server, a little JavaScript for what needs interaction (theme, live refresh over server-sent
//! events, silences and feedback sent as JSON POSTs), and no network access beyond KubePulse.
//! State-changing requests whose `Origin` is another site are refused.

mod alerts;
pub mod chart;
mod events;
mod explore;
mod logs;
mod object;
mod overview;
mod simulator;
mod workloads;

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use kubepulse_model::Labels;
use kubepulse_query::{QueryValue, Series, StoreSource};

use crate::AppState;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/alerts", get(alerts::page))
        .route("/explore", get(explore::page))
        .route("/workloads", get(workloads::page))
        .route("/pods/{namespace}/{pod}", get(object::pod))
        .route("/nodes/{node}", get(object::node))
        .route("/simulator", get(simulator::page))
        .route("/logs", get(logs::page))
        .route("/events", get(events::page))
        .route("/ui/live", get(live))
        .route("/static/app.css", get(|| async { asset(CSS, "text/css") }))
        .route(
            "/static/app.js",
            get(|| async { asset(JS, "text/javascript") }),
        )
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// A rendered page, or a plain error page.
pub fn html(r: askama::Result<String>) -> Response {
    match r {
        Ok(body) => (
            [
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            Html(body),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("page failed: {e}"),
        )
            .into_response(),
    }
}

/// Refuses a state-changing request sent by a page of another origin: its `Origin` header must
/// name the host it was sent to. Requests without `Origin` (command-line clients) pass.
pub async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin_matches(req.headers(), origin.to_str().unwrap_or(""))
    {
        return (StatusCode::FORBIDDEN, "cross-origin request refused\n").into_response();
    }
    next.run(req).await
}

fn origin_matches(h: &HeaderMap, origin: &str) -> bool {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let after = origin.split("://").nth(1).unwrap_or("");
    !host.is_empty() && after == host
}

/// Ticks the pages' live refresh: a `refresh` event every 15 s while the page is open.
async fn live() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let every = Duration::from_secs(15);
    let mut iv = tokio::time::interval(every);
    iv.reset();
    let stream = futures_util::stream::unfold(iv, |mut iv| async move {
        iv.tick().await;
        Some((Ok(Event::default().event("refresh").data("tick")), iv))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Evaluates an instant query on a blocking thread; an error reads as no result.
pub async fn instant(st: &AppState, q: &str, t: i64) -> Vec<(Labels, f64)> {
    let (read, engine, q) = (st.read.clone(), st.query.engine.clone(), q.to_string());
    let r = tokio::task::spawn_blocking(move || engine.instant(&StoreSource(read.as_ref()), &q, t))
        .await;
    match r {
        Ok(Ok(res)) => match res.value {
            QueryValue::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            QueryValue::Scalar(_, v) => vec![(Labels::empty(), v)],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Evaluates a range query on a blocking thread.
pub async fn range(
    st: &AppState,
    q: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Series>, String> {
    let (read, engine, q) = (st.read.clone(), st.query.engine.clone(), q.to_string());
    let r = tokio::task::spawn_blocking(move || {
        engine.range(&StoreSource(read.as_ref()), &q, start, end, step)
    })
    .await
    .map_err(|e| e.to_string())?;
    match r {
        Ok(res) => match res.value {
            QueryValue::Matrix(m) => Ok(m),
            _ => Ok(Vec::new()),
        },
        Err(e) => Err(e.to_string()),
    }
}

/// "3m ago", "2h ago".
pub fn ago(now: i64, t: i64) -> String {
    let s = ((now - t) / 1000).max(0);
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// A duration in seconds as `6m 40s`.
pub fn eta(secs: f64) -> String {
    let s = secs.max(0.0) as i64;
    if s >= 3600 {
        format!("{}h {}m", s / 3600, (s / 60) % 60)
    } else if s >= 60 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The clock's now, for pages.
pub fn now(st: &State<AppState>) -> i64 {
    st.query.clock.now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_name_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:9800".parse().unwrap());
        assert!(origin_matches(&h, "http://127.0.0.1:9800"));
        assert!(!origin_matches(&h, "http://evil.example"));
        assert!(!origin_matches(&h, "null"));
        assert_eq!(ago(100_000, 40_000), "60s ago".replace("60s", "1m"));
        assert_eq!(eta(400.0), "6m 40s");
    }
}
