//! Status endpoints (`buildinfo`, `runtimeinfo`, `flags`, `config`) and the target listing
//! clients probe for.

use axum::extract::State;
use axum::response::Response;

use super::{ApiError, json, success};
use crate::AppState;

fn object(fields: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(&mut out, k);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

fn s(v: &str) -> String {
    let mut out = String::new();
    json::string(&mut out, v);
    out
}

/// `GET /api/v1/status/buildinfo`: the Prometheus API version implemented (clients decide
/// which calls to make from it), with KubePulse's own version as the revision.
pub async fn buildinfo(State(st): State<AppState>) -> Response {
    let i = &st.query.info;
    success(
        &object(&[
            ("version", s(&i.api_version)),
            ("revision", s(&i.revision)),
            ("branch", s("kubepulse")),
            ("buildUser", s("kubepulse")),
            ("buildDate", s(&i.build_date)),
            ("goVersion", s(&i.compiler)),
        ]),
        &[],
    )
}

/// `GET /api/v1/status/runtimeinfo`.
pub async fn runtimeinfo(State(st): State<AppState>) -> Response {
    let i = &st.query.info;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let start = kubepulse_model::format_rfc3339(i.start_ms);
    success(
        &object(&[
            ("startTime", s(&start)),
            ("CWD", s(&i.cwd)),
            ("reloadConfigSuccess", "true".into()),
            ("lastConfigTime", s(&start)),
            ("corruptionCount", "0".into()),
            ("goroutineCount", "0".into()),
            ("GOMAXPROCS", threads.to_string()),
            ("GOMEMLIMIT", "0".into()),
            ("GOGC", s("")),
            ("GODEBUG", s("")),
            ("storageRetention", s(&i.retention)),
        ]),
        &[],
    )
}

/// `GET /api/v1/status/flags`.
pub async fn flags(State(st): State<AppState>) -> Response {
    let fields: Vec<(&str, String)> = st
        .query
        .info
        .flags
        .iter()
        .map(|(k, v)| (k.as_str(), s(v)))
        .collect();
    success(&object(&fields), &[])
}

/// `GET /api/v1/status/config`.
pub async fn config(State(st): State<AppState>) -> Response {
    success(&object(&[("yaml", s(&st.query.info.config_yaml))]), &[])
}

/// `GET /api/v1/targets`.
pub async fn targets() -> Result<Response, ApiError> {
    Ok(success(
        "{\"activeTargets\":[],\"droppedTargets\":[],\"droppedTargetCounts\":{}}",
        &[],
    ))
}
