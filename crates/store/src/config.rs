//! Store settings.

use kubepulse_model::DurationMs;
use serde::{Deserialize, Serialize};

use crate::{DAY_MS, StoreError};

/// Settings of the embedded store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// How long data is kept. Whole UTC days are dropped once they are entirely older.
    pub retention: DurationMs,
    /// Samples up to this much older than a series' newest sample are still accepted.
    pub out_of_order_window: DurationMs,
    /// How often in-memory chunks are written to disk; bounds memory and the WAL.
    pub flush_interval: DurationMs,
    /// Flushed chunks are compacted into one chunk per series per window of this length.
    pub compaction_window: DurationMs,
    /// Flushed chunks whose newest sample is at most this old also stay in memory, so that
    /// queries over recent data (dashboards, rules) never read the disk. 0s keeps only the last
    /// flush's chunks.
    pub memory_window: DurationMs,
    /// How often the WAL is synced to the device (0s: on every write). Writes survive a killed
    /// process as soon as they are acknowledged; this bounds what a machine crash can lose.
    pub wal_sync_interval: DurationMs,
    /// Longest label name accepted, in bytes.
    pub max_label_name_bytes: usize,
    /// Longest label value accepted, in bytes.
    pub max_label_value_bytes: usize,
    /// Most labels accepted on one series.
    pub max_labels: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            retention: DurationMs(15 * DAY_MS),
            out_of_order_window: DurationMs::mins(10),
            flush_interval: DurationMs::mins(15),
            compaction_window: DurationMs(6 * 3_600_000),
            memory_window: DurationMs(3_600_000),
            wal_sync_interval: DurationMs::secs(1),
            max_label_name_bytes: 1024,
            max_label_value_bytes: 16 * 1024,
            max_labels: 64,
        }
    }
}

fn bad(key: &str, message: impl Into<String>) -> StoreError {
    StoreError::Config {
        key: key.into(),
        message: message.into(),
    }
}

impl StoreConfig {
    /// Checks ranges; the error names the key.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.retention.ms() < DAY_MS {
            return Err(bad(
                "retention",
                format!(
                    "{} is less than a day (data is kept by whole days)",
                    self.retention
                ),
            ));
        }
        if !(0..=DAY_MS).contains(&self.out_of_order_window.ms()) {
            return Err(bad(
                "out_of_order_window",
                format!("{} must be between 0s and 1d", self.out_of_order_window),
            ));
        }
        if !(10_000..=6 * 3_600_000).contains(&self.flush_interval.ms()) {
            return Err(bad(
                "flush_interval",
                format!("{} must be between 10s and 6h", self.flush_interval),
            ));
        }
        let w = self.compaction_window.ms();
        if w < self.flush_interval.ms() || w <= 0 || DAY_MS % w != 0 {
            return Err(bad(
                "compaction_window",
                format!(
                    "{} must divide a day and be at least the flush interval",
                    self.compaction_window
                ),
            ));
        }
        if !(0..=DAY_MS).contains(&self.memory_window.ms()) {
            return Err(bad(
                "memory_window",
                format!("{} must be between 0s and 1d", self.memory_window),
            ));
        }
        if !(0..=60_000).contains(&self.wal_sync_interval.ms()) {
            return Err(bad(
                "wal_sync_interval",
                format!("{} must be between 0s and 1m", self.wal_sync_interval),
            ));
        }
        for (key, v, max) in [
            ("max_label_name_bytes", self.max_label_name_bytes, 1 << 16),
            ("max_label_value_bytes", self.max_label_value_bytes, 1 << 20),
            ("max_labels", self.max_labels, 1024),
        ] {
            if v == 0 || v > max {
                return Err(bad(key, format!("{v} is outside 1..={max}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_valid_and_errors_name_keys() {
        StoreConfig::default().validate().unwrap();
        let c = StoreConfig {
            compaction_window: DurationMs::mins(7),
            ..Default::default()
        };
        assert!(
            matches!(c.validate(), Err(StoreError::Config { key, .. }) if key == "compaction_window")
        );
        let c = StoreConfig {
            retention: DurationMs::mins(60),
            ..Default::default()
        };
        assert!(matches!(c.validate(), Err(StoreError::Config { key, .. }) if key == "retention"));
    }
}
