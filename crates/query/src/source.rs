//! Where the engine reads samples from: the store, or an in-memory set of series.

use kubepulse_model::{Labels, METRIC_NAME, Sample};
use kubepulse_store::{MatchOp, Matcher, Read, SeriesSamples};

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

/// Series held in memory (tests, the PromQL test runner).
#[derive(Debug, Default, Clone)]
pub struct MemSource {
    series: Vec<SeriesSamples>,
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
        let s = &mut self.series[i].samples;
        for (t, v) in samples {
            match s.binary_search_by_key(&t, |x| x.t) {
                Ok(j) => s[j].v = v,
                Err(j) => s.insert(j, Sample { t, v }),
            }
        }
    }

    /// Removes every series.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    /// Whether any series matches all of `matchers`.
    pub fn any_match(&self, matchers: &[Matcher]) -> bool {
        self.series.iter().any(|s| {
            matchers
                .iter()
                .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
        })
    }
}

impl MemSource {
    /// The series an equality matcher on the metric name narrows the search to (all of them
    /// without one). Series are sorted by labels, and `__name__` sorts first among label names,
    /// so one name's series are contiguous.
    fn candidates(&self, matchers: &[Matcher]) -> &[SeriesSamples] {
        let Some(name) = matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            .map(|m| m.value.as_str())
        else {
            return &self.series;
        };
        // Series without a name sort after every named one.
        let lo = self
            .series
            .partition_point(|s| s.labels.get(METRIC_NAME).is_some_and(|n| n < name));
        let hi = self
            .series
            .partition_point(|s| s.labels.get(METRIC_NAME).is_some_and(|n| n <= name));
        &self.series[lo..hi.max(lo)]
    }
}

impl Source for MemSource {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        Ok(self
            .candidates(matchers)
            .iter()
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .filter_map(|s| {
                let from = s.samples.partition_point(|x| x.t < mint);
                let to = s.samples.partition_point(|x| x.t <= maxt);
                let samples = s.samples[from..to.max(from)].to_vec();
                (!samples.is_empty()).then(|| SeriesSamples {
                    labels: s.labels.clone(),
                    samples,
                })
            })
            .collect())
    }
}
