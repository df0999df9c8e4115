//! Where the engine reads samples from: the store, or an in-memory set of series.

use kubepulse_model::{Labels, METRIC_NAME, Sample};
use kubepulse_store::{MatchOp, Matcher, Read, SeriesRef, SeriesSamples};

use crate::QueryError;

/// Series and their samples, selected by label matchers.
pub trait Source: Sync {
    /// Series matching every matcher with their samples in `[mint, maxt]`, sorted by labels.
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError>;
}

/// A source whose series have ids, valid while its generation stays the same, and whose
/// samples are read by id without matching labels again.
pub trait IdSource {
    /// Changes whenever a series is added or removed.
    fn generation(&self) -> u64;

    /// Labels of the series added since `generation`, when the source can tell (and none
    /// was removed); `None` otherwise.
    fn added_since(&self, generation: u64) -> Result<Option<Vec<Labels>>, QueryError>;

    /// Ids and labels of the series matching every matcher that may have samples in
    /// `[mint, maxt]`, sorted by labels.
    fn series_ids(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u64, Labels)>, QueryError>;

    /// Samples of each series of `ids` in `[mint, maxt]` in time order (only the newest with
    /// `newest`), appended to `out`; after each series the length of `out` is pushed to
    /// `ends`.
    fn read_ids(
        &self,
        ids: &[u64],
        mint: i64,
        maxt: i64,
        newest: bool,
        out: &mut Vec<Sample>,
        ends: &mut Vec<usize>,
    ) -> Result<(), QueryError>;
}

/// The store behind a `dyn Read`, as a source.
pub struct StoreSource<'a>(pub &'a dyn Read);

impl Source for StoreSource<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        let mut v = self.0.select(matchers, mint, maxt)?;
        v.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        Ok(v)
    }
}

impl IdSource for StoreSource<'_> {
    fn generation(&self) -> u64 {
        self.0.generation()
    }

    fn added_since(&self, generation: u64) -> Result<Option<Vec<Labels>>, QueryError> {
        Ok(Some(self.0.series_since(generation)?))
    }

    fn series_ids(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u64, Labels)>, QueryError> {
        let v = self.0.series_refs(matchers, mint, maxt)?;
        Ok(v.into_iter().map(|(r, l)| (u64::from(r.0), l)).collect())
    }

    fn read_ids(
        &self,
        ids: &[u64],
        mint: i64,
        maxt: i64,
        newest: bool,
        out: &mut Vec<Sample>,
        ends: &mut Vec<usize>,
    ) -> Result<(), QueryError> {
        let refs: Vec<SeriesRef> = ids
            .iter()
            .map(|&i| SeriesRef(u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Ok(self.0.read_refs(&refs, mint, maxt, newest, out, ends)?)
    }
}

/// Series held in memory (tests, the PromQL test runner).
#[derive(Debug, Default, Clone)]
pub struct MemSource {
    series: Vec<SeriesSamples>,
    generation: u64,
}

impl MemSource {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds samples to the series with these labels (creating it), keeping time order; a
    /// sample at an existing timestamp replaces it.
    pub fn add(&mut self, labels: Labels, samples: impl IntoIterator<Item = (i64, f64)>) {
        let i = match self.series.binary_search_by(|s| s.labels.cmp(&labels)) {
            Ok(i) => i,
            Err(i) => {
                self.generation += 1;
                self.series.insert(
                    i,
                    SeriesSamples {
                        labels,
                        samples: Vec::new(),
                    },
                );
                i
            }
        };
        put(&mut self.series[i].samples, samples);
    }

    /// Removes every series.
    pub fn clear(&mut self) {
        self.generation += 1;
        self.series.clear();
    }

    /// Whether any series matches all of `matchers`.
    pub fn any_match(&self, matchers: &[Matcher]) -> bool {
        self.series.iter().any(|s| Self::matches(s, matchers))
    }
}

impl MemSource {
    /// The series an equality matcher on the metric name narrows the search to (all of them
    /// without one). Series are sorted by labels, and `__name__` sorts first among label names,
    /// so one name's series are contiguous.
    fn candidates(&self, matchers: &[Matcher]) -> std::ops::Range<usize> {
        let Some(name) = matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            .map(|m| m.value.as_str())
        else {
            return 0..self.series.len();
        };
        // Series without a name sort after every named one.
        let lo = self
            .series
            .partition_point(|s| s.labels.get(METRIC_NAME).is_some_and(|n| n < name));
        let hi = self
            .series
            .partition_point(|s| s.labels.get(METRIC_NAME).is_some_and(|n| n <= name));
        lo..hi.max(lo)
    }
}

/// Adds samples to a time-ordered list; a sample at an existing timestamp replaces it.
fn put(s: &mut Vec<Sample>, samples: impl IntoIterator<Item = (i64, f64)>) {
    for (t, v) in samples {
        if s.last().is_none_or(|l| l.t < t) {
            s.push(Sample { t, v });
            continue;
        }
        match s.binary_search_by_key(&t, |x| x.t) {
            Ok(j) => s[j].v = v,
            Err(j) => s.insert(j, Sample { t, v }),
        }
    }
}

/// Many series at once: what [`MemSource::add`] does for each, sorting once.
impl Extend<(Labels, Vec<(i64, f64)>)> for MemSource {
    fn extend<I: IntoIterator<Item = (Labels, Vec<(i64, f64)>)>>(&mut self, iter: I) {
        let mut new: Vec<(Labels, Vec<(i64, f64)>)> = iter.into_iter().collect();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        let mut fresh: Vec<SeriesSamples> = Vec::new();
        for (labels, samples) in new {
            if self
                .series
                .binary_search_by(|s| s.labels.cmp(&labels))
                .is_ok()
            {
                self.add(labels, samples);
                continue;
            }
            match fresh.last_mut() {
                Some(f) if f.labels == labels => put(&mut f.samples, samples),
                _ => {
                    let mut s = SeriesSamples {
                        labels,
                        samples: Vec::new(),
                    };
                    put(&mut s.samples, samples);
                    fresh.push(s);
                }
            }
        }
        if !fresh.is_empty() {
            self.generation += 1;
            self.series.extend(fresh);
            self.series.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
    }
}

impl FromIterator<(Labels, Vec<(i64, f64)>)> for MemSource {
    fn from_iter<I: IntoIterator<Item = (Labels, Vec<(i64, f64)>)>>(iter: I) -> Self {
        let mut src = Self::new();
        src.extend(iter);
        src
    }
}

impl Source for MemSource {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        Ok(self.series[self.candidates(matchers)]
            .iter()
            .filter(|s| Self::matches(s, matchers))
            .filter_map(|s| {
                let span = Self::span(s, mint, maxt);
                (!span.is_empty()).then(|| SeriesSamples {
                    labels: s.labels.clone(),
                    samples: s.samples[span].to_vec(),
                })
            })
            .collect())
    }
}

impl MemSource {
    /// Whether a series matches every matcher.
    fn matches(s: &SeriesSamples, matchers: &[Matcher]) -> bool {
        matchers
            .iter()
            .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
    }

    /// Where a series' samples in `[mint, maxt]` are. Reads are mostly of the newest few
    /// samples: those are looked for from the end before searching.
    fn span(s: &SeriesSamples, mint: i64, maxt: i64) -> std::ops::Range<usize> {
        let x = &s.samples;
        let to = if x.last().is_some_and(|l| l.t <= maxt) {
            x.len()
        } else {
            x.partition_point(|p| p.t <= maxt)
        };
        let mut from = to;
        for _ in 0..8 {
            if from == 0 || x[from - 1].t < mint {
                return from..to;
            }
            from -= 1;
        }
        x[..from].partition_point(|p| p.t < mint)..to
    }
}

/// Ids are positions in the sorted list, which changes only when a series is added.
impl IdSource for MemSource {
    fn generation(&self) -> u64 {
        self.generation
    }

    /// Positions move when series are added: a `MemSource` cannot tell.
    fn added_since(&self, _generation: u64) -> Result<Option<Vec<Labels>>, QueryError> {
        Ok(None)
    }

    fn series_ids(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u64, Labels)>, QueryError> {
        Ok(self
            .candidates(matchers)
            .filter_map(|i| {
                let s = &self.series[i];
                (Self::matches(s, matchers) && !Self::span(s, mint, maxt).is_empty())
                    .then(|| (i as u64, s.labels.clone()))
            })
            .collect())
    }

    fn read_ids(
        &self,
        ids: &[u64],
        mint: i64,
        maxt: i64,
        newest: bool,
        out: &mut Vec<Sample>,
        ends: &mut Vec<usize>,
    ) -> Result<(), QueryError> {
        for &id in ids {
            if let Some(s) = usize::try_from(id).ok().and_then(|i| self.series.get(i)) {
                if newest {
                    let x = &s.samples;
                    let at = match x.last() {
                        Some(l) if l.t <= maxt => Some(l),
                        _ => x[..x.partition_point(|p| p.t <= maxt)].last(),
                    };
                    out.extend(at.filter(|p| p.t >= mint));
                } else {
                    out.extend_from_slice(&s.samples[Self::span(s, mint, maxt)]);
                }
            }
            ends.push(out.len());
        }
        Ok(())
    }
}
