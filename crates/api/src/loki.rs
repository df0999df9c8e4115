//! Loki's HTTP API over the log store, answering in Loki's JSON shapes so that Grafana's Loki
//! data source works against KubePulse: `query_range`, `query`, `labels`,
//! `label/<name>/values`, `series` (GET, and POST with a form body), `index/stats` and
//! `status/buildinfo`.
//! Times are nanosecond integers, Unix seconds or RFC 3339; errors answer 400 with a message.

mod encode;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kubepulse_model::parse_rfc3339;
use kubepulse_query::logql::{self, Params as Eval, ast::Query};
use kubepulse_store::Matcher;

use crate::AppState;
use crate::prom::params::{Params, duration};

/// Default range of a query without `start`: the hour before `end`.
const DEFAULT_RANGE_NS: i64 = 3_600_000_000_000;
/// Default range of the label endpoints: six hours, as Loki's.
const DEFAULT_LABEL_RANGE_NS: i64 = 6 * DEFAULT_RANGE_NS;
/// Most lines one query returns.
const MAX_LIMIT: usize = 50_000;

/// The Loki routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/loki/api/v1/query_range",
            get(query_range).post(query_range),
        )
        .route("/loki/api/v1/query", get(query).post(query))
        .route("/loki/api/v1/labels", get(labels).post(labels))
        .route("/loki/api/v1/label", get(labels))
        .route("/loki/api/v1/label/{name}/values", get(label_values))
        .route("/loki/api/v1/series", get(series).post(series))
        .route("/loki/api/v1/index/stats", get(index_stats))
        .route("/loki/api/v1/status/buildinfo", get(buildinfo))
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into() + "\n",
    )
        .into_response()
}

fn ok_json(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A Loki time in ns: an integer of more than 12 digits is nanoseconds, another number Unix
/// seconds, else RFC 3339.
fn time_ns(key: &str, s: &str) -> Result<i64, String> {
    let digits = s.trim_start_matches('-');
    if digits.len() > 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map_err(|_| format!("{key}: {s:?} is not a valid time"));
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && f.abs() < 9.2e9 {
            return Ok((f * 1e9).round() as i64);
        }
        return Err(format!("{key}: {s:?} is not a valid time"));
    }
    parse_rfc3339(s)
        .map(|ms| ms.saturating_mul(1_000_000))
        .ok_or_else(|| format!("{key}: {s:?} is not a valid time"))
}

fn now_ns(s: &AppState) -> i64 {
    s.query.clock.now_ms().saturating_mul(1_000_000)
}

/// `start` and `end` in ns, with defaults.
fn range(p: &Params, now: i64, default: i64) -> Result<(i64, i64), String> {
    let end = p
        .get("end")
        .map(|v| time_ns("end", v))
        .transpose()?
        .unwrap_or(now);
    let start = p
        .get("start")
        .map(|v| time_ns("start", v))
        .transpose()?
        .unwrap_or(end - default);
    if end < start {
        return Err("end timestamp must not be before start time".into());
    }
    Ok((start, end))
}

fn limit(p: &Params) -> Result<usize, String> {
    let n = match p.get("limit") {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("limit: {v:?} is not a whole number"))?,
    };
    if n > MAX_LIMIT {
        return Err(format!("limit: {n} is above the maximum of {MAX_LIMIT}"));
    }
    Ok(n)
}

fn direction(p: &Params) -> Result<bool, String> {
    match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("backward") => Ok(true),
        Some("forward") => Ok(false),
        Some(other) => Err(format!(
            "direction: {other:?} is neither \"forward\" nor \"backward\""
        )),
    }
}

fn parse_query(p: &Params) -> Result<Query, String> {
    let q = p.get("query").ok_or("query: the parameter is missing")?;
    logql::parse(q).map_err(|e| format!("parse error: {e}"))
}

async fn run(s: AppState, q: Query, e: Eval) -> Response {
    let read = s.read.clone();
    let answer = tokio::task::spawn_blocking(move || logql::evaluate(read.as_ref(), &q, &e)).await;
    match answer {
        Ok(Ok(a)) => ok_json(encode::answer(&a)),
        Ok(Err(m)) => bad(m),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `GET|POST /loki/api/v1/query_range`.
async fn query_range(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &body);
    let built = (|| {
        let q = parse_query(&p)?;
        let (start_ns, end_ns) = range(&p, now_ns(&s), DEFAULT_RANGE_NS)?;
        let step_ms = match p.get("step") {
            Some(v) => duration(v).map_err(|e| format!("step: {e}"))?,
            // Loki's default: the range over 250 points, at least a second.
            None => ((end_ns - start_ns) / 1_000_000 / 250).max(1000),
        };
        if step_ms <= 0 {
            return Err(
                "step: zero or negative query resolution step widths are not accepted".into(),
            );
        }
        Ok::<_, String>((
            q,
            Eval {
                start_ns,
                end_ns,
                step_ms,
                limit: limit(&p)?,
                backward: direction(&p)?,
            },
        ))
    })();
    match built {
        Ok((q, e)) => run(s, q, e).await,
        Err(m) => bad(m),
    }
}

/// `GET|POST /loki/api/v1/query`: an instant query (log queries look back an hour).
async fn query(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &body);
    let built = (|| {
        let q = parse_query(&p)?;
        let t = p
            .get("time")
            .map(|v| time_ns("time", v))
            .transpose()?
            .unwrap_or_else(|| now_ns(&s));
        Ok::<_, String>((
            q,
            Eval {
                start_ns: t - DEFAULT_RANGE_NS,
                end_ns: t,
                step_ms: 0,
                limit: limit(&p)?,
                backward: direction(&p)?,
            },
        ))
    })();
    match built {
        Ok((q, e)) => run(s, q, e).await,
        Err(m) => bad(m),
    }
}

/// Stream selectors of `query` or `match[]` parameters.
fn selectors(p: &Params, key: &str) -> Result<Vec<Vec<Matcher>>, String> {
    p.all(key)
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(|v| match logql::parse(v) {
            Ok(Query::Log(l)) if l.stages.is_empty() => Ok(l.matchers),
            Ok(_) => Err(format!("{key}: {v:?} is not a stream selector")),
            Err(e) => Err(format!("{key}: parse error: {e}")),
        })
        .collect()
}

/// The labels of the streams the selectors (or, with none, all streams) match in the range.
async fn streams(
    s: &AppState,
    p: &Params,
    key: &str,
) -> Result<Vec<kubepulse_model::Labels>, String> {
    let (start, end) = range(p, now_ns(s), DEFAULT_LABEL_RANGE_NS)?;
    let mut sets = selectors(p, key)?;
    if sets.is_empty() {
        sets.push(Vec::new());
    }
    let read = s.read.clone();
    tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for m in &sets {
            all.extend(read.log_streams(m, start, end).map_err(|e| e.to_string())?);
        }
        all.sort();
        all.dedup();
        Ok(all)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `GET|POST /loki/api/v1/labels`.
async fn labels(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &body);
    match streams(&s, &p, "query").await {
        Ok(all) => {
            let mut names: Vec<&str> = all
                .iter()
                .flat_map(|l| l.iter().map(|x| x.name.as_str()))
                .collect();
            names.sort_unstable();
            names.dedup();
            ok_json(encode::strings(&names))
        }
        Err(m) => bad(m),
    }
}

/// `GET /loki/api/v1/label/<name>/values`.
async fn label_values(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &[]);
    match streams(&s, &p, "query").await {
        Ok(all) => {
            let mut values: Vec<&str> = all.iter().filter_map(|l| l.get(&name)).collect();
            values.sort_unstable();
            values.dedup();
            ok_json(encode::strings(&values))
        }
        Err(m) => bad(m),
    }
}

/// `GET|POST /loki/api/v1/series`.
async fn series(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &body);
    if p.all("match[]").is_empty() && p.all("match").is_empty() {
        return bad("match[]: at least one stream selector is required");
    }
    let key = if p.all("match[]").is_empty() {
        "match"
    } else {
        "match[]"
    };
    match streams(&s, &p, key).await {
        Ok(all) => ok_json(encode::series(&all)),
        Err(m) => bad(m),
    }
}

/// `GET /loki/api/v1/index/stats`: how much a query's selector covers in the range: streams,
/// stream-days ("chunks"), lines and bytes (counted exactly, up to the query read limit).
async fn index_stats(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), &headers, &[]);
    let built = (|| {
        let q = p.get("query").ok_or("query: the parameter is missing")?;
        let matchers = match logql::parse(q) {
            Ok(Query::Log(l)) => l.matchers,
            Ok(Query::Metric(_)) => return Err(format!("query: {q:?} is not a log query")),
            Err(e) => return Err(format!("parse error: {e}")),
        };
        let (start, end) = range(&p, now_ns(&s), DEFAULT_RANGE_NS)?;
        Ok::<_, String>((matchers, start, end))
    })();
    let (matchers, start, end) = match built {
        Ok(b) => b,
        Err(m) => return bad(m),
    };
    let read = s.read.clone();
    let counted = tokio::task::spawn_blocking(move || {
        let streams = read
            .select_logs(&kubepulse_store::LogQuery {
                matchers: &matchers,
                start_ns: start,
                end_ns: end,
                limit: logql::eval::MAX_SCAN,
                backward: false,
            })
            .map_err(|e| e.to_string())?;
        let (mut chunks, mut entries, mut bytes) = (0usize, 0usize, 0usize);
        for st in &streams {
            let mut days: Vec<i64> = st
                .entries
                .iter()
                .map(|e| e.t_ns.div_euclid(86_400_000_000_000))
                .collect();
            days.dedup();
            chunks += days.len();
            entries += st.entries.len();
            bytes += st.entries.iter().map(|e| e.body.len()).sum::<usize>();
        }
        Ok::<_, String>(format!(
            "{{\"streams\":{},\"chunks\":{chunks},\"bytes\":{bytes},\"entries\":{entries}}}",
            streams.len()
        ))
    })
    .await;
    match counted {
        Ok(Ok(body)) => ok_json(body),
        Ok(Err(m)) => bad(m),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `GET /loki/api/v1/status/buildinfo`.
async fn buildinfo() -> Response {
    ok_json(format!(
        "{{\"version\":\"{}\",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}}",
        env!("CARGO_PKG_VERSION")
    ))
}
