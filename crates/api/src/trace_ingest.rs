//! OTLP/HTTP traces: spans become the service graph's request, failure and latency series.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use kubepulse_ingest::otlp::Refusal;
use kubepulse_ingest::otlp::traces::{self, TraceReport};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};

use crate::AppState;
use crate::ingest::{otlp_export, otlp_ok, refused};

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
    let receive = |state: &AppState, req: &_| receive(state, req).map_err(refused);
    match otlp_export(s, &headers, body, "otlp_traces", traces::decode, receive).await {
        Ok((json, report)) => {
            let resp = response(report);
            let partial = resp.partial_success.as_ref().map(|p| {
                serde_json::json!({"rejectedSpans": p.rejected_spans, "errorMessage": p.error_message})
            });
            otlp_ok(json, partial, resp)
        }
        Err(r) => r,
    }
}
