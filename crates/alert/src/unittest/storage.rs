//! The storage of a unit test: input series and rule outputs in memory, shared between the
//! evaluation (which writes) and the queries (which read).

use std::sync::{Arc, RwLock};

use kubepulse_query::{MemSource, QueryError, Sample, Source};
use kubepulse_store::{Matcher, SeriesSamples};

/// Series in memory behind a lock; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<RwLock<MemSource>>);

impl Shared {
    /// Adds samples.
    pub fn add(&self, samples: &[Sample]) {
        let mut m = self.0.write().unwrap_or_else(|e| e.into_inner());
        for s in samples {
            m.add(s.labels.clone(), [(s.t, s.v)]);
        }
    }
}

impl Source for Shared {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        let m = self.0.read().unwrap_or_else(|e| e.into_inner());
        m.select(matchers, mint, maxt)
    }
}
