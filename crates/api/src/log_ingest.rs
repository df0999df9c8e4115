//! Log ingestion endpoints: OTLP/HTTP logs and the Loki push API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubepulse_ingest::loki;
use kubepulse_ingest::otlp::logs;
use kubepulse_ingest::remote_write::Outcome;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;

use crate::AppState;
use crate::ingest::{gunzip, media_type, otlp_export, otlp_ok, refused};

/// `POST /v1/logs` (and `/otlp/v1/logs`, `/api/v1/otlp/v1/logs`): OTLP/HTTP logs, protobuf or
/// JSON.
pub async fn otlp_logs(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let receive = |state: &AppState, req: &_| {
        logs::receive(req, &*state.append, &state.ingest).map_err(refused)
    };
    match otlp_export(s, &headers, body, "otlp_logs", logs::decode, receive).await {
        Ok((json, _)) => otlp_ok(
            json,
            None,
            ExportLogsServiceResponse {
                partial_success: None,
            },
        ),
        Err(r) => r,
    }
}

/// `POST /loki/api/v1/push`: snappy-compressed protobuf, or JSON (optionally gzip-encoded).
pub async fn loki_push(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let json = match media_type(&headers).as_str() {
        "application/json" => true,
        "application/x-protobuf" | "" => false,
        other => {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported content type {other:?}: use application/x-protobuf or application/json\n"
                ),
            )
                .into_response();
        }
    };
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        == Some("gzip");
    let outcome = tokio::task::spawn_blocking(move || {
        let raw = if gzip {
            match gunzip(&body, s.limits.max_message) {
                Ok(r) => r,
                Err(e) => {
                    s.ingest.rejected_request("loki", "decode");
                    return Outcome::Refused {
                        status: 400,
                        reason: "decode",
                        message: e,
                    };
                }
            }
        } else {
            body.to_vec()
        };
        loki::receive(&raw, json, &s.limits, &*s.append, &s.ingest)
    })
    .await;
    match outcome {
        Ok(Outcome::Stored(_)) => StatusCode::NO_CONTENT.into_response(),
        Ok(Outcome::Refused {
            status, message, ..
        })
        | Ok(Outcome::Failed { status, message }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            format!("{message}\n"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
