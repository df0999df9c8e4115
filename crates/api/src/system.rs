//! Health, readiness and self-metrics.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

/// `GET /-/healthy`: the process answers.
pub async fn healthy() -> impl IntoResponse {
    (StatusCode::OK, "KubePulse is Healthy.\n")
}

/// `GET /-/ready`: start-up (store open, WAL replayed) has finished.
pub async fn ready(State(s): State<AppState>) -> impl IntoResponse {
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "KubePulse is Ready.\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "KubePulse is not ready.\n")
    }
}

/// `GET /metrics`: KubePulse's own metrics in the OpenMetrics text format.
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    match prometheus_client::encoding::text::encode(&mut out, &s.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}"),
        )
            .into_response(),
    }
}
