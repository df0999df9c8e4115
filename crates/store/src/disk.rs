//! The on-disk part of the store, on fjall (see `docs/formats.md`): a `meta` keyspace with the
//! format version, the WAL checkpoint and the state of each day, a `series` keyspace (labels
//! and first timestamp by ref), a `series_last` keyspace (newest flushed timestamp by ref), and
//! one keyspace per UTC day holding chunks keyed by series ref, start time and flush sequence,
//! so that retention drops whole days. Chunks bypass the fjall journal: flushes and compactions
//! write them as sorted tables by bulk ingestion, and only the small records that commit them
//! go through the journal.

mod compact;
mod days;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use fjall::config::CompressionPolicy;
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};

pub use compact::CompactStats;

use kubepulse_model::Labels;

use crate::chunk::Chunk;
use crate::{DAY_MS, SeriesRef, StoreError};

/// Format written in `meta/format`; a store of another format is refused at open.
pub const FORMAT: &str = "kubepulse-store/1";

fn db_err(e: fjall::Error) -> StoreError {
    StoreError::Disk(e.to_string())
}

fn opts() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(8 << 20)
        .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
}

/// `t` as big-endian bytes that sort like the signed value.
pub fn time_key(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_from_key(b: &[u8]) -> i64 {
    (u64::from_be_bytes(b.try_into().unwrap_or([0; 8])) ^ (1 << 63)) as i64
}

/// Key of a chunk: series ref, start time, flush sequence.
pub fn chunk_key(r: SeriesRef, min_t: i64, seq: u64) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..4].copy_from_slice(&r.0.to_be_bytes());
    k[4..12].copy_from_slice(&time_key(min_t));
    k[12..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn parse_chunk_key(k: &[u8]) -> Option<(SeriesRef, i64, u64)> {
    if k.len() != 20 {
        return None;
    }
    Some((
        SeriesRef(u32::from_be_bytes(k[..4].try_into().ok()?)),
        time_from_key(&k[4..12]),
        u64::from_be_bytes(k[12..].try_into().ok()?),
    ))
}

/// Chunks of one encoding in one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkStats {
    /// Day (days since the epoch).
    pub day: i64,
    /// Encoding (`GORILLA` or `PCO`).
    pub encoding: u8,
    /// Chunks.
    pub chunks: u64,
    /// Samples in them.
    pub samples: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
}

/// What one flush of the head writes.
#[derive(Debug, Clone, Copy)]
pub struct Flush<'a> {
    /// Series created since the last flush, with labels and first timestamp, by ascending ref.
    pub series: &'a [(SeriesRef, Labels, i64)],
    /// Chunks taken from the head.
    pub chunks: &'a [(SeriesRef, Chunk)],
    /// Newest timestamp of each series with samples in the flush, by ascending ref.
    pub last: &'a [(SeriesRef, i64)],
    /// Flush sequence (orders chunks with equal keys).
    pub seq: u64,
    /// WAL position the flush covers.
    pub checkpoint: u64,
}

/// The fjall database and its keyspaces.
pub struct Disk {
    db: Database,
    meta: Keyspace,
    series: Keyspace,
    series_last: Keyspace,
    days: Mutex<BTreeMap<i64, days::Day>>,
    /// Serializes the writers of chunks (flush, compaction, retention).
    writer: Mutex<()>,
    window_ms: i64,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk").finish_non_exhaustive()
    }
}

impl Disk {
    /// Opens or creates the database in `dir`, checking its format. Compaction merges chunks
    /// per window of `window_ms`.
    pub fn open(dir: &Path, window_ms: i64) -> Result<Self, StoreError> {
        let db = Database::builder(dir)
            .cache_size(64 << 20)
            .max_journaling_size(128 << 20)
            .open()
            .map_err(db_err)?;
        let meta = db.keyspace("meta", opts).map_err(db_err)?;
        match meta.get("format").map_err(db_err)? {
            Some(v) if &*v == FORMAT.as_bytes() => {}
            Some(v) => {
                return Err(StoreError::Format(format!(
                    "{} holds format {:?}; this build reads {FORMAT:?}",
                    dir.display(),
                    String::from_utf8_lossy(&v)
                )));
            }
            None => {
                meta.insert("format", FORMAT).map_err(db_err)?;
                db.persist(PersistMode::SyncAll).map_err(db_err)?;
            }
        }
        let series = db.keyspace("series", opts).map_err(db_err)?;
        let series_last = db.keyspace("series_last", opts).map_err(db_err)?;
        let days = days::load(&db, &meta, window_ms)?;
        Ok(Self {
            db,
            meta,
            series,
            series_last,
            days: Mutex::new(days),
            writer: Mutex::new(()),
            window_ms,
        })
    }

    /// The underlying database (shared with the event store).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// A `u64` from `meta`, 0 when absent.
    pub fn meta_u64(&self, key: &str) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(key)
            .map_err(db_err)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or(0))
    }

    /// Visits every persisted series in ref order with its labels, first timestamp and newest
    /// flushed timestamp (`i64::MIN` when none).
    pub fn for_each_series(
        &self,
        mut visit: impl FnMut(SeriesRef, &[(&str, &str)], i64, i64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut last = Vec::new();
        for kv in self.series_last.iter() {
            let (k, v) = kv.into_inner().map_err(db_err)?;
            if let (Ok(k), Ok(v)) = (<[u8; 4]>::try_from(&*k), <[u8; 8]>::try_from(&*v)) {
                let i = u32::from_be_bytes(k) as usize;
                if last.len() <= i {
                    last.resize(i + 1, i64::MIN);
                }
                last[i] = i64::from_le_bytes(v);
            }
        }
        let corrupt = || StoreError::Corrupt("series record".into());
        for kv in self.series.iter() {
            let (_, v) = kv.into_inner().map_err(db_err)?;
            let first_t = i64::from_le_bytes(
                v.get(..8)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(corrupt)?,
            );
            let (r, labels) = crate::wal::record::decode_series(&v[8..]).ok_or_else(corrupt)?;
            let last_t = last.get(r.0 as usize).copied().unwrap_or(i64::MIN);
            visit(r, &labels, first_t, last_t)?;
        }
        Ok(())
    }

    fn days_mut(&self) -> Result<MutexGuard<'_, BTreeMap<i64, days::Day>>, StoreError> {
        self.days
            .lock()
            .map_err(|_| StoreError::Disk("day map poisoned".into()))
    }

    fn writer(&self) -> Result<MutexGuard<'_, ()>, StoreError> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Disk("disk writer lock poisoned".into()))
    }

    fn day_state(&self, day: i64) -> Result<Option<days::Day>, StoreError> {
        Ok(self.days_mut()?.get(&day).cloned())
    }

    /// Writes a flush: the new series, the chunks (into their days) and the series' newest
    /// timestamps as sorted tables, then commits the days' dirty windows and the new WAL
    /// checkpoint in one `meta` batch synced to the device. What a crash leaves written but not
    /// committed is written again from the WAL: series by ref, chunks under a new sequence that
    /// reads and compaction merge with the old copy.
    pub fn write_flush(&self, flush: &Flush<'_>) -> Result<(), StoreError> {
        let _writer = self.writer()?;
        let Flush {
            series,
            chunks,
            last,
            seq,
            checkpoint,
        } = *flush;
        if !series.is_empty() {
            let mut out = self.series.start_ingestion().map_err(db_err)?;
            for (r, labels, first_t) in series {
                let pairs: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|l| (l.name.as_str(), l.value.as_str()))
                    .collect();
                let mut v = first_t.to_le_bytes().to_vec();
                crate::wal::record::encode_series(&mut v, *r, &pairs);
                out.write(r.0.to_be_bytes(), v).map_err(db_err)?;
            }
            out.finish().map_err(db_err)?;
        }
        let mut by_day: BTreeMap<i64, Vec<([u8; 20], &Chunk)>> = BTreeMap::new();
        for (r, c) in chunks {
            by_day
                .entry(c.min_t.div_euclid(DAY_MS))
                .or_default()
                .push((chunk_key(*r, c.min_t, seq), c));
        }
        let mut batch = self.db.batch();
        for (day, mut list) in by_day {
            list.sort_by_key(|(k, _)| *k);
            let mut state = match self.day_state(day)? {
                Some(d) => d,
                None => days::Day {
                    ks: days::open_keyspace(&self.db, day, 0)?,
                    generation: 0,
                    dirty: BTreeSet::new(),
                },
            };
            let mut out = state.ks.start_ingestion().map_err(db_err)?;
            for group in list.chunk_by(|a, b| a.0 == b.0) {
                let merged;
                let c = match group {
                    [(_, c)] => *c,
                    _ => {
                        merged = merge(group.iter().map(|(_, c)| *c))?;
                        &merged
                    }
                };
                out.write(group[0].0, c.to_bytes()).map_err(db_err)?;
                state
                    .dirty
                    .insert(c.min_t - c.min_t.rem_euclid(self.window_ms));
            }
            out.finish().map_err(db_err)?;
            batch.insert(
                &self.meta,
                days::meta_key(day),
                days::meta_value(state.generation, &state.dirty),
            );
            self.days_mut()?.insert(day, state);
        }
        if !last.is_empty() {
            let mut out = self.series_last.start_ingestion().map_err(db_err)?;
            for (r, t) in last {
                out.write(r.0.to_be_bytes(), t.to_le_bytes())
                    .map_err(db_err)?;
            }
            out.finish().map_err(db_err)?;
        }
        batch.insert(&self.meta, "wal_checkpoint", checkpoint.to_le_bytes());
        batch.insert(&self.meta, "flush_seq", seq.to_le_bytes());
        batch.commit().map_err(db_err)?;
        self.db.persist(PersistMode::SyncData).map_err(db_err)
    }

    /// Stored chunks of series `r` overlapping `[mint, maxt]`, with their flush sequence.
    pub fn chunks(
        &self,
        r: SeriesRef,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u64, fjall::Slice)>, StoreError> {
        let days: Vec<Keyspace> = self
            .days_mut()?
            .range(mint.div_euclid(DAY_MS)..=maxt.div_euclid(DAY_MS))
            .map(|(_, d)| d.ks.clone())
            .collect();
        let mut out = Vec::new();
        for ks in days {
            for kv in ks.prefix(r.0.to_be_bytes()) {
                let (k, v) = kv.into_inner().map_err(db_err)?;
                let Some((_, min_t, seq)) = parse_chunk_key(&k) else {
                    continue;
                };
                if min_t > maxt {
                    break;
                }
                if Chunk::span_of(&v).is_some_and(|(_, max_t)| max_t < mint) {
                    continue;
                }
                out.push((seq, v));
            }
        }
        Ok(out)
    }

    /// Days that hold chunks.
    pub fn days(&self) -> Vec<i64> {
        self.days
            .lock()
            .map(|d| d.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Drops day `day` entirely.
    pub fn drop_day(&self, day: i64) -> Result<(), StoreError> {
        let _writer = self.writer()?;
        let Some(state) = self.days_mut()?.remove(&day) else {
            return Ok(());
        };
        self.meta.remove(days::meta_key(day)).map_err(db_err)?;
        self.db.persist(PersistMode::SyncData).map_err(db_err)?;
        self.db.delete_keyspace(state.ks).map_err(db_err)
    }

    /// Writes every in-memory table to disk and syncs the journal, so that the directory holds
    /// compact tables and restarts replay little.
    pub fn settle(&self) -> Result<(), StoreError> {
        let days: Vec<Keyspace> = self.days_mut()?.values().map(|d| d.ks.clone()).collect();
        for ks in [&self.meta, &self.series, &self.series_last]
            .into_iter()
            .chain(days.iter())
        {
            ks.rotate_memtable_and_wait().map_err(db_err)?;
        }
        self.db.persist(PersistMode::SyncAll).map_err(db_err)
    }

    /// Chunk counts, samples and bytes per day and encoding.
    pub fn chunk_stats(&self) -> Result<Vec<ChunkStats>, StoreError> {
        let days: Vec<(i64, Keyspace)> = self
            .days_mut()?
            .iter()
            .map(|(k, d)| (*k, d.ks.clone()))
            .collect();
        let mut out = Vec::new();
        for (day, ks) in days {
            let mut by: BTreeMap<u8, ChunkStats> = BTreeMap::new();
            for kv in ks.iter() {
                let (k, v) = kv.into_inner().map_err(db_err)?;
                let c = Chunk::from_bytes(&v)?;
                let e = by.entry(c.encoding).or_insert(ChunkStats {
                    day,
                    encoding: c.encoding,
                    ..ChunkStats::default()
                });
                e.chunks += 1;
                e.samples += u64::from(c.count);
                e.bytes += (k.len() + v.len()) as u64;
            }
            out.extend(by.into_values());
        }
        Ok(out)
    }

    /// Bytes on disk (journal and tables).
    pub fn disk_bytes(&self) -> u64 {
        self.db.disk_space().unwrap_or(0)
    }
}

/// One chunk from several with the same key (samples of later chunks win).
fn merge<'a>(chunks: impl Iterator<Item = &'a Chunk>) -> Result<Chunk, StoreError> {
    let mut merged: BTreeMap<i64, f64> = BTreeMap::new();
    for c in chunks {
        merged.extend(c.samples()?);
    }
    let samples: Vec<(i64, f64)> = merged.into_iter().collect();
    Chunk::pco(&samples)?.ok_or_else(|| StoreError::Corrupt("empty chunk".into()))
}

#[cfg(test)]
mod tests;
