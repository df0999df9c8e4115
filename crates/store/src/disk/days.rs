//! The day keyspaces. Day `D` lives in keyspace `chunks_d<D>_g<G>`, where the generation `G`
//! grows each time compaction rewrites the day. The `meta` key `day_d<D>` names the current
//! generation and the compaction windows written since the day was last compacted (its
//! "dirty" windows); keyspaces of any other generation are leftovers of an interrupted
//! compaction and are deleted at open.

use std::collections::{BTreeMap, BTreeSet};

use fjall::config::{CompressionPolicy, FilterPolicy};
use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use tracing::warn;

use super::db_err;
use crate::{DAY_MS, StoreError};

/// A day keyspace and what is known about it.
#[derive(Clone)]
pub struct Day {
    /// The keyspace of the current generation.
    pub ks: Keyspace,
    /// Current generation.
    pub generation: u64,
    /// Start times of the windows written since the last compaction.
    pub dirty: BTreeSet<i64>,
}

/// Options of a day keyspace: chunks are already compressed and are only read by series
/// prefix, so blocks are not compressed again and carry no point-lookup filters.
fn day_opts() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(8 << 20)
        .data_block_compression_policy(CompressionPolicy::disabled())
        .filter_policy(FilterPolicy::disabled())
}

/// Name of day `day`'s keyspace of generation `generation`.
pub fn name(day: i64, generation: u64) -> String {
    format!("chunks_d{day}_g{generation}")
}

fn parse_name(name: &str) -> Option<(i64, u64)> {
    let (day, generation) = name.strip_prefix("chunks_d")?.split_once("_g")?;
    Some((day.parse().ok()?, generation.parse().ok()?))
}

/// The `meta` key of day `day`.
pub fn meta_key(day: i64) -> String {
    format!("day_d{day}")
}

/// The `meta` value of a day: generation then dirty window starts, little-endian.
pub fn meta_value(generation: u64, dirty: &BTreeSet<i64>) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + 8 * dirty.len());
    v.extend_from_slice(&generation.to_le_bytes());
    for w in dirty {
        v.extend_from_slice(&w.to_le_bytes());
    }
    v
}

fn parse_meta_value(v: &[u8]) -> Option<(u64, BTreeSet<i64>)> {
    if v.len() < 8 || !v.len().is_multiple_of(8) {
        return None;
    }
    let mut words = v
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).unwrap_or([0; 8]));
    let generation = u64::from_le_bytes(words.next()?);
    Some((generation, words.map(i64::from_le_bytes).collect()))
}

/// Every window start of day `day`.
pub fn all_windows(day: i64, window_ms: i64) -> BTreeSet<i64> {
    (0..DAY_MS / window_ms)
        .map(|i| day * DAY_MS + i * window_ms)
        .collect()
}

/// Opens (creating) day `day`'s keyspace of `generation`.
pub fn open_keyspace(db: &Database, day: i64, generation: u64) -> Result<Keyspace, StoreError> {
    db.keyspace(&name(day, generation), day_opts)
        .map_err(db_err)
}

/// Loads the days: keyspaces of the generation `meta` names are kept, other generations are
/// deleted, and a keyspace `meta` does not know (written by a flush that did not commit) is
/// adopted with every window dirty so that compaction folds it in.
pub fn load(
    db: &Database,
    meta: &Keyspace,
    window_ms: i64,
) -> Result<BTreeMap<i64, Day>, StoreError> {
    let mut known = BTreeMap::new();
    for kv in meta.prefix("day_d") {
        let (k, v) = kv.into_inner().map_err(db_err)?;
        let day = std::str::from_utf8(&k)
            .ok()
            .and_then(|k| k.strip_prefix("day_d"))
            .and_then(|d| d.parse::<i64>().ok());
        match (day, parse_meta_value(&v)) {
            (Some(day), Some(state)) => {
                known.insert(day, state);
            }
            _ => return Err(StoreError::Corrupt("day record in meta".into())),
        }
    }
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    let mut stale = Vec::new();
    for ks_name in db.list_keyspace_names() {
        let Some((day, generation)) = parse_name(&ks_name) else {
            continue;
        };
        let keep = match known.get(&day) {
            Some((g, _)) => *g == generation,
            None => days.get(&day).is_none_or(|d| d.generation < generation),
        };
        if !keep {
            stale.push((day, generation));
            continue;
        }
        let dirty = match known.get(&day) {
            Some((_, dirty)) => dirty.clone(),
            None => all_windows(day, window_ms),
        };
        let ks = open_keyspace(db, day, generation)?;
        if let Some(old) = days.insert(
            day,
            Day {
                ks,
                generation,
                dirty,
            },
        ) {
            stale.push((day, old.generation));
        }
    }
    for (day, generation) in stale {
        warn!(
            keyspace = name(day, generation),
            "deleting a chunk keyspace left by an interrupted compaction"
        );
        let ks = open_keyspace(db, day, generation)?;
        db.delete_keyspace(ks).map_err(db_err)?;
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_meta_round_trip() {
        assert_eq!(parse_name(&name(-3, 7)), Some((-3, 7)));
        assert_eq!(parse_name("chunks_d12"), None);
        assert_eq!(parse_name("events_d12"), None);
        let dirty: BTreeSet<i64> = [5, 9, -1].into_iter().collect();
        assert_eq!(
            parse_meta_value(&meta_value(4, &dirty)),
            Some((4, dirty.clone()))
        );
        assert_eq!(parse_meta_value(&[1, 2, 3]), None);
        assert_eq!(all_windows(1, DAY_MS / 4).len(), 4);
        assert_eq!(all_windows(1, DAY_MS / 4).first(), Some(&DAY_MS));
    }
}
