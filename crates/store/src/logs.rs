//! Logs on disk, as Loki keeps them: each distinct label set is a stream with an id; a line is
//! stored under its stream, its time and a sequence number in the keyspace of its UTC day
//! (`logs_d<DAY>`), so that one stream's lines of a day are contiguous, in time order, in
//! LZ4-compressed blocks, and retention drops whole days. Streams are listed in `log_streams`
//! (id → labels) and kept in memory. A batch is committed atomically and handed to the
//! operating system before it is acknowledged, so acknowledged lines survive `kill -9`.

mod codec;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use fjall::config::CompressionPolicy;
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use kubepulse_model::{Labels, LogRecord};

pub use codec::LogEntry;

use crate::disk::time_key;
use crate::{Matcher, StoreError};

const NS_PER_DAY: i64 = 86_400_000_000_000;
const PREFIX: &str = "logs_d";
/// Longest line kept, bytes.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

fn db_err(e: fjall::Error) -> StoreError {
    StoreError::Disk(e.to_string())
}

fn opts() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(8 << 20)
        .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
}

/// Which lines to read.
#[derive(Debug, Clone, Copy)]
pub struct LogQuery<'a> {
    /// Stream selector: every matcher must hold.
    pub matchers: &'a [Matcher],
    /// From (inclusive), ns since the epoch.
    pub start_ns: i64,
    /// To (inclusive), ns.
    pub end_ns: i64,
    /// At most this many lines in all (0: no limit).
    pub limit: usize,
    /// Newest first (and the limit keeps the newest).
    pub backward: bool,
}

/// One stream's lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    /// Stream labels.
    pub labels: Labels,
    /// Lines in the query's direction.
    pub entries: Vec<LogEntry>,
}

#[derive(Debug, Default)]
struct Streams {
    labels: Vec<Labels>,
    ids: HashMap<Labels, u64>,
}

/// The log store.
pub struct LogStore {
    db: Database,
    streams_ks: Keyspace,
    streams: RwLock<Streams>,
    days: Mutex<BTreeMap<i64, Keyspace>>,
    seq: AtomicU64,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore").finish_non_exhaustive()
    }
}

fn matches(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

/// The stream-and-time part of a key.
fn key_prefix(stream: u64, t_ns: i64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&stream.to_be_bytes());
    k[8..].copy_from_slice(&time_key(t_ns));
    k
}

fn time_of(key: &[u8]) -> i64 {
    let b: [u8; 8] = key
        .get(8..16)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; 8]);
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

impl LogStore {
    /// Opens the log keyspaces of `db`; sequence numbers start at `first_seq`, which must
    /// exceed every one used before.
    pub fn open(db: &Database, first_seq: u64) -> Result<Self, StoreError> {
        let streams_ks = db.keyspace("log_streams", opts).map_err(db_err)?;
        let mut streams = Streams::default();
        for kv in streams_ks.iter() {
            let (k, v) = kv.into_inner().map_err(db_err)?;
            let id = u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("log stream key".into()))?,
            );
            let labels: Labels = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Corrupt(format!("log stream {id}: {e}")))?;
            if id as usize != streams.labels.len() {
                return Err(StoreError::Corrupt(format!("log stream {id} out of order")));
            }
            streams.ids.insert(labels.clone(), id);
            streams.labels.push(labels);
        }
        let mut days = BTreeMap::new();
        for name in db.list_keyspace_names() {
            if let Some(day) = name
                .strip_prefix(PREFIX)
                .and_then(|d| d.parse::<i64>().ok())
            {
                days.insert(day, db.keyspace(&name, opts).map_err(db_err)?);
            }
        }
        Ok(Self {
            db: db.clone(),
            streams_ks,
            streams: RwLock::new(streams),
            days: Mutex::new(days),
            seq: AtomicU64::new(first_seq),
        })
    }

    fn day(&self, day: i64) -> Result<Keyspace, StoreError> {
        let mut days = self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("log day map poisoned".into()))?;
        if let Some(ks) = days.get(&day) {
            return Ok(ks.clone());
        }
        let ks = self
            .db
            .keyspace(&format!("{PREFIX}{day}"), opts)
            .map_err(db_err)?;
        days.insert(day, ks.clone());
        Ok(ks)
    }

    fn existing(&self, day: i64) -> Option<Keyspace> {
        self.days.lock().ok().and_then(|d| d.get(&day).cloned())
    }

    /// Stores lines in one atomic batch; a line without labels or longer than
    /// [`MAX_LINE_BYTES`] refuses the whole batch.
    pub fn append(&self, records: &[LogRecord]) -> Result<(), StoreError> {
        for (i, r) in records.iter().enumerate() {
            if r.labels.is_empty() {
                return Err(StoreError::InvalidLog(format!(
                    "line {i} has no stream labels"
                )));
            }
            if r.body.len() > MAX_LINE_BYTES {
                return Err(StoreError::InvalidLog(format!(
                    "line {i} is {} bytes, above the {MAX_LINE_BYTES}-byte limit",
                    r.body.len()
                )));
            }
        }
        let mut batch = self.db.batch();
        let mut streams = self
            .streams
            .write()
            .map_err(|_| StoreError::Disk("log streams poisoned".into()))?;
        let mut created = Vec::new();
        for r in records {
            let id = match streams.ids.get(&r.labels) {
                Some(id) => *id,
                None => {
                    let id = streams.labels.len() as u64;
                    let json = serde_json::to_vec(&r.labels)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    batch.insert(&self.streams_ks, id.to_be_bytes(), json);
                    streams.ids.insert(r.labels.clone(), id);
                    streams.labels.push(r.labels.clone());
                    created.push(r.labels.clone());
                    id
                }
            };
            let ks = self.day(r.t_ns.div_euclid(NS_PER_DAY))?;
            let mut key = key_prefix(id, r.t_ns).to_vec();
            key.extend_from_slice(&self.seq.fetch_add(1, Ordering::Relaxed).to_be_bytes());
            let mut value = Vec::with_capacity(r.body.len() + 16);
            codec::encode_record(
                r.severity,
                &r.trace_id,
                &r.span_id,
                &r.attributes,
                &r.body,
                &mut value,
            );
            batch.insert(&ks, key, value);
        }
        let committed = batch
            .commit()
            .and_then(|()| self.db.persist(PersistMode::Buffer))
            .map_err(db_err);
        if committed.is_err() {
            // Streams created by a batch that did not land are forgotten again.
            for l in created {
                streams.ids.remove(&l);
            }
            let n = streams.ids.len();
            streams.labels.truncate(n);
        }
        committed
    }

    /// Stream ids and labels matching `matchers`.
    fn matching(&self, matchers: &[Matcher]) -> Result<Vec<(u64, Labels)>, StoreError> {
        let streams = self
            .streams
            .read()
            .map_err(|_| StoreError::Disk("log streams poisoned".into()))?;
        Ok(streams
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| matches(l, matchers))
            .map(|(i, l)| (i as u64, l.clone()))
            .collect())
    }

    /// Lines of the matching streams in the range, in the query's direction, at most
    /// `limit` in all (the oldest or, backward, the newest).
    pub fn select(&self, q: &LogQuery<'_>) -> Result<Vec<LogStream>, StoreError> {
        let limit = if q.limit == 0 { usize::MAX } else { q.limit };
        let mut days = self.days_in(q.start_ns, q.end_ns);
        if q.backward {
            days.reverse();
        }
        let mut all: Vec<(usize, LogEntry)> = Vec::new();
        let streams = self.matching(q.matchers)?;
        for (n, (id, _)) in streams.iter().enumerate() {
            let mut taken = 0;
            for &day in &days {
                let Some(ks) = self.existing(day) else {
                    continue;
                };
                let lo = key_prefix(*id, q.start_ns).to_vec();
                let hi = [key_prefix(*id, q.end_ns).as_slice(), &[0xff; 8]].concat();
                let range = ks.range(lo..=hi);
                let iter: Box<dyn Iterator<Item = _>> = if q.backward {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                for kv in iter {
                    if taken >= limit {
                        break;
                    }
                    let (k, v) = kv.into_inner().map_err(db_err)?;
                    all.push((n, codec::decode(time_of(&k), &v)?));
                    taken += 1;
                }
            }
        }
        if q.backward {
            all.sort_by_key(|b| std::cmp::Reverse(b.1.t_ns));
        } else {
            all.sort_by_key(|a| a.1.t_ns);
        }
        all.truncate(limit);
        let mut out: Vec<LogStream> = Vec::new();
        let mut slot: HashMap<usize, usize> = HashMap::new();
        for (n, e) in all {
            let i = *slot.entry(n).or_insert_with(|| {
                out.push(LogStream {
                    labels: streams[n].1.clone(),
                    entries: Vec::new(),
                });
                out.len() - 1
            });
            out[i].entries.push(e);
        }
        Ok(out)
    }

    /// Labels of the matching streams with lines in the range.
    pub fn streams(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        let mut out = Vec::new();
        for (id, labels) in self.matching(matchers)? {
            let lo = key_prefix(id, start_ns).to_vec();
            let hi = [key_prefix(id, end_ns).as_slice(), &[0xff; 8]].concat();
            let has = self
                .days_in(start_ns, end_ns)
                .into_iter()
                .filter_map(|d| self.existing(d))
                .any(|ks| ks.range(lo.clone()..=hi.clone()).next().is_some());
            if has {
                out.push(labels);
            }
        }
        Ok(out)
    }

    /// Days holding lines within `[start_ns, end_ns]`, in order.
    fn days_in(&self, start_ns: i64, end_ns: i64) -> Vec<i64> {
        let (first, last) = (
            start_ns.div_euclid(NS_PER_DAY),
            end_ns.div_euclid(NS_PER_DAY),
        );
        self.days()
            .into_iter()
            .filter(|d| (first..=last).contains(d))
            .collect()
    }

    /// Days holding lines.
    pub fn days(&self) -> Vec<i64> {
        self.days
            .lock()
            .map(|d| d.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Drops a day's lines.
    pub fn drop_day(&self, day: i64) -> Result<(), StoreError> {
        let ks = self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("log day map poisoned".into()))?
            .remove(&day);
        if let Some(ks) = ks {
            self.db.delete_keyspace(ks).map_err(db_err)?;
        }
        Ok(())
    }

    /// Writes every in-memory table to disk.
    pub fn settle(&self) -> Result<(), StoreError> {
        let all: Vec<Keyspace> = self
            .days
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
        for ks in std::iter::once(&self.streams_ks).chain(all.iter()) {
            ks.rotate_memtable_and_wait().map_err(db_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
