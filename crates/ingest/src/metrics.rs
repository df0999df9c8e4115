//! Ingestion's own metrics, exposed on `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Samples received and handed to the store, by protocol.
pub const SAMPLES_RECEIVED: &str = "kubepulse_ingest_samples_received";
/// Requests refused whole, by protocol and reason.
pub const REQUESTS_REJECTED: &str = "kubepulse_ingest_requests_rejected";
/// Samples refused, by protocol and reason.
pub const SAMPLES_REJECTED: &str = "kubepulse_ingest_samples_rejected";

type Labeled = Family<Vec<(String, String)>, Counter>;

/// Handles to ingestion metrics.
#[derive(Debug, Clone, Default)]
pub struct IngestMetrics {
    received: Labeled,
    rejected_requests: Labeled,
    rejected_samples: Labeled,
}

fn labels(protocol: &str, reason: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![("protocol".to_string(), protocol.to_string())];
    if let Some(r) = reason {
        v.push(("reason".to_string(), r.to_string()));
    }
    v
}

impl IngestMetrics {
    /// Registers every metric in `r`.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            SAMPLES_RECEIVED,
            "Samples received and stored, by protocol",
            self.received.clone(),
        );
        r.register(
            REQUESTS_REJECTED,
            "Requests refused whole, by protocol and reason",
            self.rejected_requests.clone(),
        );
        r.register(
            SAMPLES_REJECTED,
            "Samples refused, by protocol and reason",
            self.rejected_samples.clone(),
        );
    }

    /// Counts stored samples.
    pub fn samples(&self, protocol: &str, n: u64) {
        if n > 0 {
            self.received
                .get_or_create(&labels(protocol, None))
                .inc_by(n);
        }
    }

    /// Counts a refused request.
    pub fn rejected_request(&self, protocol: &str, reason: &str) {
        self.rejected_requests
            .get_or_create(&labels(protocol, Some(reason)))
            .inc();
    }

    /// Counts refused samples.
    pub fn rejected_samples(&self, protocol: &str, reason: &str, n: u64) {
        if n > 0 {
            self.rejected_samples
                .get_or_create(&labels(protocol, Some(reason)))
                .inc_by(n);
        }
    }

    /// The current value of the refused-request counter (for tests and the dashboard).
    pub fn rejected_requests_count(&self, protocol: &str, reason: &str) -> u64 {
        self.rejected_requests
            .get_or_create(&labels(protocol, Some(reason)))
            .get()
    }
}
