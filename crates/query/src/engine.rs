//! The query engine: parses a query, evaluates it at one instant or over a range of steps,
//! and shapes the result as the Prometheus API returns it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kubepulse_model::Labels;
use promql_parser::parser::Expr;
use promql_parser::parser::value::ValueType;

use crate::eval::Evaluator;
use crate::parse::{parse, type_name};
use crate::value::{Series, Steps, Value};
use crate::{QueryError, Source};

/// Limits and defaults of evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (ms).
    pub lookback: i64,
    /// Most samples a query may hold.
    pub max_samples: usize,
    /// Longest a query may run.
    pub timeout: Duration,
    /// Step of subqueries written without one (ms).
    pub subquery_step: i64,
    /// Set when whoever asked no longer waits for the answer.
    pub cancel: Cancel,
}

/// A flag that stops an evaluation in progress; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Stops the evaluations that hold this flag.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`Cancel::cancel`] was called.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback: 300_000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            subquery_step: 60_000,
            cancel: Cancel::default(),
        }
    }
}

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels.
    pub labels: Labels,
    /// Time (ms).
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// A query's result.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// A scalar at a time.
    Scalar(i64, f64),
    /// A string at a time.
    String(i64, String),
    /// An instant vector, in evaluation order.
    Vector(Vec<Sample>),
    /// A range vector (range queries: sorted by labels).
    Matrix(Vec<Series>),
}

/// A result and its annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: QueryValue,
    /// Warnings and infos, as Prometheus words them.
    pub warnings: Vec<String>,
}

/// Evaluates PromQL.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

fn parsed(query: &str) -> Result<Expr, QueryError> {
    parse(query).map_err(|e| QueryError::Parse(e.render(query)))
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Self { opts }
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at time `t` (ms).
    pub fn instant(
        &self,
        src: &dyn Source,
        query: &str,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        self.instant_expr(src, &parsed(query)?, t)
    }

    /// Evaluates a parsed expression at time `t` (ms).
    pub fn instant_expr(
        &self,
        src: &dyn Source,
        e: &Expr,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        let mut ev = Evaluator::new(src, &self.opts, t, t);
        let value = match ev.eval(e, Steps::instant(t))? {
            Value::Scalar(v) => QueryValue::Scalar(t, v.first().copied().unwrap_or(f64::NAN)),
            Value::String(s) => QueryValue::String(t, s),
            Value::Vector(series) => QueryValue::Vector(
                series
                    .into_iter()
                    .filter_map(|s| {
                        s.points.last().map(|&(_, v)| Sample {
                            labels: s.labels,
                            t,
                            v,
                        })
                    })
                    .collect(),
            ),
            Value::Matrix(m) => QueryValue::Matrix(m),
        };
        Ok(QueryResult {
            value,
            warnings: ev.warnings.into_iter().collect(),
        })
    }

    /// Evaluates `query` from `start` to `end` every `step` (ms).
    pub fn range(
        &self,
        src: &dyn Source,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        self.range_expr(src, &parsed(query)?, start, end, step)
    }

    /// Evaluates a parsed expression from `start` to `end` every `step` (ms).
    pub fn range_expr(
        &self,
        src: &dyn Source,
        e: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        let ty = e.value_type();
        if ty != ValueType::Scalar && ty != ValueType::Vector {
            return Err(QueryError::Parse(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                type_name(ty)
            )));
        }
        let steps = Steps {
            start,
            end,
            step: step.max(1),
        };
        let mut ev = Evaluator::new(src, &self.opts, start, end);
        let mut series = match ev.eval(e, steps)? {
            Value::Scalar(v) => vec![Series {
                labels: Labels::empty(),
                points: steps.times().zip(v).collect(),
            }],
            Value::Vector(s) | Value::Matrix(s) => s,
            Value::String(_) => Vec::new(),
        };
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(QueryResult {
            value: QueryValue::Matrix(series),
            warnings: ev.warnings.into_iter().collect(),
        })
    }
}
