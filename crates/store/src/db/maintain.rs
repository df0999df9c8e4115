//! Background work: syncing the WAL, flushing the head to disk, compacting, and dropping days
//! past retention. [`Db::maintain`] runs whatever is due; [`Db::flush`] and [`Db::compact`] can
//! also be called directly (shutdown, tests, benchmarks).

use kubepulse_model::clock::Stopwatch;
use tracing::{debug, info};

use super::Db;
use crate::chunk::Chunk;
use crate::disk::Flush;
use crate::head::Head;
use crate::{DAY_MS, SeriesRef, StoreError};

/// When each job last ran.
#[derive(Debug)]
pub struct Schedule {
    last_flush: i64,
    last_compact: i64,
    last_retention: i64,
}

impl Schedule {
    pub fn new(now: i64) -> Self {
        Self {
            last_flush: now,
            last_compact: now,
            last_retention: i64::MIN,
        }
    }
}

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Chunks flushed from the head.
    pub flushed_chunks: u64,
    /// Chunks read by compaction.
    pub compacted_in: u64,
    /// Chunks written by compaction.
    pub compacted_out: u64,
    /// Days dropped by retention.
    pub days_dropped: u64,
}

impl Db {
    /// Syncs the WAL to the device.
    pub fn sync_wal(&self) -> Result<(), StoreError> {
        self.wal()?.sync()
    }

    /// Runs the jobs that are due at the clock's current time.
    pub fn maintain(&self) -> Result<MaintenanceReport, StoreError> {
        let now = self.inner.clock.now_ms();
        let cfg = &self.inner.cfg;
        let mut report = MaintenanceReport::default();
        self.sync_wal()?;
        let (flush, compact, retention) = {
            let s = self
                .inner
                .maintenance
                .lock()
                .map_err(|_| super::poisoned())?;
            (
                now.saturating_sub(s.last_flush) >= cfg.flush_interval.ms(),
                now.saturating_sub(s.last_compact) >= cfg.flush_interval.ms(),
                now.saturating_sub(s.last_retention) >= 3_600_000,
            )
        };
        if flush {
            report.flushed_chunks = self.flush()?;
        }
        if compact {
            let (i, o) = self.compact()?;
            report.compacted_in = i;
            report.compacted_out = o;
        }
        if retention {
            report.days_dropped = self.apply_retention()?;
        }
        let mut s = self
            .inner
            .maintenance
            .lock()
            .map_err(|_| super::poisoned())?;
        if flush {
            s.last_flush = now;
        }
        if compact {
            s.last_compact = now;
        }
        if retention {
            s.last_retention = now;
        }
        self.update_gauges();
        Ok(report)
    }

    /// Writes every in-memory chunk to disk and truncates the WAL. Returns the chunks written.
    pub fn flush(&self) -> Result<u64, StoreError> {
        let now = self.inner.clock.now_ms();
        let (series, chunks, last, checkpoint, persisted) = {
            let mut head = self.head_write()?;
            let mut wal = self.wal()?;
            let series: Vec<_> = (head.persisted..head.series.len())
                .map(|i| {
                    let r = SeriesRef(i as u32);
                    (r, head.index.labels(r), head.series[i].first_t)
                })
                .collect();
            // Chunks a failed flush left behind are written again with this one.
            let mut chunks = std::mem::take(&mut head.unwritten);
            for (i, s) in head.series.iter_mut().enumerate() {
                if !s.is_empty() {
                    let r = SeriesRef(i as u32);
                    chunks.extend(s.take_chunks().into_iter().map(|c| (r, c)));
                }
            }
            // In ref order, older chunks first within a series.
            chunks.sort_by_key(|(r, _)| *r);
            let mut last: Vec<(SeriesRef, i64)> = chunks
                .iter()
                .map(|(r, _)| (*r, head.series[r.0 as usize].max_t))
                .collect();
            last.dedup();
            retain_recent(&mut head, &chunks, now - self.inner.cfg.memory_window.ms());
            let checkpoint = wal.rotate()?;
            (series, chunks, last, checkpoint, head.series.len())
        };
        let seq = self
            .inner
            .seq
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let written = self.inner.disk.write_flush(&Flush {
            series: &series,
            chunks: &chunks,
            last: &last,
            seq,
            checkpoint,
        });
        let mut head = self.head_write()?;
        if let Err(e) = written {
            // They stay readable in `recent` (the retry adds them there a second time; reads
            // merge equal samples).
            head.unwritten = chunks;
            return Err(e);
        }
        head.persisted = persisted;
        drop(head);
        self.wal()?.remove_before(checkpoint)?;
        self.inner.metrics.flushes.inc();
        debug!(chunks = chunks.len(), checkpoint, "head flushed");
        Ok(chunks.len() as u64)
    }

    /// Compacts closed windows of every day on disk. Returns chunks read and written.
    pub fn compact(&self) -> Result<(u64, u64), StoreError> {
        let cfg = &self.inner.cfg;
        let closed_before =
            self.inner.clock.now_ms() - cfg.out_of_order_window.ms() - cfg.flush_interval.ms();
        let clock = Stopwatch::start();
        let (mut cin, mut cout) = (0, 0);
        for day in self.inner.disk.days() {
            if day * DAY_MS >= closed_before {
                continue;
            }
            let seq = self
                .inner
                .seq
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let s = self.inner.disk.compact_day(day, closed_before, seq)?;
            cin += s.chunks_in;
            cout += s.chunks_out;
        }
        let m = &self.inner.metrics;
        m.compaction_seconds.inc_by(clock.elapsed_secs());
        m.compacted_chunks.inc_by(cin);
        if cin > 0 {
            debug!(
                chunks_in = cin,
                chunks_out = cout,
                seconds = clock.elapsed_secs(),
                "compacted"
            );
        }
        Ok((cin, cout))
    }

    /// Drops every day entirely older than the retention period. Returns days dropped.
    pub fn apply_retention(&self) -> Result<u64, StoreError> {
        let cutoff = (self.inner.clock.now_ms() - self.inner.cfg.retention.ms()).div_euclid(DAY_MS);
        let mut dropped = 0;
        let mut days = self.inner.disk.days();
        days.extend(self.inner.events.days());
        days.extend(self.inner.logs.days());
        days.sort_unstable();
        days.dedup();
        // Flushed chunks kept in memory go with their day.
        self.head_write()?
            .recent
            .retain(|(_, c)| c.min_t >= cutoff * DAY_MS);
        for day in days.into_iter().filter(|&d| d < cutoff) {
            self.inner.disk.drop_day(day)?;
            self.inner.events.drop_day(day)?;
            self.inner.logs.drop_day(day)?;
            dropped += 1;
            info!(day = %kubepulse_model::format_rfc3339(day * DAY_MS), "retention dropped day");
        }
        self.inner.metrics.days_dropped.inc_by(dropped);
        Ok(dropped)
    }

    /// Flushes the head, writes every in-memory table to disk and syncs everything: the last
    /// step of a clean shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        self.flush()?;
        self.sync_wal()?;
        self.inner.events.settle()?;
        self.inner.logs.settle()?;
        self.inner.disk.settle()
    }

    /// Chunk statistics per day and encoding.
    pub fn chunk_stats(&self) -> Result<Vec<crate::disk::ChunkStats>, StoreError> {
        self.inner.disk.chunk_stats()
    }

    /// Series in the index.
    pub fn series_count(&self) -> usize {
        self.head_read().map(|h| h.series.len()).unwrap_or(0)
    }

    /// Days with chunks on disk.
    pub fn days(&self) -> Vec<i64> {
        self.inner.disk.days()
    }

    /// Refreshes the gauges (head size, WAL and disk bytes).
    pub fn update_gauges(&self) {
        let m = &self.inner.metrics;
        if let Ok(head) = self.head_read() {
            m.head_series.set(head.series.len() as i64);
            m.head_samples.set(head.samples() as i64);
        }
        if let Ok(wal) = self.wal() {
            m.wal_bytes.set(wal.disk_bytes() as i64);
        }
        m.disk_bytes.set(self.inner.disk.disk_bytes() as i64);
    }
}

/// Keeps the flushed `chunks` in memory, with the earlier ones whose newest sample is at or
/// after `keep_from`; what leaves memory is on disk, and each series remembers how far.
fn retain_recent(head: &mut Head, chunks: &[(SeriesRef, Chunk)], keep_from: i64) {
    let mut recent = std::mem::take(&mut head.recent);
    recent.retain(|(r, c)| {
        let keep = c.max_t >= keep_from;
        if !keep && let Some(s) = head.series.get_mut(r.0 as usize) {
            s.disk_max_t = s.disk_max_t.max(c.max_t);
        }
        keep
    });
    recent.extend(chunks.iter().cloned());
    // Stable: within a series, earlier flushes stay first.
    recent.sort_by_key(|(r, _)| *r);
    head.recent = recent;
}
