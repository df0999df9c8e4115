//! Evaluating LogQL over the log store: log queries give streams (lines grouped by their
//! labels, stream and extracted), metric queries give a value per step, computed from the lines
//! of each step's window, then aggregated and combined.

use std::collections::BTreeMap;

use kubepulse_store::{LogQuery, Read};

use super::ast::{AggOp, BinOp, Grouping, LogExpr, MetricExpr, Query, RangeFn, Stage};
use super::pipeline;

/// Labels of a result.
pub type Lbl = BTreeMap<String, String>;

/// Most lines one query reads from the store.
pub const MAX_SCAN: usize = 1_000_000;

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Lines by stream: labels and `(ns, line)` in the query's direction.
    Streams(Vec<(Lbl, Vec<(i64, String)>)>),
    /// Values by series: labels and `(ms, value)`.
    Matrix(Vec<(Lbl, Vec<(i64, f64)>)>),
    /// One value per series at one time (ms).
    Vector(i64, Vec<(Lbl, f64)>),
    /// A number at a time (ms).
    Scalar(i64, f64),
}

/// Where and how to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// From, ns.
    pub start_ns: i64,
    /// To, ns.
    pub end_ns: i64,
    /// Step of metric queries, ms (0 for an instant query at `end_ns`).
    pub step_ms: i64,
    /// Most lines a log query returns.
    pub limit: usize,
    /// Newest lines first.
    pub backward: bool,
}

fn drops_lines(stages: &[Stage]) -> bool {
    stages.iter().any(|s| {
        !matches!(
            s,
            Stage::Json | Stage::Logfmt | Stage::LineFormat(_) | Stage::Drop(_)
        )
    })
}

/// The lines of a log query in `[start_ns, end_ns]`, piped, in time order of `backward`, at
/// most `limit` (0: all), each with its output labels.
fn lines(
    read: &dyn Read,
    log: &LogExpr,
    start_ns: i64,
    end_ns: i64,
    limit: usize,
    backward: bool,
) -> Result<Vec<(Lbl, i64, String)>, String> {
    let fetch = if limit == 0 || drops_lines(&log.stages) {
        MAX_SCAN
    } else {
        limit
    };
    let streams = read
        .select_logs(&LogQuery {
            matchers: &log.matchers,
            start_ns,
            end_ns,
            limit: fetch,
            backward,
        })
        .map_err(|e| e.to_string())?;
    let mut all: Vec<(usize, &kubepulse_store::LogEntry)> = streams
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.entries.iter().map(move |e| (i, e)))
        .collect();
    let scanned = all.len();
    if backward {
        all.sort_by_key(|(_, e)| std::cmp::Reverse(e.t_ns));
    } else {
        all.sort_by_key(|(_, e)| e.t_ns);
    }
    let want = if limit == 0 { usize::MAX } else { limit };
    let mut out = Vec::new();
    for (i, e) in all {
        let labels = &streams[i].labels;
        let Some(o) = pipeline::run(&log.stages, labels, e.severity, &e.body) else {
            continue;
        };
        let mut l: Lbl = labels
            .iter()
            .map(|x| (x.name.clone(), x.value.clone()))
            .collect();
        // The severity, as Loki's detected level, unless the stream names its own level.
        if e.severity != kubepulse_model::Severity::Unspecified && !l.contains_key("level") {
            l.insert("detected_level".into(), e.severity.as_str().into());
        }
        l.extend(o.extracted);
        for d in &o.dropped {
            l.remove(d);
        }
        out.push((l, e.t_ns, o.line));
        if out.len() >= want {
            return Ok(out);
        }
    }
    if scanned >= MAX_SCAN {
        return Err(format!(
            "the query would read more than {MAX_SCAN} lines: narrow the time range or the stream selector"
        ));
    }
    Ok(out)
}

/// Evaluates a query.
pub fn evaluate(read: &dyn Read, q: &Query, p: &Params) -> Result<Answer, String> {
    match q {
        Query::Log(log) => {
            let mut streams: BTreeMap<Lbl, Vec<(i64, String)>> = BTreeMap::new();
            for (l, t, line) in lines(read, log, p.start_ns, p.end_ns, p.limit, p.backward)? {
                streams.entry(l).or_default().push((t, line));
            }
            Ok(Answer::Streams(streams.into_iter().collect()))
        }
        Query::Metric(m) => {
            let end_ms = p.end_ns.div_euclid(1_000_000);
            let steps: Vec<i64> = if p.step_ms <= 0 {
                vec![end_ms]
            } else {
                let start_ms = p.start_ns.div_euclid(1_000_000);
                let n = ((end_ms - start_ms) / p.step_ms).max(0) as usize + 1;
                if n > 11_000 {
                    return Err(format!(
                        "exceeded maximum resolution of 11,000 points per timeseries ({n}): try decreasing the query resolution (?step=XX)"
                    ));
                }
                (0..n as i64).map(|i| start_ms + i * p.step_ms).collect()
            };
            let v = metric(read, m, &steps)?;
            Ok(match (v, p.step_ms <= 0) {
                (Val::Scalar(x), true) => Answer::Scalar(end_ms, x),
                (Val::Scalar(x), false) => {
                    Answer::Matrix(vec![(Lbl::new(), steps.iter().map(|t| (*t, x)).collect())])
                }
                (Val::Vector(series), true) => Answer::Vector(
                    end_ms,
                    series
                        .into_iter()
                        .filter_map(|(l, v)| v.first().copied().flatten().map(|x| (l, x)))
                        .collect(),
                ),
                (Val::Vector(series), false) => Answer::Matrix(
                    series
                        .into_iter()
                        .map(|(l, v)| {
                            let points: Vec<(i64, f64)> = steps
                                .iter()
                                .zip(v)
                                .filter_map(|(t, x)| x.map(|x| (*t, x)))
                                .collect();
                            (l, points)
                        })
                        .filter(|(_, p)| !p.is_empty())
                        .collect(),
                ),
            })
        }
    }
}

/// A metric value over the steps.
enum Val {
    Scalar(f64),
    Vector(Vec<(Lbl, Vec<Option<f64>>)>),
}

fn metric(read: &dyn Read, m: &MetricExpr, steps: &[i64]) -> Result<Val, String> {
    match m {
        MetricExpr::Number(n) => Ok(Val::Scalar(*n)),
        MetricExpr::Vector(n) => Ok(Val::Vector(vec![(Lbl::new(), vec![Some(*n); steps.len()])])),
        MetricExpr::Range { f, log, range_ms } => range(read, *f, log, *range_ms, steps),
        MetricExpr::Agg {
            op,
            k,
            grouping,
            expr,
        } => {
            let v = match metric(read, expr, steps)? {
                Val::Vector(v) => v,
                Val::Scalar(_) => return Err("aggregations need a vector, not a number".into()),
            };
            Ok(Val::Vector(aggregate(
                *op,
                *k,
                grouping.as_ref(),
                v,
                steps.len(),
            )))
        }
        MetricExpr::Binary(op, a, b) => {
            let (a, b) = (metric(read, a, steps)?, metric(read, b, steps)?);
            Ok(binary(*op, a, b))
        }
    }
}

fn range(
    read: &dyn Read,
    f: RangeFn,
    log: &LogExpr,
    range_ms: i64,
    steps: &[i64],
) -> Result<Val, String> {
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
        return Ok(Val::Vector(Vec::new()));
    };
    let start_ns = first
        .saturating_sub(range_ms)
        .saturating_mul(1_000_000)
        .saturating_add(1);
    let end_ns = last.saturating_mul(1_000_000);
    let mut by: BTreeMap<Lbl, Vec<(i64, usize)>> = BTreeMap::new();
    for (l, t, line) in lines(read, log, start_ns, end_ns, 0, false)? {
        by.entry(l).or_default().push((t, line.len()));
    }
    let secs = range_ms as f64 / 1000.0;
    let mut out = Vec::with_capacity(by.len());
    for (labels, points) in by {
        let mut values = Vec::with_capacity(steps.len());
        let (mut lo, mut hi) = (0, 0);
        let (mut count, mut bytes) = (0usize, 0usize);
        for t in steps {
            let (from, to) = (
                t.saturating_sub(range_ms).saturating_mul(1_000_000),
                t.saturating_mul(1_000_000),
            );
            while hi < points.len() && points[hi].0 <= to {
                count += 1;
                bytes += points[hi].1;
                hi += 1;
            }
            while lo < hi && points[lo].0 <= from {
                count -= 1;
                bytes -= points[lo].1;
                lo += 1;
            }
            values.push((count > 0).then(|| match f {
                RangeFn::Count => count as f64,
                RangeFn::Rate => count as f64 / secs,
                RangeFn::Bytes => bytes as f64,
                RangeFn::BytesRate => bytes as f64 / secs,
            }));
        }
        out.push((labels, values));
    }
    Ok(Val::Vector(out))
}

fn group_key(l: &Lbl, g: Option<&Grouping>) -> Lbl {
    match g {
        None => Lbl::new(),
        Some(Grouping::By(names)) => l
            .iter()
            .filter(|(k, _)| names.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(Grouping::Without(names)) => l
            .iter()
            .filter(|(k, _)| !names.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn aggregate(
    op: AggOp,
    k: Option<usize>,
    g: Option<&Grouping>,
    v: Vec<(Lbl, Vec<Option<f64>>)>,
    n: usize,
) -> Vec<(Lbl, Vec<Option<f64>>)> {
    let mut groups: BTreeMap<Lbl, Vec<usize>> = BTreeMap::new();
    for (i, (l, _)) in v.iter().enumerate() {
        groups.entry(group_key(l, g)).or_default().push(i);
    }
    if let (AggOp::Topk | AggOp::Bottomk, Some(k)) = (op, k) {
        let mut keep: Vec<Vec<Option<f64>>> = vec![vec![None; n]; v.len()];
        for members in groups.values() {
            for step in 0..n {
                let mut present: Vec<(usize, f64)> = members
                    .iter()
                    .filter_map(|&i| v[i].1[step].map(|x| (i, x)))
                    .collect();
                present.sort_by(|a, b| match op {
                    AggOp::Topk => b.1.total_cmp(&a.1),
                    _ => a.1.total_cmp(&b.1),
                });
                for (i, x) in present.into_iter().take(k) {
                    if let Some(slot) = keep.get_mut(i).and_then(|r| r.get_mut(step)) {
                        *slot = Some(x);
                    }
                }
            }
        }
        return v
            .into_iter()
            .zip(keep)
            .map(|((l, _), k)| (l, k))
            .filter(|(_, k)| k.iter().any(Option::is_some))
            .collect();
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let values = (0..n)
                .map(|step| {
                    let xs: Vec<f64> = members.iter().filter_map(|&i| v[i].1[step]).collect();
                    if xs.is_empty() {
                        return None;
                    }
                    Some(match op {
                        AggOp::Count => xs.len() as f64,
                        AggOp::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                        AggOp::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        AggOp::Avg => xs.iter().sum::<f64>() / xs.len() as f64,
                        _ => xs.iter().sum(),
                    })
                })
                .collect();
            (key, values)
        })
        .collect()
}

fn apply(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
    }
}

fn binary(op: BinOp, a: Val, b: Val) -> Val {
    match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(apply(op, x, y)),
        (Val::Vector(v), Val::Scalar(y)) => Val::Vector(
            v.into_iter()
                .map(|(l, xs)| {
                    (
                        l,
                        xs.into_iter().map(|x| x.map(|x| apply(op, x, y))).collect(),
                    )
                })
                .collect(),
        ),
        (Val::Scalar(x), Val::Vector(v)) => Val::Vector(
            v.into_iter()
                .map(|(l, ys)| {
                    (
                        l,
                        ys.into_iter().map(|y| y.map(|y| apply(op, x, y))).collect(),
                    )
                })
                .collect(),
        ),
        (Val::Vector(a), Val::Vector(b)) => {
            let right: BTreeMap<Lbl, Vec<Option<f64>>> = b.into_iter().collect();
            Val::Vector(
                a.into_iter()
                    .filter_map(|(l, xs)| {
                        let ys = right.get(&l)?;
                        let v = xs
                            .iter()
                            .zip(ys)
                            .map(|(x, y)| Some(apply(op, (*x)?, (*y)?)))
                            .collect();
                        Some((l, v))
                    })
                    .collect(),
            )
        }
    }
}
