//! Values of PromQL expressions, evaluated over all steps of a query at once.

use kubepulse_model::Labels;

/// The steps of an evaluation: `start`, `start + step`, … up to `end` (ms). An instant query
/// has one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// First step.
    pub start: i64,
    /// Last step (inclusive).
    pub end: i64,
    /// Distance between steps (≥ 1).
    pub step: i64,
}

impl Steps {
    /// One step at `t`.
    pub fn instant(t: i64) -> Self {
        Self {
            start: t,
            end: t,
            step: 1,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        ((self.end - self.start) / self.step + 1).max(0) as usize
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Time of step `i`.
    pub fn at(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    /// Step times.
    pub fn times(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }

    /// The index of time `t`, which must be a step.
    pub fn index(&self, t: i64) -> usize {
        ((t - self.start) / self.step) as usize
    }
}

/// A time series: labels and points in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels.
    pub labels: Labels,
    /// Points (timestamp ms, value), sorted by time.
    pub points: Vec<(i64, f64)>,
}

/// The value of an expression over every step.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar: one value per step.
    Scalar(Vec<f64>),
    /// A string.
    String(String),
    /// An instant vector: series with a point at each step where they have a value.
    Vector(Vec<Series>),
    /// A range vector: series with their raw samples (only as a function argument or the
    /// result of an instant query).
    Matrix(Vec<Series>),
}

impl Value {
    /// The PromQL type name, as error messages use it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "instant vector",
            Value::Matrix(_) => "range vector",
        }
    }
}
