//! OTLP over gRPC, served on the same port as HTTP.

use kubepulse_ingest::otlp;
use kubepulse_ingest::otlp::Refusal;
use kubepulse_ingest::otlp::logs;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::AppState;

/// The gRPC status of a refused export: the client's fault or the store's.
fn status(r: Refusal) -> Status {
    match r {
        Refusal::Invalid(m) => Status::invalid_argument(m),
        Refusal::Unavailable(m) => Status::unavailable(m),
    }
}

/// The metrics service.
pub struct Metrics {
    state: AppState,
}

/// The gRPC server of the metrics service.
pub fn server(state: AppState, max_message: usize) -> MetricsServiceServer<Metrics> {
    MetricsServiceServer::new(Metrics { state })
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message)
}

#[tonic::async_trait]
impl MetricsService for Metrics {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let state = self.state.clone();
        let req = request.into_inner();
        let export = tokio::task::spawn_blocking(move || {
            otlp::receive(&req, &state.otlp, &*state.append, &state.ingest)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::unavailable(e.to_string()))?;
        let partial = (export.rejected_points > 0).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: export.rejected_points,
            error_message: export.messages.join("; "),
        });
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: partial,
        }))
    }
}

/// The logs service.
pub struct Logs {
    state: AppState,
}

/// The gRPC server of the logs service.
pub fn logs_server(state: AppState, max_message: usize) -> LogsServiceServer<Logs> {
    LogsServiceServer::new(Logs { state })
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message)
}

#[tonic::async_trait]
impl LogsService for Logs {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let state = self.state.clone();
        let req = request.into_inner();
        tokio::task::spawn_blocking(move || logs::receive(&req, &*state.append, &state.ingest))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(status)?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// The traces service.
pub struct Traces {
    state: AppState,
}

/// The gRPC server of the traces service.
pub fn traces_server(state: AppState, max_message: usize) -> TraceServiceServer<Traces> {
    TraceServiceServer::new(Traces { state })
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message)
}

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let state = self.state.clone();
        let req = request.into_inner();
        let report =
            tokio::task::spawn_blocking(move || crate::trace_ingest::receive(&state, &req))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(status)?;
        Ok(Response::new(crate::trace_ingest::response(report)))
    }
}
