//! Ingestion: the ways telemetry reaches KubePulse, decoded and normalised into store writes.
//!
//! - [`remote_write`]: the Prometheus remote_write 1.0 receiver.
//! - [`exposition`]: the Prometheus text and OpenMetrics parsers the scraper uses.
//! - [`scrape`]: the scraper (static and file discovery, relabeling, staleness).
//! - [`otlp`]: OTLP metrics, translated as Prometheus translates them.
//! - [`kube`]: a real cluster's objects and events through its API server.
//! - [`sim_source`]: the simulated cluster, stepping in real time into the store.
//!
//! Ingestion must never write anywhere but through the store's [`kubepulse_store::Append`] seam.

pub mod exposition;
pub mod kube;
pub mod logs;
pub mod loki;
mod metrics;
pub mod otlp;
pub mod protowire;
pub mod remote_write;
pub mod scrape;
pub mod sim_source;

/// The HTTP client for scraping and outgoing calls, with the ring crypto provider installed.
pub fn http_client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("kubepulse/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

pub use metrics::IngestMetrics;
