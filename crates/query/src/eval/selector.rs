//! Selectors and subqueries: samples read from the source and placed on the steps (instant
//! vectors, with the 5-minute lookback and staleness markers) or kept raw for range functions
//! (matrix selectors and subqueries, windows closed at both ends as in Prometheus 2).

use kubepulse_model::STALE_NAN;
use kubepulse_store::{MatchOp, Matcher};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{MatrixSelector, SubqueryExpr, VectorSelector};

use super::{Evaluator, NAME, offset_ms};
use crate::error::exec;
use crate::value::{Series, Steps};
use crate::{QueryError, Value};

/// Whether a value is a staleness marker.
pub(crate) fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN.to_bits()
}

/// The store matchers of a selector, its metric name included.
pub(crate) fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
    let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(n) = &vs.name {
        out.push(Matcher::new(MatchOp::Equal, NAME, n.as_str())?);
    }
    for m in &vs.matchers.matchers {
        let op = match m.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::Re(_) => MatchOp::RegexMatch,
            PMatchOp::NotRe(_) => MatchOp::RegexNoMatch,
        };
        out.push(Matcher::new(op, m.name.as_str(), m.value.as_str())?);
    }
    Ok(out)
}

/// A range vector ready for per-step windows: raw samples per series, and how a step's time
/// maps to the window `[ref - range, ref]`.
#[derive(Debug)]
pub(crate) struct RangeInput {
    /// Series with their samples (staleness markers removed), in time order.
    pub series: Vec<Series>,
    /// Window length (ms).
    pub range: i64,
    /// Offset (ms).
    pub offset: i64,
    /// `@` time, if pinned.
    pub at: Option<i64>,
}

impl RangeInput {
    /// The end of the window evaluated at step time `t`.
    pub fn window_end(&self, t: i64) -> i64 {
        self.at.unwrap_or(t) - self.offset
    }

    /// Calls `f(step index, step time, window)` for each step whose window over `s` holds at
    /// least one sample.
    pub fn windows(
        &self,
        s: &Series,
        steps: Steps,
        mut f: impl FnMut(usize, i64, &[(i64, f64)]) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let (mut lo, mut hi) = (0usize, 0usize);
        let p = &s.points;
        for (i, t) in steps.times().enumerate() {
            let end = self.window_end(t);
            let start = end - self.range;
            if self.at.is_some() && i > 0 {
                // The window is the same at every step.
            } else {
                while lo < p.len() && p[lo].0 < start {
                    lo += 1;
                }
                if hi < lo {
                    hi = lo;
                }
                while hi < p.len() && p[hi].0 <= end {
                    hi += 1;
                }
            }
            if hi > lo {
                f(i, t, &p[lo..hi])?;
            }
        }
        Ok(())
    }

    /// The range vector as an instant query returns it: each series' samples in the window of
    /// the last step.
    pub fn into_matrix(self, _ev: &mut Evaluator<'_>, steps: Steps) -> Vec<Series> {
        let end = self.window_end(steps.end);
        let start = end - self.range;
        self.series
            .into_iter()
            .filter_map(|s| {
                let points: Vec<(i64, f64)> = s
                    .points
                    .into_iter()
                    .filter(|(t, _)| *t >= start && *t <= end)
                    .collect();
                (!points.is_empty()).then_some(Series {
                    labels: s.labels,
                    points,
                })
            })
            .collect()
    }
}

impl Evaluator<'_> {
    /// The earliest and latest reference times of a selector over the steps.
    fn refs(&self, at: Option<i64>, offset: i64, steps: Steps) -> (i64, i64) {
        match at {
            Some(a) => (a - offset, a - offset),
            None => (steps.start - offset, steps.end - offset),
        }
    }

    /// An instant-vector selector: at each step, the newest sample at or before the reference
    /// time and no older than the lookback, unless it is a staleness marker. With
    /// `sample_time`, values are the samples' timestamps in seconds (for `timestamp()`).
    pub fn vector_selector(
        &mut self,
        vs: &VectorSelector,
        steps: Steps,
        sample_time: bool,
    ) -> Result<Vec<Series>, QueryError> {
        let offset = offset_ms(&vs.offset);
        let at = self.at_ms(&vs.at);
        let (first, last) = self.refs(at, offset, steps);
        let lookback = self.opts.lookback;
        let fetched = self.src.select(&matchers(vs)?, first - lookback, last)?;
        self.account(fetched.iter().map(|s| s.samples.len()).sum())?;
        let mut out = Vec::with_capacity(fetched.len());
        for s in fetched {
            self.check_time()?;
            let mut points = Vec::new();
            let mut j = 0usize;
            for t in steps.times() {
                let r = at.unwrap_or(t) - offset;
                while j < s.samples.len() && s.samples[j].t <= r {
                    j += 1;
                }
                let Some(sample) = j.checked_sub(1).map(|k| s.samples[k]) else {
                    continue;
                };
                if sample.t < r - lookback || is_stale(sample.v) {
                    continue;
                }
                let v = if sample_time {
                    sample.t as f64 / 1000.0
                } else {
                    sample.v
                };
                points.push((t, v));
            }
            if !points.is_empty() {
                out.push(Series {
                    labels: s.labels,
                    points,
                });
            }
        }
        Ok(out)
    }

    /// A matrix selector as the argument of a range function.
    pub fn matrix_selector(
        &mut self,
        ms: &MatrixSelector,
        steps: Steps,
    ) -> Result<RangeInput, QueryError> {
        let offset = offset_ms(&ms.vs.offset);
        let at = self.at_ms(&ms.vs.at);
        let range = ms.range.as_millis() as i64;
        let (first, last) = self.refs(at, offset, steps);
        let fetched = self.src.select(&matchers(&ms.vs)?, first - range, last)?;
        self.account(fetched.iter().map(|s| s.samples.len()).sum())?;
        let series = fetched
            .into_iter()
            .map(|s| Series {
                labels: s.labels,
                points: s
                    .samples
                    .into_iter()
                    .filter(|x| !is_stale(x.v))
                    .map(|x| (x.t, x.v))
                    .collect(),
            })
            .collect();
        Ok(RangeInput {
            series,
            range,
            offset,
            at,
        })
    }

    /// A subquery: the inner expression evaluated at steps aligned to multiples of the
    /// subquery step, covering every window the outer steps need.
    pub fn subquery(&mut self, sq: &SubqueryExpr, steps: Steps) -> Result<RangeInput, QueryError> {
        let offset = offset_ms(&sq.offset);
        let at = self.at_ms(&sq.at);
        let range = sq.range.as_millis() as i64;
        let step = sq
            .step
            .map(|d| d.as_millis() as i64)
            .unwrap_or(self.opts.subquery_step)
            .max(1);
        let (first, last) = self.refs(at, offset, steps);
        let from = first - range;
        let start =
            from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
        let series = if start > last {
            Vec::new()
        } else {
            let inner = Steps {
                start,
                end: last,
                step,
            };
            match self.eval(&sq.expr, inner)? {
                Value::Vector(v) => v,
                other => {
                    return Err(exec(format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        other.type_name()
                    )));
                }
            }
        };
        Ok(RangeInput {
            series,
            range,
            offset,
            at,
        })
    }
}
