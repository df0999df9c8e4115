//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values` and `/api/v1/metadata`.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kubepulse_model::Labels;
use kubepulse_query::parse::{is_label_name, selector};
use kubepulse_store::{Matcher, Read};

use super::params::{MAX_TIME, MIN_TIME, Params, time};
use super::{ApiError, json, success};
use crate::AppState;

const TRUNCATED: &str = "results truncated due to limit";

/// `start`, `end` (defaulting to all time) and `limit` of a metadata request.
fn window(p: &Params) -> Result<(i64, i64, usize), ApiError> {
    let bound = |name: &str, default: i64| match p.get(name) {
        Some(v) => time(v).map_err(|e| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": Invalid time value for '{name}': {e}"
            ))
        }),
        None => Ok(default),
    };
    let limit = match p.get("limit") {
        None => usize::MAX,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 0 => n as usize,
            Ok(_) => {
                return Err(ApiError::bad_data(
                    "invalid parameter \"limit\": limit must be positive",
                ));
            }
            Err(e) => {
                return Err(ApiError::bad_data(format!(
                    "invalid parameter \"limit\": strconv.Atoi: parsing {l:?}: {e}"
                )));
            }
        },
    };
    Ok((bound("start", MIN_TIME)?, bound("end", MAX_TIME)?, limit))
}

/// The matcher sets of `match[]`; `wrap` prefixes errors as `/series` does.
fn match_sets(p: &Params, wrap: bool) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let prefix = if wrap {
        "invalid parameter \"match[]\": "
    } else {
        ""
    };
    p.all("match[]")
        .into_iter()
        .map(|m| {
            let sel = selector(m).map_err(|e| {
                let msg = if e.message.contains("at least one non-empty matcher") {
                    "match[] must contain at least one non-empty matcher".to_string()
                } else {
                    e.render(m)
                };
                ApiError::bad_data(format!("{prefix}{msg}"))
            })?;
            Ok(sel)
        })
        .collect()
}

fn truncate<T>(items: &mut Vec<T>, limit: usize, warnings: &mut Vec<String>) {
    if items.len() >= limit {
        items.truncate(limit);
        warnings.push(TRUNCATED.into());
    }
}

/// A list of strings, truncated at `limit`, as the answer.
fn string_list(mut items: Vec<String>, limit: usize) -> Response {
    let mut warnings = Vec::new();
    truncate(&mut items, limit, &mut warnings);
    success(&json::strings(items.iter().map(String::as_str)), &warnings)
}

/// `GET|POST /api/v1/series`.
pub async fn series(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    if p.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end, limit) = window(&p)?;
    let sets = match_sets(&p, true)?;
    let read = s.read.clone();
    let mut found = blocking(move || {
        let mut all = BTreeSet::new();
        for m in &sets {
            all.extend(read.series(m, start, end)?);
        }
        Ok(all.into_iter().collect::<Vec<Labels>>())
    })
    .await?;
    let mut warnings = Vec::new();
    truncate(&mut found, limit, &mut warnings);
    let mut data = String::from("[");
    for (i, l) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        json::labels(&mut data, l);
    }
    data.push(']');
    Ok(success(&data, &warnings))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, kubepulse_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Label names or values over the union of the matcher sets (all series when none).
async fn names_or_values(
    read: std::sync::Arc<dyn Read>,
    name: Option<String>,
    sets: Vec<Vec<Matcher>>,
    start: i64,
    end: i64,
) -> Result<Vec<String>, ApiError> {
    blocking(move || {
        let sets = if sets.is_empty() {
            vec![Vec::new()]
        } else {
            sets
        };
        let mut all = BTreeSet::new();
        for m in &sets {
            let v = match &name {
                Some(n) => read.label_values(n, m, start, end)?,
                None => read.label_names(m, start, end)?,
            };
            all.extend(v);
        }
        Ok(all.into_iter().collect())
    })
    .await
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body);
    let (start, end, limit) = window(&p)?;
    let sets = match_sets(&p, false)?;
    let names = names_or_values(s.read.clone(), None, sets, start, end).await?;
    Ok(string_list(names, limit))
}

/// `GET /api/v1/label/<name>/values`.
pub async fn label_values(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !is_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let p = Params::new(q.as_deref(), &headers, &[]);
    let (start, end, limit) = window(&p)?;
    let sets = match_sets(&p, false)?;
    let values = names_or_values(s.read.clone(), Some(name), sets, start, end).await?;
    Ok(string_list(values, limit))
}

/// `GET /api/v1/metadata`.
pub async fn metadata(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &[]);
    let number = |key: &str| -> Result<Option<i64>, ApiError> {
        p.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_data(format!("{key} must be a number")))
            })
            .transpose()
    };
    let limit = number("limit")?.filter(|n| *n >= 0).map(|n| n as usize);
    let per_metric = number("limit_per_metric")?
        .filter(|n| *n > 0)
        .map(|n| n as usize);
    let metric = p.get("metric");
    let all = s.read.metadata();
    let mut data = String::from("{");
    let mut n = 0;
    for (name, metas) in &all {
        if metric.is_some_and(|m| m != name) {
            continue;
        }
        if limit.is_some_and(|l| n >= l) {
            break;
        }
        if n > 0 {
            data.push(',');
        }
        n += 1;
        json::string(&mut data, name);
        data.push_str(":[");
        for (i, m) in metas
            .iter()
            .take(per_metric.unwrap_or(usize::MAX))
            .enumerate()
        {
            if i > 0 {
                data.push(',');
            }
            data.push_str("{\"type\":");
            json::string(&mut data, m.kind.as_str());
            data.push_str(",\"help\":");
            json::string(&mut data, &m.help);
            data.push_str(",\"unit\":");
            json::string(&mut data, &m.unit);
            data.push('}');
        }
        data.push(']');
    }
    data.push('}');
    Ok(success(&data, &[]))
}
