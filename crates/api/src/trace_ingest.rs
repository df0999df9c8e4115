//! OTLP/HTTP traces: spans become the service graph's request, failure and latency series.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubepulse_ingest::otlp::Refusal;
use kubepulse_ingest::otlp::traces::{self, TraceReport};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};

use crate::AppState;
use crate::ingest::{otlp_error, otlp_format, otlp_request, refused};

/// The answer to an export: a partial success when spans were refused.
pub(crate) fn response(r: TraceReport) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: (r.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: r.rejected as i64,
            error_message: format!(
                "{} spans refused: trace ids must be 16 bytes and span ids 8",
                r.rejected
            ),
        }),
    }
}

/// Pairs an export's spans into the service graph (on a blocking thread: it writes the store).
pub(crate) fn receive(
    state: &AppState,
    req: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) -> Result<TraceReport, Refusal> {
    let now = state.query.clock.now_ms();
    state
        .traces
        .receive(req, &*state.append, &state.ingest, now)
}

/// `POST /v1/traces` (and `/otlp/v1/traces`, `/api/v1/otlp/v1/traces`): OTLP/HTTP traces,
/// protobuf or JSON.
pub async fn otlp_traces(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (json, gzip) = match otlp_format(&headers) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let state = s.clone();
    let result = tokio::task::spawn_blocking(move || {
        let req = otlp_request(&state, "otlp_traces", &body, (json, gzip), traces::decode)?;
        receive(&state, &req).map_err(refused)
    })
    .await;
    match result {
        Ok(Ok(report)) => {
            let resp = response(report);
            if json {
                let body = match &resp.partial_success {
                    Some(p) => serde_json::json!({"partialSuccess": {"rejectedSpans": p.rejected_spans, "errorMessage": p.error_message}}).to_string(),
                    None => "{}".into(),
                };
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response()
            } else {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/x-protobuf")],
                    prost::Message::encode_to_vec(&resp),
                )
                    .into_response()
            }
        }
        Ok(Err((status, message))) => otlp_error(status, json, message),
        Err(e) => otlp_error(StatusCode::INTERNAL_SERVER_ERROR, json, e.to_string()),
    }
}
