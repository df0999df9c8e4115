//! Building instant-vector results: series found by labels, points appended step by step, and
//! Prometheus' rule that one result cannot hold two samples with the same labels at one step.

use foldhash::HashMap;

use kubepulse_model::Labels;

use crate::QueryError;
use crate::error::exec;
use crate::value::Series;

const DUPLICATE: &str = "vector cannot contain metrics with the same labelset";

/// Result series under construction, in order of first appearance.
#[derive(Debug, Default)]
pub(crate) struct Output {
    index: HashMap<Labels, usize>,
    series: Vec<Series>,
    unsorted: Vec<usize>,
}

impl Output {
    /// The slot of the series with these labels, created if new.
    pub fn slot(&mut self, labels: Labels) -> usize {
        if let Some(&i) = self.index.get(&labels) {
            return i;
        }
        let i = self.series.len();
        self.series.push(Series {
            labels: labels.clone(),
            points: Vec::new(),
        });
        self.index.insert(labels, i);
        i
    }

    /// Appends a point; a second point at the same time is an error.
    pub fn push(&mut self, slot: usize, t: i64, v: f64) -> Result<(), QueryError> {
        let s = &mut self.series[slot];
        match s.points.last() {
            Some(&(last, _)) if last == t => return Err(exec(DUPLICATE)),
            Some(&(last, _)) if last > t && self.unsorted.last() != Some(&slot) => {
                self.unsorted.push(slot);
            }
            _ => {}
        }
        s.points.push((t, v));
        Ok(())
    }

    /// The series that received points, each in time order.
    pub fn finish(mut self) -> Result<Vec<Series>, QueryError> {
        self.unsorted.sort_unstable();
        self.unsorted.dedup();
        for &i in &self.unsorted {
            let p = &mut self.series[i].points;
            p.sort_by_key(|x| x.0);
            if p.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(exec(DUPLICATE));
            }
        }
        self.series.retain(|s| !s.points.is_empty());
        Ok(self.series)
    }
}

/// Walks series step by step: at each step, which series have a point and its value.
#[derive(Debug)]
pub(crate) struct StepWalk {
    pos: Vec<usize>,
}

impl StepWalk {
    /// A walk over `n` series from their first points.
    pub fn new(n: usize) -> Self {
        Self { pos: vec![0; n] }
    }

    /// Fills `buf` with `(series index, value)` for each series with a point at `t`. Calls
    /// must come in increasing `t`.
    pub fn at(&mut self, series: &[Series], t: i64, buf: &mut Vec<(usize, f64)>) {
        buf.clear();
        for (i, s) in series.iter().enumerate() {
            let p = &mut self.pos[i];
            while *p < s.points.len() && s.points[*p].0 < t {
                *p += 1;
            }
            if let Some(&(pt, v)) = s.points.get(*p)
                && pt == t
            {
                buf.push((i, v));
            }
        }
    }
}
