//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query` and
//! `/api/v1/query_exemplars`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kubepulse_query::parse::parse;
use kubepulse_query::{Cancel, Engine, QueryError, QueryResult, StoreSource};

use super::params::{MAX_TIME, MIN_TIME, Params, duration, time};
use super::{ApiError, json, success};
use crate::AppState;

const QUERY: &str = "invalid parameter \"query\": ";
/// Most points a range query may return per series.
const MAX_POINTS: i64 = 11_000;

/// The engine for one request: the server's, with the request's timeout and lookback.
fn engine(s: &AppState, p: &Params) -> Result<Engine, ApiError> {
    let mut opts = s.query.engine.options().clone();
    opts.cancel = Cancel::default();
    if let Some(t) = p.get("timeout") {
        let ms = duration(t)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"timeout\": {e}")))?;
        let requested = Duration::from_millis(ms.max(0) as u64);
        opts.timeout = opts.timeout.min(requested);
    }
    if let Some(l) = p.get("lookback_delta") {
        let ms = duration(l).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        if ms > 0 {
            opts.lookback = ms;
        }
    }
    Ok(Engine::new(opts))
}

/// Cancels the evaluation it guards when dropped.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs an evaluation on the blocking pool once a slot is free, within the timeout.
async fn evaluate(
    s: &AppState,
    engine: Engine,
    f: impl FnOnce(&Engine, &StoreSource<'_>) -> Result<QueryResult, QueryError> + Send + 'static,
) -> Result<QueryResult, ApiError> {
    let timeout = engine.options().timeout;
    let slot = tokio::time::timeout(timeout, s.query.slots.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::query(QueryError::Timeout("query queue"), ""))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let read = s.read.clone();
    // Dropped with this future when the client goes away: the evaluation stops.
    let _cancel_on_drop = CancelOnDrop(engine.options().cancel.clone());
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        f(&engine, &StoreSource(&*read))
    })
    .await
    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
    .map_err(|e| ApiError::query(e, QUERY))
}

fn respond(r: QueryResult) -> Response {
    let mut data = String::new();
    json::query_data(&mut data, &r.value);
    success(&data, &r.warnings)
}

/// `GET|POST /api/v1/query`.
pub async fn instant(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    let t = match p.get("time") {
        Some(v) => time(v).map_err(|e| {
            ApiError::bad_data(format!(
                "invalid parameter \"time\": Invalid time value for 'time': {e}"
            ))
        })?,
        None => s.query.clock.now_ms(),
    };
    let engine = engine(&s, &p)?;
    let query = p.get("query").unwrap_or("").to_string();
    let r = evaluate(&s, engine, move |e, src| e.instant(src, &query, t)).await?;
    Ok(respond(r))
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    let required = |name: &str| {
        time(p.get(name).unwrap_or(""))
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"{name}\": {e}")))
    };
    let start = required("start")?;
    let end = required("end")?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = duration(p.get("step").unwrap_or(""))
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?;
    if step <= 0 {
        return Err(ApiError::bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > MAX_POINTS {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let engine = engine(&s, &p)?;
    let query = p.get("query").unwrap_or("").to_string();
    let r = evaluate(&s, engine, move |e, src| {
        e.range(src, &query, start, end, step)
    })
    .await?;
    Ok(respond(r))
}

/// `GET|POST /api/v1/format_query`: the query, formatted.
pub async fn format(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    let query = p.get("query").unwrap_or("");
    let e = parse(query).map_err(|e| ApiError::bad_data(format!("{QUERY}{}", e.render(query))))?;
    let mut data = String::new();
    json::string(&mut data, e.prettify().trim_end());
    Ok(success(&data, &[]))
}

/// `GET|POST /api/v1/query_exemplars`: KubePulse keeps no exemplars, so the answer is always
/// empty, after the same checks Prometheus makes.
pub async fn exemplars(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    let bound = |name: &str, default: i64| match p.get(name) {
        Some(v) => time(v).map_err(|e| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": Invalid time value for '{name}': {e}"
            ))
        }),
        None => Ok(default),
    };
    let (start, end) = (bound("start", MIN_TIME)?, bound("end", MAX_TIME)?);
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    let query = p.get("query").unwrap_or("");
    let e = parse(query).map_err(|e| ApiError::bad_data(e.render(query)))?;
    if !has_selector(&e) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(success("[]", &[]))
}

fn has_selector(e: &promql_parser::parser::Expr) -> bool {
    use promql_parser::parser::Expr;
    match e {
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => true,
        Expr::Paren(p) => has_selector(&p.expr),
        Expr::Unary(u) => has_selector(&u.expr),
        Expr::Binary(b) => has_selector(&b.lhs) || has_selector(&b.rhs),
        Expr::Subquery(s) => has_selector(&s.expr),
        Expr::Aggregate(a) => has_selector(&a.expr),
        Expr::Call(c) => c.args.args.iter().any(|a| has_selector(a)),
        _ => false,
    }
}
