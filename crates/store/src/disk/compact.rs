//! Compaction of a day: the day is rewritten into a keyspace of the next generation, in key
//! order and through bulk ingestion (straight into sorted tables, no journal, no dead
//! versions). Every series' chunks of each closed window become one pco chunk; chunks of open
//! windows are copied as they are. The new generation becomes current in one `meta` write,
//! then the old keyspace is deleted.

use fjall::{Keyspace, PersistMode, Slice};

use super::{Disk, chunk_key, days, db_err, merge, parse_chunk_key};
use crate::chunk::{Chunk, GORILLA};
use crate::{SeriesRef, StoreError};

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactStats {
    /// Chunks read.
    pub chunks_in: u64,
    /// Chunks written.
    pub chunks_out: u64,
}

/// One series' chunks of one window, in key order.
struct Group {
    r: SeriesRef,
    window: i64,
    /// Key, flush sequence and stored bytes of each chunk.
    chunks: Vec<(Slice, u64, Slice)>,
}

impl Disk {
    /// Rewrites day `day` when a window written since its last compaction has closed (ends at or
    /// before `closed_before`), merging each series' chunks of every closed window into one pco
    /// chunk tagged with flush sequence `seq`. Later flushes win over earlier ones for equal
    /// timestamps.
    pub fn compact_day(
        &self,
        day: i64,
        closed_before: i64,
        seq: u64,
    ) -> Result<CompactStats, StoreError> {
        let _writer = self.writer()?;
        let Some(current) = self.day_state(day)? else {
            return Ok(CompactStats::default());
        };
        let window_ms = self.window_ms;
        let closed = |w: i64| w + window_ms <= closed_before;
        if !current.dirty.iter().any(|&w| closed(w)) {
            return Ok(CompactStats::default());
        }
        let generation = current.generation + 1;
        let next = days::open_keyspace(&self.db, day, generation)?;
        let stats = match rewrite(&current.ks, &next, window_ms, &closed, seq) {
            Ok(s) => s,
            Err(e) => {
                self.db.delete_keyspace(next).map_err(db_err)?;
                return Err(e);
            }
        };
        let dirty = current
            .dirty
            .iter()
            .copied()
            .filter(|&w| !closed(w))
            .collect();
        self.meta
            .insert(days::meta_key(day), days::meta_value(generation, &dirty))
            .map_err(db_err)?;
        self.db.persist(PersistMode::SyncData).map_err(db_err)?;
        self.days_mut()?.insert(
            day,
            days::Day {
                ks: next,
                generation,
                dirty,
            },
        );
        self.db.delete_keyspace(current.ks).map_err(db_err)?;
        Ok(stats)
    }
}

fn rewrite(
    from: &Keyspace,
    to: &Keyspace,
    window_ms: i64,
    closed: &dyn Fn(i64) -> bool,
    seq: u64,
) -> Result<CompactStats, StoreError> {
    let mut stats = CompactStats::default();
    let mut ingestion = to.start_ingestion().map_err(db_err)?;
    let mut out = |k: Slice, v: Slice| ingestion.write(k, v).map_err(db_err);
    let mut group: Option<Group> = None;
    for kv in from.iter() {
        let (k, v) = kv.into_inner().map_err(db_err)?;
        let Some((r, min_t, s)) = parse_chunk_key(&k) else {
            continue;
        };
        let window = min_t - min_t.rem_euclid(window_ms);
        match &mut group {
            Some(g) if g.r == r && g.window == window => g.chunks.push((k, s, v)),
            _ => {
                if let Some(g) = group.take() {
                    emit(&mut out, g, closed, seq, &mut stats)?;
                }
                group = Some(Group {
                    r,
                    window,
                    chunks: vec![(k, s, v)],
                });
            }
        }
    }
    if let Some(g) = group {
        emit(&mut out, g, closed, seq, &mut stats)?;
    }
    ingestion.finish().map_err(db_err)?;
    Ok(stats)
}

/// Writes a group: merged into one pco chunk when its window is closed and it holds more than
/// one chunk or a Gorilla chunk, as it is otherwise.
fn emit(
    out: &mut dyn FnMut(Slice, Slice) -> Result<(), StoreError>,
    mut g: Group,
    closed: &dyn Fn(i64) -> bool,
    seq: u64,
    stats: &mut CompactStats,
) -> Result<(), StoreError> {
    let needed = g.chunks.len() > 1 || g.chunks.iter().any(|(_, _, b)| b.first() == Some(&GORILLA));
    if closed(g.window) && needed {
        g.chunks.sort_by_key(|(_, s, _)| *s);
        let decoded = g
            .chunks
            .iter()
            .map(|(_, _, b)| Chunk::from_bytes(b))
            .collect::<Result<Vec<_>, _>>()?;
        let c = merge(decoded.iter())?;
        out(
            Slice::from(chunk_key(g.r, c.min_t, seq)),
            Slice::from(c.to_bytes()),
        )?;
        stats.chunks_in += g.chunks.len() as u64;
        stats.chunks_out += 1;
        return Ok(());
    }
    for (k, _, b) in g.chunks {
        out(k, b)?;
    }
    Ok(())
}
