//! Ingestion endpoints: remote_write and OTLP over HTTP.

use std::io::Read as _;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubepulse_ingest::otlp;
use kubepulse_ingest::remote_write::{self, Outcome};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};

use crate::AppState;

/// `POST /api/v1/write`: Prometheus remote_write 1.0.
pub async fn remote_write(State(s): State<AppState>, body: Bytes) -> Response {
    let outcome = tokio::task::spawn_blocking(move || {
        remote_write::receive(&body, &s.limits, &*s.append, &s.ingest)
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

/// `google.rpc.Status`, the body of OTLP/HTTP errors.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

pub(crate) fn media_type(h: &HeaderMap) -> String {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

pub(crate) fn otlp_error(status: StatusCode, json: bool, message: String) -> Response {
    // gRPC codes: 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, 13 INTERNAL.
    let code = match status.as_u16() {
        400 | 415 => 3,
        413 => 8,
        503 => 14,
        _ => 13,
    };
    if json {
        let body = serde_json::json!({"code": code, "message": message}).to_string();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        let body = prost::Message::encode_to_vec(&RpcStatus { code, message });
        (
            status,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            body,
        )
            .into_response()
    }
}

/// Decompresses a gzip body, refusing to grow past `limit`.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut d = flate2::read::GzDecoder::new(body).take(limit as u64 + 1);
    d.read_to_end(&mut out)
        .map_err(|e| format!("invalid gzip body: {e}"))?;
    if out.len() > limit {
        return Err(format!("decompressed body exceeds {limit} bytes"));
    }
    Ok(out)
}

/// The format of an OTLP/HTTP body from its headers: `(json, gzip)`, or the error response.
pub(crate) fn otlp_format(headers: &HeaderMap) -> Result<(bool, bool), Box<Response>> {
    let json = match media_type(headers).as_str() {
        "application/json" => true,
        "application/x-protobuf" => false,
        other => {
            return Err(Box::new(otlp_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                false,
                format!(
                    "unsupported content type {other:?}: use application/x-protobuf or application/json"
                ),
            )));
        }
    };
    match headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        None | Some("identity") => Ok((json, false)),
        Some("gzip") => Ok((json, true)),
        Some(other) => Err(Box::new(otlp_error(
            StatusCode::BAD_REQUEST,
            json,
            format!("unsupported content encoding {other:?}: use gzip or none"),
        ))),
    }
}

/// The HTTP status of a refused export: the client's fault or the store's.
pub(crate) fn refused(r: kubepulse_ingest::otlp::Refusal) -> (StatusCode, String) {
    use kubepulse_ingest::otlp::Refusal;
    match r {
        Refusal::Invalid(m) => (StatusCode::BAD_REQUEST, m),
        Refusal::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
    }
}

/// An OTLP/HTTP body decoded: gunzipped when it says so, then decoded by `decode`; a body
/// that does not decode is counted under `protocol` and answers 400.
pub(crate) fn otlp_request<T>(
    state: &AppState,
    protocol: &str,
    body: &[u8],
    (json, gzip): (bool, bool),
    decode: impl Fn(&[u8], bool) -> Result<T, String>,
) -> Result<T, (StatusCode, String)> {
    let raw = if gzip {
        std::borrow::Cow::Owned(
            gunzip(body, state.limits.max_message).map_err(|e| (StatusCode::BAD_REQUEST, e))?,
        )
    } else {
        std::borrow::Cow::Borrowed(body)
    };
    decode(&raw, json).map_err(|e| {
        state.ingest.rejected_request(protocol, "decode");
        (StatusCode::BAD_REQUEST, e)
    })
}

/// What receiving a decoded export gives, or the status and message of its refusal.
pub(crate) type Received<T> = Result<T, (StatusCode, String)>;

/// Takes an OTLP/HTTP export: its format from the headers, then on a blocking thread (the
/// store is written) its body decoded by `decode` and handed to `receive`. Returns whether the
/// answer is JSON and what `receive` returned, or the error response.
pub(crate) async fn otlp_export<R: Send + 'static, T: Send + 'static>(
    state: AppState,
    headers: &HeaderMap,
    body: Bytes,
    protocol: &'static str,
    decode: fn(&[u8], bool) -> Result<R, String>,
    receive: fn(&AppState, &R) -> Received<T>,
) -> Result<(bool, T), Response> {
    let (json, gzip) = otlp_format(headers).map_err(|r| *r)?;
    let result = tokio::task::spawn_blocking(move || {
        let req = otlp_request(&state, protocol, &body, (json, gzip), decode)?;
        receive(&state, &req)
    })
    .await;
    match result {
        Ok(Ok(t)) => Ok((json, t)),
        Ok(Err((status, message))) => Err(otlp_error(status, json, message)),
        Err(e) => Err(otlp_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json,
            e.to_string(),
        )),
    }
}

/// The 200 answer to an OTLP/HTTP export: as OTLP/JSON its partial success (`{}` when whole),
/// else the protobuf response `proto`.
pub(crate) fn otlp_ok(
    json: bool,
    partial: Option<serde_json::Value>,
    proto: impl prost::Message,
) -> Response {
    if json {
        let body = partial.map_or_else(
            || "{}".to_string(),
            |p| serde_json::json!({ "partialSuccess": p }).to_string(),
        );
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
            proto.encode_to_vec(),
        )
            .into_response()
    }
}

/// `POST /v1/metrics` (and `/api/v1/otlp/v1/metrics`): OTLP/HTTP metrics, protobuf or JSON.
pub async fn otlp_metrics(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let receive = |state: &AppState, req: &_| {
        otlp::receive(req, &state.otlp, &*state.append, &state.ingest)
            .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))
    };
    let (json, export) = match otlp_export(s, &headers, body, "otlp", otlp::decode, receive).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let partial = (export.rejected_points > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: export.rejected_points,
        error_message: export.messages.join("; "),
    });
    otlp_ok(
        json,
        partial.as_ref().map(|p| {
            serde_json::json!({"rejectedDataPoints": p.rejected_data_points, "errorMessage": p.error_message})
        }),
        ExportMetricsServiceResponse {
            partial_success: partial,
        },
    )
}
