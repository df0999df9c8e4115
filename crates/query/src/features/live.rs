//! Features kept up to date as time passes: each object's signal windows are held between calls,
//! and each call evaluates the signals only over the steps since the last one (one step when
//! called every interval) instead of over the whole long window again. The rows are the ones
//! [`super::compute`] gives for the same time.

use std::collections::BTreeMap;

use kubepulse_model::K8sEvent;

use super::{
    FeatureRow, FeatureSpec, ObjectKind, events, grid, signal_values, signals, window_len,
};
use crate::{Engine, QueryError, Source};

/// Object key → per signal, its window (oldest first).
type Windows = BTreeMap<(String, String), Vec<Vec<Option<f64>>>>;

/// One kind of object's windows, advanced step by step.
#[derive(Debug)]
pub struct Tracker {
    kind: ObjectKind,
    spec: FeatureSpec,
    last: Option<i64>,
    windows: Windows,
}

impl Tracker {
    /// A tracker with nothing seen yet.
    pub fn new(kind: ObjectKind, spec: FeatureSpec) -> Self {
        Self {
            kind,
            spec,
            last: None,
            windows: Windows::new(),
        }
    }

    /// Brings the windows up to `t` (rounded down to a step) and returns every object's row.
    pub fn advance(
        &mut self,
        engine: &Engine,
        src: &dyn Source,
        events: &[K8sEvent],
        t: i64,
    ) -> Result<Vec<FeatureRow>, QueryError> {
        let step = self.spec.step.max(1);
        let len = window_len(self.spec);
        let t = t - t.rem_euclid(step);
        let new = match self.last {
            Some(last) if t <= last => 0,
            Some(last) => (((t - last) / step) as usize).min(len),
            None => len,
        };
        if new > 0 {
            self.shift(engine, src, t, new)?;
            self.last = Some(t);
        }
        let index = events::EventIndex::new(events, self.kind);
        let at = self.last.unwrap_or(t);
        let mut rows = Vec::with_capacity(self.windows.len());
        let mut slices: Vec<&[Option<f64>]> = Vec::new();
        for (key, per) in &self.windows {
            slices.clear();
            slices.extend(per.iter().map(Vec::as_slice));
            if let Some(mut values) = signal_values(self.kind, &slices, self.spec) {
                index.counts(
                    key,
                    at,
                    self.spec.window,
                    self.spec.long_window,
                    &mut values,
                );
                rows.push(FeatureRow {
                    kind: self.kind,
                    namespace: key.0.clone(),
                    name: key.1.clone(),
                    t: at,
                    values,
                });
            }
        }
        Ok(rows)
    }

    /// Moves every window `new` steps on, filling them from the signals over those steps.
    fn shift(
        &mut self,
        engine: &Engine,
        src: &dyn Source,
        t: i64,
        new: usize,
    ) -> Result<(), QueryError> {
        let step = self.spec.step.max(1);
        let len = window_len(self.spec);
        let from = t - (new as i64 - 1) * step;
        let n_signals = signals(self.kind).len();
        for per in self.windows.values_mut() {
            for w in per.iter_mut() {
                w.rotate_left(new);
                w[len - new..].iter_mut().for_each(|p| *p = None);
            }
        }
        for (i, s) in signals(self.kind).iter().enumerate() {
            let g = grid(engine, src, s.expr, self.kind, from, t, step, new)?;
            for (key, points) in g {
                let per = self
                    .windows
                    .entry(key)
                    .or_insert_with(|| vec![vec![None; len]; n_signals]);
                per[i][len - new..].copy_from_slice(&points);
            }
        }
        self.windows
            .retain(|_, per| per.iter().any(|w| w.iter().any(Option::is_some)));
        Ok(())
    }
}
