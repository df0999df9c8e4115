//! The store: head, WAL and disk tied together. Appends are logged, then applied; flushes move
//! the head to disk and truncate the WAL; compaction and retention keep the disk small.

mod maintain;
mod read;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use kubepulse_model::{Clock, K8sEvent, MetricMeta, ObjectState};
use tracing::{info, warn};

pub use maintain::MaintenanceReport;

use crate::append::{normalize, normalized as normalized_labels};
use crate::disk::Disk;
use crate::events::EventStore;
use crate::head::{Head, MemSeries, Outcome};
use crate::index::fingerprint;
use crate::wal::{Record, Wal};
use crate::{Append, AppendReport, SeriesRef, SeriesWrite, StoreConfig, StoreError, StoreMetrics};

struct Inner {
    cfg: StoreConfig,
    clock: Arc<dyn Clock>,
    head: RwLock<Head>,
    wal: Mutex<Wal>,
    disk: Disk,
    events: EventStore,
    logs: crate::logs::LogStore,
    seq: AtomicU64,
    maintenance: Mutex<maintain::Schedule>,
    metrics: StoreMetrics,
    metadata: crate::metadata::Metadata,
    dir: PathBuf,
}

/// The embedded store. Cheap to clone; every clone is the same store.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("dir", &self.inner.dir).finish()
    }
}

fn poisoned() -> StoreError {
    StoreError::Disk("a store lock was poisoned by a panic".into())
}

/// What opening found.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenStats {
    /// Series loaded from disk.
    pub series: usize,
    /// WAL records replayed.
    pub wal_records: u64,
    /// Bytes of torn WAL tail truncated.
    pub wal_truncated_bytes: u64,
}

impl Db {
    /// Opens (creating if needed) the store in `dir`: loads the series, replays the WAL after the
    /// last flush, and starts a new WAL segment.
    pub fn open(
        dir: &Path,
        cfg: StoreConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, OpenStats), StoreError> {
        cfg.validate()?;
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        let disk = Disk::open(&dir.join("db"), cfg.compaction_window.ms())?;
        let events = EventStore::open(disk.database(), (clock.now_ms().max(0) as u64) << 20)?;
        let logs =
            crate::logs::LogStore::open(disk.database(), (clock.now_ms().max(0) as u64) << 20)?;
        let mut head = Head::default();
        disk.for_each_series(|r, labels, first_t, last_t| {
            if r.0 as usize != head.series.len() {
                return Err(StoreError::Corrupt(format!(
                    "series {} is missing from the index",
                    head.series.len()
                )));
            }
            head.index
                .insert(labels, fingerprint(labels.iter().copied()));
            head.series.push(MemSeries::restored(first_t, last_t));
            Ok(())
        })?;
        head.persisted = head.series.len();
        let checkpoint = disk.meta_u64("wal_checkpoint")?;
        let ooo = cfg.out_of_order_window.ms();
        let mut unknown = 0u64;
        let (wal, replay) = Wal::open(&dir.join("wal"), checkpoint, |rec| match rec {
            Record::Series(r, labels) => {
                if r.0 as usize == head.series.len() {
                    let l: Vec<(&str, &str)> = labels
                        .iter()
                        .map(|(a, b)| (a.as_str(), b.as_str()))
                        .collect();
                    head.index.insert(&l, fingerprint(l.iter().copied()));
                    head.series.push(MemSeries::default());
                }
            }
            Record::Samples(samples) => {
                for (r, t, v) in samples {
                    match head.series.get_mut(r.0 as usize) {
                        Some(s) => {
                            let o = s.check(t, v, ooo);
                            s.apply(t, v, o);
                        }
                        None => unknown += 1,
                    }
                }
            }
        })?;
        if unknown > 0 {
            warn!(samples = unknown, "wal samples of unknown series skipped");
        }
        let seq = disk.meta_u64("flush_seq")? + 1;
        let stats = OpenStats {
            series: head.series.len(),
            wal_records: replay.records,
            wal_truncated_bytes: replay.truncated_bytes,
        };
        info!(dir = %dir.display(), series = stats.series, wal_records = stats.wal_records, wal_truncated_bytes = stats.wal_truncated_bytes, "store opened");
        let metrics = StoreMetrics::default();
        metrics.head_series.set(head.series.len() as i64);
        let now = clock.now_ms();
        let inner = Inner {
            maintenance: Mutex::new(maintain::Schedule::new(now)),
            cfg,
            clock,
            head: RwLock::new(head),
            wal: Mutex::new(wal),
            disk,
            events,
            logs,
            seq: AtomicU64::new(seq),
            metrics,
            metadata: Default::default(),
            dir: dir.to_path_buf(),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
            },
            stats,
        ))
    }

    /// The store's metrics.
    pub fn metrics(&self) -> &StoreMetrics {
        &self.inner.metrics
    }

    /// The settings.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.cfg
    }

    fn head_write(&self) -> Result<RwLockWriteGuard<'_, Head>, StoreError> {
        self.inner.head.write().map_err(|_| poisoned())
    }

    fn head_read(&self) -> Result<RwLockReadGuard<'_, Head>, StoreError> {
        self.inner.head.read().map_err(|_| poisoned())
    }

    fn wal(&self) -> Result<MutexGuard<'_, Wal>, StoreError> {
        self.inner.wal.lock().map_err(|_| poisoned())
    }

    /// Finds or creates the series; new series are logged (and written to disk by the next
    /// flush).
    fn series_ref(
        &self,
        head: &mut Head,
        wal: &mut Wal,
        labels: &[(&str, &str)],
        report: &mut AppendReport,
    ) -> Result<SeriesRef, StoreError> {
        let hash = fingerprint(labels.iter().copied());
        if let Some(r) = head.index.get(labels, hash) {
            return Ok(r);
        }
        let r = SeriesRef(head.series.len() as u32);
        wal.log_series(r, labels)?;
        head.index.insert(labels, hash);
        head.series.push(MemSeries::default());
        report.new_series += 1;
        self.inner.metrics.series_created.inc();
        Ok(r)
    }

    /// Logs then applies samples of resolved series.
    fn apply(
        &self,
        head: &mut Head,
        wal: &mut Wal,
        samples: &[(SeriesRef, i64, f64)],
        report: &mut AppendReport,
    ) -> Result<(), StoreError> {
        wal.log_samples(samples)?;
        if self.inner.cfg.wal_sync_interval.ms() == 0 {
            wal.sync()?;
        }
        let ooo = self.inner.cfg.out_of_order_window.ms();
        for &(r, t, v) in samples {
            let Some(s) = head.series.get_mut(r.0 as usize) else {
                report.conflicts += 1;
                continue;
            };
            let o = s.check(t, v, ooo);
            match o {
                Outcome::Appended => report.appended += 1,
                Outcome::OutOfOrder => {
                    report.appended += 1;
                    report.out_of_order += 1;
                }
                Outcome::Duplicate => report.duplicates += 1,
                Outcome::TooOld => report.too_old += 1,
                Outcome::Conflict => report.conflicts += 1,
            }
            s.apply(t, v, o);
        }
        let m = &self.inner.metrics;
        m.appended.inc_by(report.appended);
        m.reject("too_old", report.too_old);
        m.reject("duplicate_timestamp", report.conflicts);
        m.head_series.set(head.series.len() as i64);
        Ok(())
    }
}

impl Append for Db {
    fn append(&self, batch: &[SeriesWrite<'_>]) -> Result<AppendReport, StoreError> {
        let mut normalized = Vec::with_capacity(batch.len());
        for sw in batch {
            match normalized_labels(sw.labels, &self.inner.cfg) {
                Ok(l) => normalized.push(l),
                Err(e) => {
                    let n = batch.iter().map(|s| s.samples.len() as u64).sum();
                    self.inner.metrics.reject(e.reason(), n);
                    return Err(e.into());
                }
            }
        }
        let mut report = AppendReport::default();
        let mut head = self.head_write()?;
        let mut wal = self.wal()?;
        let mut samples = Vec::with_capacity(batch.iter().map(|s| s.samples.len()).sum());
        for (sw, labels) in batch.iter().zip(&normalized) {
            let r = self.series_ref(&mut head, &mut wal, labels.as_ref(), &mut report)?;
            samples.extend(sw.samples.iter().map(|&(t, v)| (r, t, v)));
        }
        self.apply(&mut head, &mut wal, &samples, &mut report)?;
        Ok(report)
    }

    fn resolve(&self, labels: &[(&str, &str)]) -> Result<SeriesRef, StoreError> {
        let mut labels = labels.to_vec();
        normalize(&mut labels, &self.inner.cfg)?;
        if let Some(r) = self
            .head_read()?
            .index
            .get(&labels, fingerprint(labels.iter().copied()))
        {
            return Ok(r);
        }
        let mut head = self.head_write()?;
        let mut wal = self.wal()?;
        self.series_ref(&mut head, &mut wal, &labels, &mut AppendReport::default())
    }

    fn append_refs(&self, samples: &[(SeriesRef, i64, f64)]) -> Result<AppendReport, StoreError> {
        let mut report = AppendReport::default();
        let mut head = self.head_write()?;
        let mut wal = self.wal()?;
        self.apply(&mut head, &mut wal, samples, &mut report)?;
        Ok(report)
    }

    fn append_events(&self, events: &[K8sEvent]) -> Result<(), StoreError> {
        self.inner.events.append_events(events)
    }

    fn append_objects(&self, states: &[ObjectState]) -> Result<(), StoreError> {
        self.inner.events.append_objects(states)
    }

    fn append_metadata(&self, entries: &[(String, MetricMeta)]) {
        self.inner.metadata.record(entries);
    }

    fn append_logs(&self, records: &[kubepulse_model::LogRecord]) -> Result<(), StoreError> {
        self.inner.logs.append(records)
    }
}
