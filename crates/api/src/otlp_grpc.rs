//! OTLP over gRPC, served on the same port as HTTP.

use kubepulse_ingest::otlp;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::AppState;

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
