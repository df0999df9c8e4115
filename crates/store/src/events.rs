//! Kubernetes events and object history on disk. Per UTC day: `events_d<DAY>` holds events by
//! time, `evobj_d<DAY>` indexes them by object, `objects_d<DAY>` holds object states by object and
//! time; `objects_latest` holds each object's newest state. Retention drops whole days.

use std::collections::BTreeMap;
use std::sync::Mutex;

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use kubepulse_model::{K8sEvent, ObjectRef, ObjectState};

use crate::disk::time_key;
use crate::{DAY_MS, StoreError};

fn db_err(e: fjall::Error) -> StoreError {
    StoreError::Disk(e.to_string())
}

fn opts() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default().max_memtable_size(4 << 20)
}

/// `kind\0namespace\0name\0`: the prefix of an object's keys.
pub fn object_key(o: &ObjectRef) -> Vec<u8> {
    let mut k = Vec::with_capacity(o.kind.len() + o.namespace.len() + o.name.len() + 3);
    for part in [&o.kind, &o.namespace, &o.name] {
        k.extend_from_slice(part.as_bytes());
        k.push(0);
    }
    k
}

/// Which events to return.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events about this object.
    pub object: Option<ObjectRef>,
    /// Only events in this namespace.
    pub namespace: Option<String>,
    /// Only events with this reason.
    pub reason: Option<String>,
    /// Only warnings.
    pub warnings_only: bool,
    /// From (inclusive), epoch ms.
    pub start: i64,
    /// To (inclusive), epoch ms.
    pub end: i64,
    /// At most this many, newest first.
    pub limit: usize,
}

/// Event and object storage.
pub struct EventStore {
    db: Database,
    latest: Keyspace,
    days: Mutex<BTreeMap<(i64, u8), Keyspace>>,
    seq: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").finish_non_exhaustive()
    }
}

const EVENTS: u8 = 0;
const EVENTS_BY_OBJECT: u8 = 1;
const OBJECTS: u8 = 2;
const PREFIXES: [&str; 3] = ["events_d", "evobj_d", "objects_d"];

impl EventStore {
    /// Opens the event keyspaces of `db`. Keys get sequence numbers from `first_seq` on, which
    /// must exceed every sequence used before (the server passes the current time in ms × 2^20).
    pub fn open(db: &Database, first_seq: u64) -> Result<Self, StoreError> {
        let latest = db.keyspace("objects_latest", opts).map_err(db_err)?;
        let mut days = BTreeMap::new();
        for name in db.list_keyspace_names() {
            for (kind, prefix) in PREFIXES.iter().enumerate() {
                if let Some(day) = name
                    .strip_prefix(prefix)
                    .and_then(|d| d.parse::<i64>().ok())
                {
                    days.insert((day, kind as u8), db.keyspace(&name, opts).map_err(db_err)?);
                }
            }
        }
        let seq = std::sync::atomic::AtomicU64::new(first_seq);
        Ok(Self {
            db: db.clone(),
            latest,
            days: Mutex::new(days),
            seq,
        })
    }

    fn ks(&self, day: i64, kind: u8) -> Result<Keyspace, StoreError> {
        let mut days = self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("event day map poisoned".into()))?;
        if let Some(k) = days.get(&(day, kind)) {
            return Ok(k.clone());
        }
        let ks = self
            .db
            .keyspace(&format!("{}{day}", PREFIXES[kind as usize]), opts)
            .map_err(db_err)?;
        days.insert((day, kind), ks.clone());
        Ok(ks)
    }

    fn next_seq(&self) -> [u8; 8] {
        self.seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_be_bytes()
    }

    /// Stores events (keyed by their last occurrence) in one atomic batch.
    pub fn append_events(&self, events: &[K8sEvent]) -> Result<(), StoreError> {
        let mut batch = self.db.batch();
        for e in events {
            let t = e.last_timestamp;
            let day = t.div_euclid(DAY_MS);
            let json = serde_json::to_vec(e).map_err(|x| StoreError::Corrupt(x.to_string()))?;
            let mut key = time_key(t).to_vec();
            key.extend_from_slice(&self.next_seq());
            let mut by_obj = object_key(&e.involved_object);
            by_obj.extend_from_slice(&key);
            batch.insert(&self.ks(day, EVENTS)?, key.clone(), json);
            batch.insert(&self.ks(day, EVENTS_BY_OBJECT)?, by_obj, key);
        }
        batch.commit().map_err(db_err)
    }

    /// Stores object states in one atomic batch.
    pub fn append_objects(&self, states: &[ObjectState]) -> Result<(), StoreError> {
        let mut batch = self.db.batch();
        for s in states {
            let json = serde_json::to_vec(s).map_err(|x| StoreError::Corrupt(x.to_string()))?;
            let ok = object_key(&s.object);
            let mut key = ok.clone();
            key.extend_from_slice(&time_key(s.t));
            key.extend_from_slice(&self.next_seq());
            batch.insert(
                &self.ks(s.t.div_euclid(DAY_MS), OBJECTS)?,
                key,
                json.clone(),
            );
            batch.insert(&self.latest, ok, json);
        }
        batch.commit().map_err(db_err)
    }

    /// Events matching `q`, newest first.
    pub fn events(&self, q: &EventQuery) -> Result<Vec<K8sEvent>, StoreError> {
        let limit = if q.limit == 0 { usize::MAX } else { q.limit };
        let mut out = Vec::new();
        let days = self.days_in(q.start, q.end);
        for day in days.into_iter().rev() {
            let Some(events) = self.existing(day, EVENTS)? else {
                continue;
            };
            let range =
                time_key(q.start).to_vec()..=[time_key(q.end).as_slice(), &[0xff; 8]].concat();
            let keys: Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>>> = match &q.object {
                Some(o) => {
                    let Some(idx) = self.existing(day, EVENTS_BY_OBJECT)? else {
                        continue;
                    };
                    let p = object_key(o);
                    let lo = [p.as_slice(), range.start()].concat();
                    let hi = [p.as_slice(), range.end()].concat();
                    Box::new(
                        idx.range(lo..=hi)
                            .rev()
                            .map(|kv| kv.value().map(|v| v.to_vec()).map_err(db_err)),
                    )
                }
                None => Box::new(
                    events
                        .range(range)
                        .rev()
                        .map(|kv| kv.key().map(|k| k.to_vec()).map_err(db_err)),
                ),
            };
            for key in keys {
                let Some(v) = events.get(key?).map_err(db_err)? else {
                    continue;
                };
                let e: K8sEvent =
                    serde_json::from_slice(&v).map_err(|x| StoreError::Corrupt(x.to_string()))?;
                let keep = q
                    .namespace
                    .as_ref()
                    .is_none_or(|n| &e.involved_object.namespace == n)
                    && q.reason.as_ref().is_none_or(|r| &e.reason == r)
                    && (!q.warnings_only || e.is_warning());
                if keep {
                    out.push(e);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The history of one object in `[start, end]`, oldest first.
    pub fn history(
        &self,
        o: &ObjectRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<ObjectState>, StoreError> {
        let p = object_key(o);
        let mut out = Vec::new();
        for day in self.days_in(start, end) {
            let Some(ks) = self.existing(day, OBJECTS)? else {
                continue;
            };
            let lo = [p.as_slice(), &time_key(start)].concat();
            let hi = [p.as_slice(), &time_key(end), &[0xff; 8]].concat();
            for kv in ks.range(lo..=hi) {
                let v = kv.value().map_err(db_err)?;
                out.push(
                    serde_json::from_slice(&v).map_err(|x| StoreError::Corrupt(x.to_string()))?,
                );
            }
        }
        Ok(out)
    }

    /// The newest state of every object of `kind` (all kinds when empty), deleted ones excluded.
    pub fn latest(&self, kind: &str) -> Result<Vec<ObjectState>, StoreError> {
        let prefix = if kind.is_empty() {
            Vec::new()
        } else {
            [kind.as_bytes(), &[0]].concat()
        };
        let mut out = Vec::new();
        for kv in self.latest.prefix(prefix) {
            let v = kv.value().map_err(db_err)?;
            let s: ObjectState =
                serde_json::from_slice(&v).map_err(|x| StoreError::Corrupt(x.to_string()))?;
            if !s.deleted {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn existing(&self, day: i64, kind: u8) -> Result<Option<Keyspace>, StoreError> {
        Ok(self
            .days
            .lock()
            .map_err(|_| StoreError::Disk("event day map poisoned".into()))?
            .get(&(day, kind))
            .cloned())
    }

    /// Writes every in-memory table of the event keyspaces to disk.
    pub fn settle(&self) -> Result<(), StoreError> {
        let all: Vec<Keyspace> = self
            .days
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
        for ks in std::iter::once(&self.latest).chain(all.iter()) {
            ks.rotate_memtable_and_wait().map_err(db_err)?;
        }
        Ok(())
    }

    /// Days holding events or objects within `[start, end]` (ms), in order: a range of any
    /// width costs only the days that exist.
    fn days_in(&self, start: i64, end: i64) -> Vec<i64> {
        let (first, last) = (start.div_euclid(DAY_MS), end.div_euclid(DAY_MS));
        self.days()
            .into_iter()
            .filter(|d| (first..=last).contains(d))
            .collect()
    }

    /// Days holding events or objects.
    pub fn days(&self) -> Vec<i64> {
        let mut d: Vec<i64> = self
            .days
            .lock()
            .map(|m| m.keys().map(|k| k.0).collect())
            .unwrap_or_default();
        d.dedup();
        d
    }

    /// Drops every keyspace of `day`.
    pub fn drop_day(&self, day: i64) -> Result<(), StoreError> {
        for kind in 0..PREFIXES.len() as u8 {
            let ks = self
                .days
                .lock()
                .map_err(|_| StoreError::Disk("event day map poisoned".into()))?
                .remove(&(day, kind));
            if let Some(ks) = ks {
                self.db.delete_keyspace(ks).map_err(db_err)?;
            }
        }
        Ok(())
    }
}
