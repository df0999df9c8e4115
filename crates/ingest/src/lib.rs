//! Ingestion: the ways telemetry reaches KubePulse, decoded and normalised into store writes.
//!
//! - [`remote_write`]: the Prometheus remote_write 1.0 receiver.
//! - [`exposition`]: the Prometheus text and OpenMetrics parsers the scraper uses.
//!
//! Ingestion must never write anywhere but through the store's [`kubepulse_store::Append`] seam.

pub mod exposition;
mod metrics;
pub mod protowire;
pub mod remote_write;

pub use metrics::IngestMetrics;
