//! The LogQL subset KubePulse answers, as a syntax tree.

use kubepulse_store::Matcher;

/// A comparison in a label filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=` or `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `=~`.
    Re,
    /// `!~`.
    NotRe,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

/// The right-hand side of a label filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (for `=`, `!=`, `=~`, `!~`).
    Str(String),
    /// A number.
    Num(f64),
    /// A duration, in seconds.
    Duration(f64),
}

/// A label filter: `status >= 500`, `level="error"`.
#[derive(Debug, Clone)]
pub struct LabelFilter {
    /// The label.
    pub name: String,
    /// The comparison.
    pub cmp: Cmp,
    /// The value.
    pub value: Value,
    /// The compiled pattern, for `=~` and `!~` (anchored, as Prometheus anchors them).
    pub re: Option<regex::Regex>,
}

/// One pipeline stage.
#[derive(Debug, Clone)]
pub enum Stage {
    /// `|= "text"`.
    Contains(String),
    /// `!= "text"`.
    NotContains(String),
    /// `|~ "re"` (unanchored, as Loki matches lines).
    Matches(regex::Regex),
    /// `!~ "re"`.
    NotMatches(regex::Regex),
    /// `| json`.
    Json,
    /// `| logfmt`.
    Logfmt,
    /// `| name op value, …`: all must hold.
    Labels(Vec<LabelFilter>),
    /// `| line_format "…{{.name}}…"`: the parts, literal text or a label.
    LineFormat(Vec<FormatPart>),
    /// `| drop a, b`: labels removed from the result.
    Drop(Vec<String>),
}

/// A piece of a `line_format` template.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatPart {
    /// Literal text.
    Text(String),
    /// A label's value.
    Label(String),
}

/// A log query: a stream selector and a pipeline.
#[derive(Debug, Clone)]
pub struct LogExpr {
    /// The stream selector.
    pub matchers: Vec<Matcher>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// A range aggregation over a log query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    /// `count_over_time`.
    Count,
    /// `rate`: lines per second.
    Rate,
    /// `bytes_over_time`.
    Bytes,
    /// `bytes_rate`.
    BytesRate,
}

/// A vector aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    /// `sum`.
    Sum,
    /// `count`.
    Count,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `avg`.
    Avg,
    /// `topk`.
    Topk,
    /// `bottomk`.
    Bottomk,
}

/// Grouping of a vector aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// `by (…)`.
    By(Vec<String>),
    /// `without (…)`.
    Without(Vec<String>),
}

/// Arithmetic between metric queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

/// A metric query.
#[derive(Debug, Clone)]
pub enum MetricExpr {
    /// `fn(log [range])`.
    Range {
        /// The function.
        f: RangeFn,
        /// The log query.
        log: LogExpr,
        /// The range, ms.
        range_ms: i64,
    },
    /// `op by (…) ([k,] expr)`.
    Agg {
        /// The operator.
        op: AggOp,
        /// `k` for `topk` and `bottomk`.
        k: Option<usize>,
        /// Grouping.
        grouping: Option<Grouping>,
        /// The operand.
        expr: Box<MetricExpr>,
    },
    /// `vector(n)`.
    Vector(f64),
    /// A number.
    Number(f64),
    /// `a op b`.
    Binary(BinOp, Box<MetricExpr>, Box<MetricExpr>),
}

/// A query.
#[derive(Debug, Clone)]
pub enum Query {
    /// Lines.
    Log(LogExpr),
    /// Numbers.
    Metric(MetricExpr),
}

/// A Go duration (`1.5s`, `20ms`, `1h30m`, `300µs`) in seconds, as Loki reads durations in
/// label filters and in extracted labels.
pub fn go_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Some(if neg { -total } else { total })
}
