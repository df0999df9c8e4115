//! KubePulse's HTTP surface, on one port: ingestion (remote_write, OTLP over HTTP and gRPC),
//! the Prometheus query API, Loki's push and query API, failure predictions, anomalies, health, and KubePulse's own metrics. Handlers are thin: they decode, call the stage that owns
//! the work (off the async threads when it blocks), and encode the answer.
//!
//! This crate must never hold business logic.

pub mod alertmanager;
pub mod anomaly;
mod ingest;
mod log_ingest;
mod loki;
mod otlp_grpc;
pub mod predict;
pub mod prom;
pub mod simulator;
mod system;
pub mod templates;
mod trace_ingest;
pub mod web;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::OtlpMetrics;
use kubepulse_ingest::otlp::traces::ServiceGraph;
use kubepulse_ingest::remote_write::Limits;
use kubepulse_store::{Append, Read};
use prometheus_client::registry::Registry;

/// Everything handlers need.
#[derive(Clone)]
pub struct AppState {
    /// Write side of the store.
    pub append: Arc<dyn Append>,
    /// Read side of the store.
    pub read: Arc<dyn Read>,
    /// Ingestion metrics.
    pub ingest: IngestMetrics,
    /// OTLP translation state.
    pub otlp: Arc<OtlpMetrics>,
    /// The service graph OTLP traces feed.
    pub traces: Arc<ServiceGraph>,
    /// Self-metrics registry, rendered on `/metrics`.
    pub registry: Arc<Registry>,
    /// Size limits of ingestion bodies.
    pub limits: Limits,
    /// Set once start-up has finished.
    pub ready: Arc<AtomicBool>,
    /// The query API's engine and server facts.
    pub query: prom::QueryState,
    /// Failure prediction, when it runs.
    pub predictions: Option<Arc<dyn predict::PredictionService>>,
    /// Anomaly detection, when it runs.
    pub anomalies: Option<Arc<dyn anomaly::AnomalyService>>,
    /// Log template mining, when it runs.
    pub log_templates: Option<Arc<dyn templates::TemplateService>>,
    /// Recording and alerting rules, when they run.
    pub rules: Option<Arc<dyn prom::rules::RulesService>>,
    /// The notification pipeline (Alertmanager's API), when it runs.
    pub alertmanager: Option<Arc<dyn alertmanager::AlertmanagerService>>,
    /// The built-in simulated cluster, when it runs.
    pub simulator: Option<simulator::SharedSimulator>,
}

/// The router of every endpoint.
pub fn router(state: AppState) -> Router {
    let grpc =
        tonic::service::Routes::new(otlp_grpc::server(state.clone(), state.limits.max_message))
            .add_service(otlp_grpc::logs_server(
                state.clone(),
                state.limits.max_message,
            ))
            .add_service(otlp_grpc::traces_server(
                state.clone(),
                state.limits.max_message,
            ))
            .into_axum_router();
    let body = state.limits.max_body;
    Router::new()
        .route("/api/v1/write", post(ingest::remote_write))
        .route("/v1/metrics", post(ingest::otlp_metrics))
        .route("/api/v1/otlp/v1/metrics", post(ingest::otlp_metrics))
        .route("/v1/logs", post(log_ingest::otlp_logs))
        .route("/api/v1/otlp/v1/logs", post(log_ingest::otlp_logs))
        .route("/otlp/v1/logs", post(log_ingest::otlp_logs))
        .route("/v1/traces", post(trace_ingest::otlp_traces))
        .route("/api/v1/otlp/v1/traces", post(trace_ingest::otlp_traces))
        .route("/otlp/v1/traces", post(trace_ingest::otlp_traces))
        .route("/loki/api/v1/push", post(log_ingest::loki_push))
        .route("/metrics", get(system::metrics))
        .route("/-/healthy", get(system::healthy))
        .route("/-/ready", get(system::ready))
        .route("/api/v1/predictions", get(predict::ranked))
        .route("/api/v1/predict", post(predict::predict))
        .route("/api/v1/simulate/{count}", get(predict::simulate))
        .route("/api/v1/anomalies", get(anomaly::list))
        .route("/api/v1/log_templates", get(templates::list))
        .route(
            "/api/v1/simulator/faults",
            get(simulator::get_faults).post(simulator::post_fault),
        )
        .route("/api/v1/simulator/targets", get(simulator::get_targets))
        .merge(prom::routes())
        .merge(alertmanager::routes())
        .merge(web::routes())
        .merge(loki::routes())
        .layer(DefaultBodyLimit::max(body))
        .layer(axum::middleware::from_fn(web::same_origin))
        .with_state(state)
        .merge(grpc)
}
