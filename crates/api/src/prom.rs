//! The Prometheus HTTP API (`/api/v1/…`): queries, series and label metadata, status, and the
//! rule and alert listings, with Prometheus 2.53's parameters, JSON and errors, so that
//! Grafana, `promtool` and other clients work against KubePulse unchanged.

pub(crate) mod json;
mod meta;
pub(crate) mod params;
mod query;
pub mod rules;
mod status;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kubepulse_model::Clock;
use kubepulse_query::{Engine, ErrorKind, QueryError};
use tokio::sync::Semaphore;

use crate::AppState;

/// Queries evaluated at once; more wait, within their timeout.
const CONCURRENT_QUERIES: usize = 20;

/// What the status endpoints report about the running server.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// Version of the Prometheus API implemented (clients read features from it).
    pub api_version: String,
    /// KubePulse's version and commit.
    pub revision: String,
    /// Build date.
    pub build_date: String,
    /// Compiler.
    pub compiler: String,
    /// Start time (ms).
    pub start_ms: i64,
    /// Working directory.
    pub cwd: String,
    /// Retention, as a duration.
    pub retention: String,
    /// Effective settings, by Prometheus flag name where one applies.
    pub flags: BTreeMap<String, String>,
    /// The effective configuration as YAML.
    pub config_yaml: String,
}

/// State of the query API.
#[derive(Clone)]
pub struct QueryState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Slots of concurrent evaluation.
    pub slots: Arc<Semaphore>,
    /// Server facts for the status endpoints.
    pub info: Arc<ServerInfo>,
    /// The clock (default query time).
    pub clock: Arc<dyn Clock>,
}

impl QueryState {
    /// Query state with the default concurrency.
    pub fn new(engine: Engine, info: ServerInfo, clock: Arc<dyn Clock>) -> Self {
        Self {
            engine: Arc::new(engine),
            slots: Arc::new(Semaphore::new(CONCURRENT_QUERIES)),
            info: Arc::new(info),
            clock,
        }
    }
}

/// An error answer: Prometheus' `errorType`, HTTP status and message.
#[derive(Debug)]
pub struct ApiError {
    kind: &'static str,
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// `bad_data` (400).
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self {
            kind: "bad_data",
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// `internal` (500).
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: "internal",
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }

    /// From a query error; parse errors get `prefix`.
    pub fn query(e: QueryError, prefix: &str) -> Self {
        let (kind, status) = match e.kind() {
            ErrorKind::BadData => ("bad_data", StatusCode::BAD_REQUEST),
            ErrorKind::Execution => ("execution", StatusCode::UNPROCESSABLE_ENTITY),
            ErrorKind::Timeout => ("timeout", StatusCode::SERVICE_UNAVAILABLE),
            // Prometheus' "client closed connection"; nobody reads it.
            ErrorKind::Canceled => (
                "canceled",
                StatusCode::from_u16(499).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            ),
            ErrorKind::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        };
        let message = match e {
            QueryError::Parse(m) => format!("{prefix}{m}"),
            other => other.to_string(),
        };
        Self {
            kind,
            status,
            message,
        }
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, json::error(self.kind, &self.message))
    }
}

/// A success answer around `data` (JSON).
pub fn success(data: &str, warnings: &[String]) -> Response {
    json_response(StatusCode::OK, json::success(data, warnings))
}

/// The routes of the Prometheus API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route(
            "/api/v1/format_query",
            get(query::format).post(query::format),
        )
        .route(
            "/api/v1/query_exemplars",
            get(query::exemplars).post(query::exemplars),
        )
        .route("/api/v1/series", get(meta::series).post(meta::series))
        .route("/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/api/v1/label/{name}/values", get(meta::label_values))
        .route("/api/v1/metadata", get(meta::metadata))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .route("/-/reload", post(rules::reload).put(rules::reload))
        .route("/api/v1/targets", get(status::targets))
}
