//! The head: every series' recent samples in memory, in an open Gorilla chunk (cut at 120
//! samples or a day boundary), cut chunks waiting for the next flush, and out-of-order samples
//! inside the configured window. Everything here is also in the WAL until it is flushed.

use crate::chunk::{Chunk, gorilla};
use crate::index::Index;
use crate::{DAY_MS, SeriesRef};

/// Samples per head chunk before it is cut.
pub const CHUNK_SAMPLES: u32 = 120;

/// Newest samples each series keeps undecoded, for short reads (a `rate` over the last minute
/// at a 15-second scrape needs five, and one before them to know it has them all).
pub const TAIL: usize = 6;

/// What happened to one appended sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Appended in order.
    Appended,
    /// Older than the newest sample but inside the out-of-order window: kept.
    OutOfOrder,
    /// Same timestamp and value as a sample already kept: ignored.
    Duplicate,
    /// Same timestamp as a sample already kept, different value: rejected.
    Conflict,
    /// Older than the out-of-order window: rejected.
    TooOld,
}

#[derive(Debug, Clone)]
struct Open {
    enc: gorilla::Encoder,
    min_t: i64,
}

/// One series in memory.
#[derive(Debug, Clone)]
pub struct MemSeries {
    open: Option<Open>,
    sealed: Vec<Chunk>,
    ooo: Vec<(i64, f64)>,
    /// First timestamp ever accepted for the series (kept across restarts).
    pub first_t: i64,
    /// Newest timestamp accepted.
    pub max_t: i64,
    /// Newest timestamp on disk outside the head's `recent` chunks: a read of a range that
    /// starts after it needs nothing from the disk.
    pub disk_max_t: i64,
    last_bits: u64,
    /// The newest samples appended in order, oldest first (`tail_len` of them).
    tail: [(i64, f64); TAIL],
    tail_len: u8,
}

impl Default for MemSeries {
    fn default() -> Self {
        Self {
            open: None,
            sealed: Vec::new(),
            ooo: Vec::new(),
            first_t: i64::MAX,
            max_t: i64::MIN,
            disk_max_t: i64::MIN,
            last_bits: 0,
            tail: [(0, 0.0); TAIL],
            tail_len: 0,
        }
    }
}

impl MemSeries {
    /// What appending `(t, v)` would do, without doing it.
    pub fn check(&self, t: i64, v: f64, ooo_window: i64) -> Outcome {
        if self.max_t == i64::MIN || t > self.max_t {
            return Outcome::Appended;
        }
        if t == self.max_t {
            return if v.to_bits() == self.last_bits {
                Outcome::Duplicate
            } else {
                Outcome::Conflict
            };
        }
        if t <= self.max_t - ooo_window {
            return Outcome::TooOld;
        }
        match self.ooo.binary_search_by_key(&t, |s| s.0) {
            Ok(i) if self.ooo[i].1.to_bits() == v.to_bits() => Outcome::Duplicate,
            Ok(_) => Outcome::Conflict,
            Err(_) => Outcome::OutOfOrder,
        }
    }

    /// Applies a sample that [`MemSeries::check`] classified as `Appended` or `OutOfOrder`.
    pub fn apply(&mut self, t: i64, v: f64, outcome: Outcome) {
        self.first_t = self.first_t.min(t);
        match outcome {
            Outcome::Appended => {
                let cut = self.open.as_ref().is_some_and(|o| {
                    o.enc.count() >= CHUNK_SAMPLES
                        || o.min_t.div_euclid(DAY_MS) != t.div_euclid(DAY_MS)
                });
                if cut {
                    self.cut();
                }
                let open = self.open.get_or_insert_with(|| Open {
                    enc: gorilla::Encoder::new(),
                    min_t: t,
                });
                open.enc.push(t, v);
                self.max_t = t;
                self.last_bits = v.to_bits();
                if usize::from(self.tail_len) == TAIL {
                    self.tail.rotate_left(1);
                    self.tail[TAIL - 1] = (t, v);
                } else {
                    self.tail[usize::from(self.tail_len)] = (t, v);
                    self.tail_len += 1;
                }
            }
            Outcome::OutOfOrder => {
                if let Err(i) = self.ooo.binary_search_by_key(&t, |s| s.0) {
                    self.ooo.insert(i, (t, v));
                }
            }
            _ => {}
        }
    }

    fn cut(&mut self) {
        if let Some(o) = self.open.take() {
            let count = o.enc.count();
            if count > 0 {
                self.sealed.push(Chunk {
                    encoding: crate::chunk::GORILLA,
                    count,
                    min_t: o.min_t,
                    max_t: o.enc.last_t(),
                    payload: o.enc.bytes().to_vec(),
                });
            }
        }
    }

    /// Takes every chunk the series holds (open chunk and out-of-order samples included),
    /// leaving it empty but remembering its newest sample.
    pub fn take_chunks(&mut self) -> Vec<Chunk> {
        self.cut();
        let mut out = std::mem::take(&mut self.sealed);
        let ooo = std::mem::take(&mut self.ooo);
        let mut start = 0;
        while start < ooo.len() {
            let day = ooo[start].0.div_euclid(DAY_MS);
            let end = ooo[start..]
                .iter()
                .position(|s| s.0.div_euclid(DAY_MS) != day)
                .map_or(ooo.len(), |p| start + p);
            if let Some(c) = Chunk::gorilla(&ooo[start..end]) {
                out.push(c);
            }
            start = end;
        }
        out
    }

    /// Appends the samples in `[mint, maxt]` held in memory (not sorted across chunks).
    pub fn samples_in(&self, mint: i64, maxt: i64, out: &mut Vec<(i64, f64)>) {
        for c in &self.sealed {
            if c.max_t >= mint && c.min_t <= maxt {
                let at = out.len();
                if c.decode_range(mint, maxt, out).is_err() {
                    out.truncate(at);
                }
            }
        }
        if let Some(o) = &self.open
            && o.min_t <= maxt
            && o.enc.last_t() >= mint
        {
            let at = out.len();
            if gorilla::decode_range(o.enc.bytes(), o.enc.count(), mint, maxt, out).is_none() {
                out.truncate(at);
            }
        }
        out.extend(
            self.ooo
                .iter()
                .copied()
                .filter(|s| s.0 >= mint && s.0 <= maxt),
        );
    }

    /// The samples in `[mint, maxt]` when the tail holds them all (it holds every sample
    /// from its oldest on, and that one is before `mint`, and no out-of-order sample is in
    /// the range); `None` when they must be decoded.
    pub fn tail_in(&self, mint: i64, maxt: i64) -> Option<&[(i64, f64)]> {
        let tail = &self.tail[..usize::from(self.tail_len)];
        if tail.len() < TAIL || tail[0].0 >= mint || self.max_t <= self.disk_max_t {
            return None;
        }
        if self.ooo.iter().any(|s| s.0 >= mint && s.0 <= maxt) {
            return None;
        }
        let from = tail.partition_point(|s| s.0 < mint);
        let to = tail.partition_point(|s| s.0 <= maxt);
        Some(&tail[from..to.max(from)])
    }

    /// The value of the newest sample appended (meaningful once one was, since the start).
    pub fn last_value(&self) -> f64 {
        f64::from_bits(self.last_bits)
    }

    /// Samples held in memory.
    pub fn len(&self) -> u64 {
        self.sealed.iter().map(|c| u64::from(c.count)).sum::<u64>()
            + self.open.as_ref().map_or(0, |o| u64::from(o.enc.count()))
            + self.ooo.len() as u64
    }

    /// True when nothing is held in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of sample data held in memory.
    pub fn bytes(&self) -> usize {
        self.sealed.iter().map(|c| c.payload.len()).sum::<usize>()
            + self.open.as_ref().map_or(0, |o| o.enc.bytes().len())
            + self.ooo.len() * 16
    }

    /// A series known from disk, whose newest sample is `max_t`.
    pub fn restored(first_t: i64, max_t: i64) -> Self {
        Self {
            first_t,
            max_t,
            disk_max_t: max_t,
            ..Self::default()
        }
    }
}

/// Index and series data of the head.
#[derive(Debug, Default)]
pub struct Head {
    /// The series index.
    pub index: Index,
    /// Series data, by ref.
    pub series: Vec<MemSeries>,
    /// Flushed chunks kept in memory, in ref order (older chunks first within a series): the
    /// last flush's, so that readers see them while they are written, and every chunk within
    /// the memory window, so that recent data is read without touching the disk.
    pub recent: Vec<(SeriesRef, Chunk)>,
    /// Chunks of a flush that failed to write them; the next flush writes them again.
    pub unwritten: Vec<(SeriesRef, Chunk)>,
    /// Series `0..persisted` are on disk; later ones are only in the WAL until the next flush.
    pub persisted: usize,
}

impl Head {
    /// Samples held in memory, all series.
    pub fn samples(&self) -> u64 {
        self.series.iter().map(MemSeries::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::STALE_NAN;

    #[test]
    fn classification() {
        let mut s = MemSeries::default();
        for (t, v) in [(1000, 1.0), (2000, 2.0), (3000, 3.0)] {
            let o = s.check(t, v, 60_000);
            assert_eq!(o, Outcome::Appended);
            s.apply(t, v, o);
        }
        assert_eq!(s.check(3000, 3.0, 60_000), Outcome::Duplicate);
        assert_eq!(s.check(3000, 4.0, 60_000), Outcome::Conflict);
        assert_eq!(s.check(2500, 9.0, 60_000), Outcome::OutOfOrder);
        s.apply(2500, 9.0, Outcome::OutOfOrder);
        assert_eq!(s.check(2500, 9.0, 60_000), Outcome::Duplicate);
        assert_eq!(s.check(2500, 8.0, 60_000), Outcome::Conflict);
        assert_eq!(s.check(500, 1.0, 0), Outcome::TooOld);
        assert_eq!(s.check(3000 - 60_000, 1.0, 60_000), Outcome::TooOld);
        let mut got = Vec::new();
        s.samples_in(0, 10_000, &mut got);
        got.sort_by_key(|x| x.0);
        assert_eq!(
            got,
            vec![(1000, 1.0), (2000, 2.0), (2500, 9.0), (3000, 3.0)]
        );
    }

    #[test]
    fn chunks_are_cut_by_count_and_day() {
        let mut s = MemSeries::default();
        let t0 = DAY_MS - 100 * 15_000;
        for i in 0..300 {
            let t = t0 + i * 15_000;
            s.apply(t, i as f64, Outcome::Appended);
        }
        s.apply(t0 - 1000, STALE_NAN, Outcome::OutOfOrder);
        let chunks = s.take_chunks();
        assert!(chunks.iter().all(|c| c.count <= CHUNK_SAMPLES));
        assert!(
            chunks
                .iter()
                .all(|c| c.min_t.div_euclid(DAY_MS) == c.max_t.div_euclid(DAY_MS))
        );
        assert_eq!(chunks.iter().map(|c| c.count).sum::<u32>(), 301);
        assert!(s.is_empty());
        assert_eq!(s.check(t0 + 299 * 15_000, 299.0, 0), Outcome::Duplicate);
    }
}
