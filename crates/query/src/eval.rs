//! The evaluator: every expression is evaluated over all steps of the query at once, the way
//! Prometheus' engine does, into scalars (a value per step), instant vectors (series with a
//! point per step where they have a value) or range vectors.

mod aggregate;
mod binary;
mod labels;
mod output;
mod selector;

use std::collections::BTreeSet;

use kubepulse_model::clock::Stopwatch;
use promql_parser::parser::{AtModifier, Expr, Offset};

pub(crate) use aggregate::{Acc, Grouping};
pub(crate) use binary::{Matching, apply, drops_name, is_comparison, result_labels};
pub(crate) use labels::*;
pub(crate) use output::{Output, StepWalk};
pub(crate) use selector::{RangeInput, is_stale, matchers as selector_matchers};

use crate::error::exec;
use crate::value::{Series, Steps, Value};
use crate::{EngineOptions, QueryError, Source};

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub src: &'a dyn Source,
    pub opts: &'a EngineOptions,
    /// Start and end of the whole query (`@ start()`, `@ end()`).
    pub query_start: i64,
    pub query_end: i64,
    clock: Stopwatch,
    samples: usize,
    ticks: u32,
    /// Annotations, deduplicated.
    pub warnings: BTreeSet<String>,
}

/// Milliseconds of an offset (negative offsets look ahead).
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
    }
}

/// Removes any number of enclosing parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

impl<'a> Evaluator<'a> {
    pub fn new(src: &'a dyn Source, opts: &'a EngineOptions, start: i64, end: i64) -> Self {
        Self {
            src,
            opts,
            query_start: start,
            query_end: end,
            clock: Stopwatch::start(),
            samples: 0,
            ticks: 0,
            warnings: BTreeSet::new(),
        }
    }

    /// The time an `@` modifier pins evaluation to, if any.
    pub fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.query_start),
            Some(AtModifier::End) => Some(self.query_end),
            Some(AtModifier::At(t)) => Some(match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i64,
                Err(e) => -(e.duration().as_millis() as i64),
            }),
        }
    }

    /// Counts samples held by the query; fails past the limit.
    pub fn account(&mut self, n: usize) -> Result<(), QueryError> {
        self.samples = self.samples.saturating_add(n);
        if self.samples > self.opts.max_samples {
            return Err(QueryError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Fails once the query has run longer than its timeout or was canceled (checked
    /// cheaply).
    pub fn check_time(&mut self) -> Result<(), QueryError> {
        self.ticks = self.ticks.wrapping_add(1);
        // The first call and every 256th after it.
        if self.ticks % 256 != 1 {
            return Ok(());
        }
        if self.clock.elapsed_secs() > self.opts.timeout.as_secs_f64() {
            return Err(QueryError::Timeout("expression evaluation"));
        }
        if self.opts.cancel.is_canceled() {
            return Err(QueryError::Canceled("expression evaluation"));
        }
        Ok(())
    }

    /// Evaluates `e` at every step of `steps`.
    pub fn eval(&mut self, e: &Expr, steps: Steps) -> Result<Value, QueryError> {
        self.check_time()?;
        let v = match e {
            Expr::NumberLiteral(n) => Value::Scalar(vec![n.val; steps.len()]),
            Expr::StringLiteral(s) => Value::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, steps)?,
            Expr::Unary(u) => match self.eval(&u.expr, steps)? {
                Value::Scalar(v) => Value::Scalar(v.into_iter().map(|x| -x).collect()),
                Value::Vector(vs) => {
                    let series = vs
                        .into_iter()
                        .map(|s| Series {
                            labels: without_name(&s.labels),
                            points: s.points.into_iter().map(|(t, v)| (t, -v)).collect(),
                        })
                        .collect();
                    Value::Vector(merge_same_labels(series)?)
                }
                other => return Err(exec(format!("unary minus on {}", other.type_name()))),
            },
            Expr::VectorSelector(vs) => Value::Vector(self.vector_selector(vs, steps, false)?),
            Expr::MatrixSelector(ms) => {
                let input = self.matrix_selector(ms, steps)?;
                Value::Matrix(input.into_matrix(self, steps))
            }
            Expr::Subquery(sq) => {
                let input = self.subquery(sq, steps)?;
                Value::Matrix(input.into_matrix(self, steps))
            }
            Expr::Binary(b) => self.binary(b, steps)?,
            Expr::Aggregate(a) => self.aggregate(a, steps)?,
            Expr::Call(c) => crate::functions::call(self, c, steps)?,
            Expr::Extension(_) => return Err(exec("unsupported expression")),
        };
        if let Value::Vector(s) | Value::Matrix(s) = &v {
            let n = s.iter().map(|x| x.points.len()).sum();
            self.account(n)?;
        }
        Ok(v)
    }

    /// Evaluates an expression that must give a scalar per step.
    pub fn scalar(&mut self, e: &Expr, steps: Steps) -> Result<Vec<f64>, QueryError> {
        match self.eval(e, steps)? {
            Value::Scalar(v) => Ok(v),
            other => Err(exec(format!("expected scalar, got {}", other.type_name()))),
        }
    }

    /// Evaluates an expression that must give an instant vector.
    pub fn vector(&mut self, e: &Expr, steps: Steps) -> Result<Vec<Series>, QueryError> {
        match self.eval(e, steps)? {
            Value::Vector(v) => Ok(v),
            other => Err(exec(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must give a string.
    pub fn string(&mut self, e: &Expr, steps: Steps) -> Result<String, QueryError> {
        match self.eval(e, steps)? {
            Value::String(s) => Ok(s),
            other => Err(exec(format!("expected string, got {}", other.type_name()))),
        }
    }

    /// A range-vector argument: a matrix selector or a subquery.
    pub fn range_input(&mut self, e: &Expr, steps: Steps) -> Result<RangeInput, QueryError> {
        match unparen(e) {
            Expr::MatrixSelector(ms) => self.matrix_selector(ms, steps),
            Expr::Subquery(sq) => self.subquery(sq, steps),
            other => Err(exec(format!(
                "expected range vector, got {}",
                other.value_type()
            ))),
        }
    }
}

/// Series with equal labels merged into one; two points at one step are an error.
pub(crate) fn merge_same_labels(series: Vec<Series>) -> Result<Vec<Series>, QueryError> {
    let mut out = Output::default();
    for s in series {
        let slot = out.slot(s.labels);
        for (t, v) in s.points {
            out.push(slot, t, v)?;
        }
    }
    out.finish()
}
