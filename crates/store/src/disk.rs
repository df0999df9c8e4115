//! The on-disk part of the store, on fjall (see `docs/formats.md`): a `meta` keyspace with the
//! format version and the WAL checkpoint, a `series` keyspace (labels and first timestamp by
//! ref), a `series_last` keyspace (newest flushed timestamp by ref), and one `chunks_d<DAY>`
//! keyspace per UTC day holding chunks keyed by series ref, start time and flush sequence, so
//! that retention drops whole days.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::chunk::{Chunk, GORILLA};
use crate::{DAY_MS, SeriesRef, StoreError};

/// Format written in `meta/format`; a store of another format is refused at open.
pub const FORMAT: &str = "kubepulse-store/1";

fn db_err(e: fjall::Error) -> StoreError {
    StoreError::Disk(e.to_string())
}

fn opts() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default().max_memtable_size(8 << 20)
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

/// A series as persisted.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSeries {
    /// Ref.
    pub r: SeriesRef,
    /// Labels sorted by name.
    pub labels: Vec<(String, String)>,
    /// First timestamp.
    pub first_t: i64,
    /// Newest flushed timestamp.
    pub last_t: i64,
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

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactStats {
    /// Chunks read.
    pub chunks_in: u64,
    /// Chunks written.
    pub chunks_out: u64,
}

/// The fjall database and its keyspaces.
pub struct Disk {
    db: Database,
    meta: Keyspace,
    series: Keyspace,
    series_last: Keyspace,
    days: Mutex<BTreeMap<i64, Keyspace>>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk").finish_non_exhaustive()
    }
}

fn day_name(day: i64) -> String {
    format!("chunks_d{day}")
}

impl Disk {
    /// Opens or creates the database in `dir`, checking its format.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
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
        let mut days = BTreeMap::new();
        for name in db.list_keyspace_names() {
            if let Some(day) = name
                .strip_prefix("chunks_d")
                .and_then(|d| d.parse::<i64>().ok())
            {
                days.insert(day, db.keyspace(&name, opts).map_err(db_err)?);
            }
        }
        Ok(Self {
            db,
            meta,
            series,
            series_last,
            days: Mutex::new(days),
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

    /// Persists a new series (durable against a killed process when this returns).
    pub fn put_series(
        &self,
        r: SeriesRef,
        labels: &[(&str, &str)],
        first_t: i64,
    ) -> Result<(), StoreError> {
        let mut v = first_t.to_le_bytes().to_vec();
        crate::wal::record::encode_series(&mut v, r, labels);
        self.series.insert(r.0.to_be_bytes(), v).map_err(db_err)
    }

    /// Every persisted series, by ref.
    pub fn load_series(&self) -> Result<Vec<StoredSeries>, StoreError> {
        let mut last = BTreeMap::new();
        for kv in self.series_last.iter() {
            let (k, v) = kv.into_inner().map_err(db_err)?;
            if let (Ok(k), Ok(v)) = (<[u8; 4]>::try_from(&*k), <[u8; 8]>::try_from(&*v)) {
                last.insert(u32::from_be_bytes(k), i64::from_le_bytes(v));
            }
        }
        let mut out = Vec::new();
        for kv in self.series.iter() {
            let (_, v) = kv.into_inner().map_err(db_err)?;
            let first_t = i64::from_le_bytes(
                v.get(..8)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("series record".into()))?,
            );
            match crate::wal::record::decode(crate::wal::record::SERIES, &v[8..]) {
                Some(crate::wal::Record::Series(r, labels)) => {
                    let last_t = last.get(&r.0).copied().unwrap_or(i64::MIN);
                    out.push(StoredSeries {
                        r,
                        labels,
                        first_t,
                        last_t,
                    });
                }
                _ => return Err(StoreError::Corrupt("series record".into())),
            }
        }
        Ok(out)
    }

    fn day(&self, day: i64) -> Result<Keyspace, StoreError> {
        let mut days = self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("day map poisoned".into()))?;
        if let Some(ks) = days.get(&day) {
            return Ok(ks.clone());
        }
        let ks = self.db.keyspace(&day_name(day), opts).map_err(db_err)?;
        days.insert(day, ks.clone());
        Ok(ks)
    }

    /// Writes flushed chunks, the series' newest timestamps and the new WAL checkpoint in one
    /// atomic batch, then syncs it to the device.
    pub fn write_flush(
        &self,
        chunks: &[(SeriesRef, Chunk)],
        last: &[(SeriesRef, i64)],
        seq: u64,
        checkpoint: u64,
    ) -> Result<(), StoreError> {
        let mut batch = self.db.batch();
        for (r, c) in chunks {
            let ks = self.day(c.min_t.div_euclid(DAY_MS))?;
            batch.insert(&ks, chunk_key(*r, c.min_t, seq), c.to_bytes());
        }
        for (r, t) in last {
            batch.insert(&self.series_last, r.0.to_be_bytes(), t.to_le_bytes());
        }
        batch.insert(&self.meta, "wal_checkpoint", checkpoint.to_le_bytes());
        batch.insert(&self.meta, "flush_seq", seq.to_le_bytes());
        batch.commit().map_err(db_err)?;
        self.db.persist(PersistMode::SyncData).map_err(db_err)
    }

    /// Chunks of series `r` overlapping `[mint, maxt]`, with their flush sequence.
    pub fn chunks(
        &self,
        r: SeriesRef,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u64, Chunk)>, StoreError> {
        let days: Vec<Keyspace> = {
            let d = self
                .days
                .lock()
                .map_err(|_| StoreError::Disk("day map poisoned".into()))?;
            d.range(mint.div_euclid(DAY_MS)..=maxt.div_euclid(DAY_MS))
                .map(|(_, k)| k.clone())
                .collect()
        };
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
                let c = Chunk::from_bytes(&v)?;
                if c.max_t >= mint {
                    out.push((seq, c));
                }
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
        let ks = self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("day map poisoned".into()))?
            .remove(&day);
        if let Some(ks) = ks {
            self.db.delete_keyspace(ks).map_err(db_err)?;
        }
        Ok(())
    }

    /// Rewrites, in day `day`, every series' chunks of each closed window of `window_ms`
    /// (windows ending at or before `closed_before`) into one pco chunk, when the window holds
    /// more than one chunk or a Gorilla chunk. Later flushes win over earlier ones for equal
    /// timestamps.
    pub fn compact_day(
        &self,
        day: i64,
        window_ms: i64,
        closed_before: i64,
        seq: u64,
    ) -> Result<CompactStats, StoreError> {
        let ks = match self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("day map poisoned".into()))?
            .get(&day)
        {
            Some(k) => k.clone(),
            None => return Ok(CompactStats::default()),
        };
        let mut stats = CompactStats::default();
        let mut group: Vec<(Vec<u8>, u64, Chunk)> = Vec::new();
        let mut current: Option<(SeriesRef, i64)> = None;
        let mut batch = self.db.batch();
        for kv in ks.iter() {
            let (k, v) = kv.into_inner().map_err(db_err)?;
            let Some((r, min_t, s)) = parse_chunk_key(&k) else {
                continue;
            };
            let w = min_t.div_euclid(window_ms);
            if current != Some((r, w)) {
                flush_group(
                    &mut batch,
                    &ks,
                    &mut group,
                    current,
                    window_ms,
                    closed_before,
                    seq,
                    &mut stats,
                )?;
                current = Some((r, w));
            }
            group.push((k.to_vec(), s, Chunk::from_bytes(&v)?));
        }
        flush_group(
            &mut batch,
            &ks,
            &mut group,
            current,
            window_ms,
            closed_before,
            seq,
            &mut stats,
        )?;
        batch.commit().map_err(db_err)?;
        self.db.persist(PersistMode::SyncData).map_err(db_err)?;
        Ok(stats)
    }

    /// Writes every in-memory table to disk and syncs the journal, so that the directory holds
    /// compact tables and restarts replay little.
    pub fn settle(&self) -> Result<(), StoreError> {
        let days: Vec<Keyspace> = self
            .days
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
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
            .days
            .lock()
            .map(|d| d.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default();
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

#[allow(clippy::too_many_arguments)]
fn flush_group(
    batch: &mut fjall::OwnedWriteBatch,
    ks: &Keyspace,
    group: &mut Vec<(Vec<u8>, u64, Chunk)>,
    key: Option<(SeriesRef, i64)>,
    window_ms: i64,
    closed_before: i64,
    seq: u64,
    stats: &mut CompactStats,
) -> Result<(), StoreError> {
    let Some((r, w)) = key else { return Ok(()) };
    let closed = (w + 1) * window_ms <= closed_before;
    let needed = group.len() > 1 || group.iter().any(|(_, _, c)| c.encoding == GORILLA);
    if closed && needed {
        group.sort_by_key(|(_, s, _)| *s);
        let mut merged: BTreeMap<i64, f64> = BTreeMap::new();
        for (_, _, c) in group.iter() {
            for (t, v) in c.samples()? {
                merged.insert(t, v);
            }
        }
        let samples: Vec<(i64, f64)> = merged.into_iter().collect();
        if let Some(c) = Chunk::pco(&samples)? {
            for (k, _, _) in group.iter() {
                batch.remove(ks, k.as_slice());
            }
            batch.insert(ks, chunk_key(r, c.min_t, seq), c.to_bytes());
            stats.chunks_in += group.len() as u64;
            stats.chunks_out += 1;
        }
    }
    group.clear();
    Ok(())
}
