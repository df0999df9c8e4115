//! The store's own metrics, exposed on `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Samples appended in order or out of order.
pub const SAMPLES_APPENDED: &str = "kubepulse_store_samples_appended";
/// Samples refused, by reason.
pub const SAMPLES_REJECTED: &str = "kubepulse_store_samples_rejected";
/// Series created.
pub const SERIES_CREATED: &str = "kubepulse_store_series_created";
/// Series in the index.
pub const HEAD_SERIES: &str = "kubepulse_store_head_series";
/// Samples held in memory.
pub const HEAD_SAMPLES: &str = "kubepulse_store_head_samples";
/// Bytes of WAL segments.
pub const WAL_BYTES: &str = "kubepulse_store_wal_bytes";
/// Bytes of the database directory.
pub const DISK_BYTES: &str = "kubepulse_store_disk_bytes";
/// Flushes of the head to disk.
pub const FLUSHES: &str = "kubepulse_store_flushes";
/// Seconds spent compacting.
pub const COMPACTION_SECONDS: &str = "kubepulse_store_compaction_seconds";
/// Chunks rewritten by compaction.
pub const COMPACTED_CHUNKS: &str = "kubepulse_store_compacted_chunks";
/// Days dropped by retention.
pub const RETENTION_DAYS_DROPPED: &str = "kubepulse_store_retention_days_dropped";

/// Handles to the store's metrics.
#[derive(Debug, Clone, Default)]
pub struct StoreMetrics {
    /// See [`SAMPLES_APPENDED`].
    pub appended: Counter,
    /// See [`SAMPLES_REJECTED`]; label `reason`.
    pub rejected: Family<Vec<(String, String)>, Counter>,
    /// See [`SERIES_CREATED`].
    pub series_created: Counter,
    /// See [`HEAD_SERIES`].
    pub head_series: Gauge,
    /// See [`HEAD_SAMPLES`].
    pub head_samples: Gauge,
    /// See [`WAL_BYTES`].
    pub wal_bytes: Gauge,
    /// See [`DISK_BYTES`].
    pub disk_bytes: Gauge,
    /// See [`FLUSHES`].
    pub flushes: Counter,
    /// See [`COMPACTION_SECONDS`].
    pub compaction_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    /// See [`COMPACTED_CHUNKS`].
    pub compacted_chunks: Counter,
    /// See [`RETENTION_DAYS_DROPPED`].
    pub days_dropped: Counter,
}

impl StoreMetrics {
    /// Registers every metric in `r`.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            SAMPLES_APPENDED,
            "Samples appended to the store",
            self.appended.clone(),
        );
        r.register(
            SAMPLES_REJECTED,
            "Samples refused by the store, by reason",
            self.rejected.clone(),
        );
        r.register(
            SERIES_CREATED,
            "Series created in the store",
            self.series_created.clone(),
        );
        r.register(
            HEAD_SERIES,
            "Series in the store's index",
            self.head_series.clone(),
        );
        r.register(
            HEAD_SAMPLES,
            "Samples held in memory, not yet flushed to disk",
            self.head_samples.clone(),
        );
        r.register(
            WAL_BYTES,
            "Bytes of write-ahead log segments",
            self.wal_bytes.clone(),
        );
        r.register(
            DISK_BYTES,
            "Bytes of the store's database on disk",
            self.disk_bytes.clone(),
        );
        r.register(
            FLUSHES,
            "Flushes of in-memory chunks to disk",
            self.flushes.clone(),
        );
        r.register(
            COMPACTION_SECONDS,
            "Seconds spent compacting chunks",
            self.compaction_seconds.clone(),
        );
        r.register(
            COMPACTED_CHUNKS,
            "Chunks rewritten by compaction",
            self.compacted_chunks.clone(),
        );
        r.register(
            RETENTION_DAYS_DROPPED,
            "Days of data dropped by retention",
            self.days_dropped.clone(),
        );
    }

    /// Counts `n` rejected samples for `reason`.
    pub fn reject(&self, reason: &str, n: u64) {
        if n > 0 {
            self.rejected
                .get_or_create(&vec![("reason".to_string(), reason.to_string())])
                .inc_by(n);
        }
    }
}
