//! Reading: series selection, sample merging across head and disk, label and event queries.

use kubepulse_model::{K8sEvent, Labels, ObjectRef, ObjectState, Sample};

use super::Db;
use crate::chunk::Chunk;
use crate::head::Head;
use crate::{EventQuery, Matcher, Read, SeriesRef, SeriesSamples, StoreError};

impl Db {
    /// Refs matching `matchers` whose data may overlap `[mint, maxt]`.
    fn matching(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesRef>, StoreError> {
        let head = self.head_read()?;
        Ok(head
            .index
            .select(matchers)
            .into_iter()
            .filter(|r| {
                head.series
                    .get(r.0 as usize)
                    .is_some_and(|s| s.first_t <= maxt && (s.max_t >= mint || s.max_t == i64::MIN))
            })
            .collect())
    }
}

/// A selected series with the samples memory held: ref, labels, samples, and, when the disk
/// holds samples in the range that memory may not, the newest timestamp to read from disk.
type HeadPart = (SeriesRef, Labels, Vec<(i64, f64)>, Option<i64>);

/// The samples memory holds for a series, and how far the disk must be read for the rest.
type Held = (Vec<(i64, f64)>, Option<i64>);

/// The last of `v` alone with `newest`, all of it otherwise.
fn newest_only<T>(v: &[T], newest: bool) -> &[T] {
    &v[if newest { v.len().saturating_sub(1) } else { 0 }..]
}

/// Sorts samples by time and keeps the last written of equal timestamps (the input lists older
/// sources first). Samples already in strictly increasing order, the usual case, are only
/// converted.
fn merge(mut v: Vec<(i64, f64)>) -> Vec<Sample> {
    if !v.windows(2).all(|w| w[0].0 < w[1].0) {
        v.reverse();
        v.sort_by_key(|s| s.0);
        v.dedup_by_key(|s| s.0);
    }
    v.into_iter().map(|(t, v)| Sample { t, v }).collect()
}

fn increasing(v: &[(i64, f64)]) -> bool {
    v.windows(2).all(|w| w[0].0 < w[1].0)
}

/// Merges older samples `disk` with newer `mem`: the newer wins on equal timestamps.
fn merge_two(disk: Vec<(i64, f64)>, mem: Vec<(i64, f64)>) -> Vec<Sample> {
    if !increasing(&disk) || !increasing(&mem) {
        let mut all = disk;
        all.extend(mem);
        return merge(all);
    }
    let mut out = Vec::with_capacity(disk.len() + mem.len());
    let (mut a, mut b) = (disk.into_iter().peekable(), mem.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 < y.0 => a.next(),
            (Some(x), Some(y)) if x.0 == y.0 => {
                a.next();
                b.next()
            }
            (_, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        if let Some((t, v)) = next {
            out.push(Sample { t, v });
        }
    }
    out
}

impl Db {
    /// The samples memory holds for series `r` in `[mint, maxt]`, and how far the disk must be
    /// read; `None` when the series has no data in the range.
    fn head_part(
        head: &Head,
        r: SeriesRef,
        mint: i64,
        maxt: i64,
    ) -> Result<Option<Held>, StoreError> {
        let Some(s) = head.series.get(r.0 as usize) else {
            return Ok(None);
        };
        if s.first_t > maxt || (s.max_t < mint && s.max_t != i64::MIN) {
            return Ok(None);
        }
        let mut mem = Vec::new();
        let from = head.recent.partition_point(|(fr, _)| *fr < r);
        for (_, c) in head.recent[from..].iter().take_while(|(fr, _)| *fr == r) {
            if c.max_t >= mint && c.min_t <= maxt {
                c.decode_range(mint, maxt, &mut mem)?;
            }
        }
        s.samples_in(mint, maxt, &mut mem);
        let disk_to = (s.disk_max_t >= mint).then_some(s.disk_max_t.min(maxt));
        Ok(Some((mem, disk_to)))
    }

    /// A series' samples: those memory holds merged with the disk's up to `disk_to`.
    fn with_disk(
        &self,
        r: SeriesRef,
        mint: i64,
        mem: Vec<(i64, f64)>,
        disk_to: Option<i64>,
    ) -> Result<Vec<Sample>, StoreError> {
        let mut disk = Vec::new();
        if let Some(to) = disk_to {
            // Everything on disk after `to` is also in memory.
            let mut chunks = self.inner.disk.chunks(r, mint, to)?;
            chunks.sort_by_key(|(seq, _)| *seq);
            for (_, c) in chunks {
                Chunk::decode_stored(&c, mint, to, &mut disk)?;
            }
        }
        Ok(if disk.is_empty() {
            merge(mem)
        } else {
            merge_two(disk, mem)
        })
    }
}

impl Read for Db {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, StoreError> {
        // Memory is read before the disk, under the head lock: the head and the flushed chunks
        // kept in memory hold every sample after the series' `disk_max_t`, so the disk is read
        // only up to it (a series whose range starts after it is read from memory alone). A
        // flush in between can make a sample appear twice (the merge keeps one), never zero
        // times.
        let mut found: Vec<HeadPart> = Vec::new();
        {
            let head = self.head_read()?;
            for r in head.index.select(matchers) {
                if let Some((mem, disk_to)) = Self::head_part(&head, r, mint, maxt)? {
                    found.push((r, head.index.labels(r), mem, disk_to));
                }
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for (r, labels, mem, disk_to) in found {
            let samples = self.with_disk(r, mint, mem, disk_to)?;
            if !samples.is_empty() {
                out.push(SeriesSamples { labels, samples });
            }
        }
        Ok(out)
    }

    fn generation(&self) -> u64 {
        self.head_read().map_or(0, |h| h.series.len() as u64)
    }

    fn series_since(&self, generation: u64) -> Result<Vec<Labels>, StoreError> {
        let head = self.head_read()?;
        let from = usize::try_from(generation).unwrap_or(usize::MAX);
        Ok((from..head.series.len())
            .map(|r| head.index.labels(SeriesRef(r as u32)))
            .collect())
    }

    fn series_refs(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(SeriesRef, Labels)>, StoreError> {
        let refs = self.matching(matchers, mint, maxt)?;
        let head = self.head_read()?;
        let mut v: Vec<(SeriesRef, Labels)> = refs
            .into_iter()
            .map(|r| (r, head.index.labels(r)))
            .collect();
        v.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        Ok(v)
    }

    fn read_refs(
        &self,
        refs: &[SeriesRef],
        mint: i64,
        maxt: i64,
        newest: bool,
        out: &mut Vec<Sample>,
        ends: &mut Vec<usize>,
    ) -> Result<(), StoreError> {
        // Memory first, under the lock; series that need the disk too are read after it and
        // spliced in (rare: ranges older than what memory holds).
        let mut later: Vec<(usize, SeriesRef, Held)> = Vec::new();
        let first = ends.len();
        {
            let head = self.head_read()?;
            for (i, &r) in refs.iter().enumerate() {
                let s = head.series.get(r.0 as usize);
                // The newest sample appended since the start is at hand, undecoded.
                if newest
                    && let Some(s) = s
                    && s.max_t > s.disk_max_t
                    && (mint..=maxt).contains(&s.max_t)
                {
                    out.push(Sample {
                        t: s.max_t,
                        v: s.last_value(),
                    });
                } else if let Some(tail) = s.and_then(|s| s.tail_in(mint, maxt)) {
                    let tail = newest_only(tail, newest);
                    out.extend(tail.iter().map(|&(t, v)| Sample { t, v }));
                } else if let Some((held, disk_to)) = Self::head_part(&head, r, mint, maxt)? {
                    if disk_to.is_some() {
                        later.push((first + i, r, (held, disk_to)));
                    } else {
                        out.extend_from_slice(newest_only(&merge(held), newest));
                    }
                }
                ends.push(out.len());
            }
        }
        if later.is_empty() {
            return Ok(());
        }
        let base = if first == 0 { 0 } else { ends[first - 1] };
        let held: Vec<Sample> = out.drain(base..).collect();
        let bounds: Vec<usize> = ends.drain(first..).collect();
        let mut later = later.into_iter().peekable();
        let mut from = base;
        for (i, end) in bounds.into_iter().enumerate() {
            match later.next_if(|l| l.0 == first + i) {
                Some((_, r, (mem, disk_to))) => {
                    let v = self.with_disk(r, mint, mem, disk_to)?;
                    out.extend_from_slice(newest_only(&v, newest));
                }
                None => out.extend_from_slice(&held[from - base..end - base]),
            }
            from = end;
            ends.push(out.len());
        }
        Ok(())
    }

    fn series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        let refs = self.matching(matchers, mint, maxt)?;
        let head = self.head_read()?;
        let mut v: Vec<Labels> = refs.into_iter().map(|r| head.index.labels(r)).collect();
        v.sort();
        Ok(v)
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StoreError> {
        let refs = self.matching(matchers, mint, maxt)?;
        Ok(self.head_read()?.index.label_names(Some(&refs)))
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StoreError> {
        let refs = self.matching(matchers, mint, maxt)?;
        Ok(self.head_read()?.index.label_values(name, Some(&refs)))
    }

    fn events(&self, q: &EventQuery) -> Result<Vec<K8sEvent>, StoreError> {
        self.inner.events.events(q)
    }

    fn object_history(
        &self,
        object: &ObjectRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<ObjectState>, StoreError> {
        self.inner.events.history(object, start, end)
    }

    fn objects(&self, kind: &str) -> Result<Vec<ObjectState>, StoreError> {
        self.inner.events.latest(kind)
    }

    fn metadata(&self) -> std::collections::BTreeMap<String, Vec<kubepulse_model::MetricMeta>> {
        self.inner.metadata.all()
    }

    fn select_logs(&self, q: &crate::LogQuery<'_>) -> Result<Vec<crate::LogStream>, StoreError> {
        self.inner.logs.select(q)
    }

    fn log_streams(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<kubepulse_model::Labels>, StoreError> {
        self.inner.logs.streams(matchers, start_ns, end_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_two_prefers_memory() {
        let s = |v: &[(i64, f64)]| v.iter().map(|&(t, v)| Sample { t, v }).collect::<Vec<_>>();
        assert_eq!(
            merge_two(vec![(1, 1.0), (2, 1.0), (4, 1.0)], vec![(2, 2.0), (3, 2.0)]),
            s(&[(1, 1.0), (2, 2.0), (3, 2.0), (4, 1.0)])
        );
        assert_eq!(
            merge_two(vec![(3, 1.0), (1, 1.0)], vec![(1, 2.0)]),
            s(&[(1, 2.0), (3, 1.0)])
        );
    }

    #[test]
    fn merge_keeps_the_last_written() {
        let m = merge(vec![(2, 1.0), (1, 1.0), (2, 5.0), (3, 3.0)]);
        assert_eq!(
            m,
            vec![
                Sample { t: 1, v: 1.0 },
                Sample { t: 2, v: 5.0 },
                Sample { t: 3, v: 3.0 }
            ]
        );
    }
}
