//! Functions about labels and order: `absent`, `absent_over_time`, `label_replace`,
//! `label_join`, `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`.

use std::cmp::Ordering;

use kubepulse_model::Labels;
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use crate::QueryError;
use crate::error::exec;
use crate::eval::{Evaluator, NAME, unparen, with_label};
use crate::parse::is_label_name;
use crate::value::{Series, Steps, Value};

/// The labels `absent` gives its result: the selector's equality matchers, except labels
/// matched more than once or otherwise.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match unparen(e) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut set: Vec<(String, Option<String>)> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == NAME {
            continue;
        }
        match set.iter_mut().find(|(n, _)| *n == m.name) {
            Some(entry) => entry.1 = None,
            None => {
                let v = matches!(m.op, MatchOp::Equal).then(|| m.value.clone());
                set.push((m.name.clone(), v));
            }
        }
    }
    Labels::from_pairs(set.into_iter().filter_map(|(n, v)| v.map(|v| (n, v)))).unwrap_or_default()
}

fn ones_where(steps: Steps, present: &[bool], labels: Labels) -> Value {
    let points: Vec<(i64, f64)> = steps
        .times()
        .zip(present)
        .filter(|(_, p)| !**p)
        .map(|(t, _)| (t, 1.0))
        .collect();
    if points.is_empty() {
        return Value::Vector(Vec::new());
    }
    Value::Vector(vec![Series { labels, points }])
}

/// `absent(v)`: 1 at the steps where `v` has no sample.
pub fn absent(ev: &mut Evaluator<'_>, arg: &Expr, steps: Steps) -> Result<Value, QueryError> {
    let series = ev.vector(arg, steps)?;
    let mut present = vec![false; steps.len()];
    for s in &series {
        for &(t, _) in &s.points {
            present[steps.index(t)] = true;
        }
    }
    Ok(ones_where(steps, &present, absent_labels(arg)))
}

/// `absent_over_time(m)`: 1 at the steps where no window of `m` holds a sample.
pub fn absent_over_time(
    ev: &mut Evaluator<'_>,
    arg: &Expr,
    steps: Steps,
) -> Result<Value, QueryError> {
    let input = ev.range_input(arg, steps)?;
    let mut present = vec![false; steps.len()];
    for s in &input.series {
        input.windows(s, steps, |i, _, _| {
            present[i] = true;
            Ok(())
        })?;
    }
    Ok(ones_where(steps, &present, absent_labels(arg)))
}

fn anchored(re: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{re})$")).ok()
}

/// A `label_replace`: the destination, the replacement, the source label and its regex.
pub(crate) struct Replace {
    dst: String,
    repl: String,
    src: String,
    re: regex::Regex,
}

impl Replace {
    /// Checks the arguments.
    pub(crate) fn new(
        dst: String,
        repl: String,
        src: String,
        re_text: &str,
    ) -> Result<Self, QueryError> {
        let re = anchored(re_text).ok_or_else(|| {
            exec(format!(
                "invalid regular expression in label_replace(): {re_text}"
            ))
        })?;
        if !is_label_name(&dst) {
            return Err(exec(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        Ok(Self { dst, repl, src, re })
    }

    /// The labels of a series after the replacement.
    pub(crate) fn apply(&self, l: &Labels) -> Labels {
        let value = l.get(&self.src).unwrap_or("");
        match self.re.captures(value) {
            Some(caps) => {
                let mut res = String::new();
                caps.expand(&self.repl, &mut res);
                with_label(l, &self.dst, &res)
            }
            None => l.clone(),
        }
    }
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub fn label_replace(
    ev: &mut Evaluator<'_>,
    args: &[&Expr],
    steps: Steps,
) -> Result<Value, QueryError> {
    let dst = ev.string(args[1], steps)?;
    let repl = ev.string(args[2], steps)?;
    let src = ev.string(args[3], steps)?;
    let re_text = ev.string(args[4], steps)?;
    let replace = Replace::new(dst, repl, src, &re_text)?;
    let series = ev.vector(args[0], steps)?;
    let out: Vec<Series> = series
        .into_iter()
        .map(|s| Series {
            labels: replace.apply(&s.labels),
            points: s.points,
        })
        .collect();
    let mut seen = std::collections::HashSet::with_capacity(out.len());
    if !out.iter().all(|s| seen.insert(&s.labels)) {
        return Err(exec("vector cannot contain metrics with the same labelset"));
    }
    Ok(Value::Vector(out))
}

/// `label_join(v, dst, separator, src…)`.
pub fn label_join(
    ev: &mut Evaluator<'_>,
    args: &[&Expr],
    steps: Steps,
) -> Result<Value, QueryError> {
    let dst = ev.string(args[1], steps)?;
    let sep = ev.string(args[2], steps)?;
    let mut srcs = Vec::new();
    for a in &args[3..] {
        let s = ev.string(a, steps)?;
        if !is_label_name(&s) {
            return Err(exec(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !is_label_name(&dst) {
        return Err(exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let series = ev.vector(args[0], steps)?;
    Ok(Value::Vector(
        series
            .into_iter()
            .map(|s| {
                let joined: Vec<&str> =
                    srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
                Series {
                    labels: with_label(&s.labels, &dst, &joined.join(&sep)),
                    points: s.points,
                }
            })
            .collect(),
    ))
}

/// Natural order: runs of digits compare as numbers, other runs as bytes.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        let b = s.as_bytes();
        for i in 1..=b.len() {
            if i == b.len() || b[i].is_ascii_digit() != b[i - 1].is_ascii_digit() {
                out.push(&s[start..i]);
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        let ord = if digits(x) && digits(y) {
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

fn value_at_end(s: &Series) -> f64 {
    s.points.last().map_or(f64::NAN, |p| p.1)
}

/// Ascending by value with NaN last (descending with NaN last when `desc`).
fn by_value(a: &Series, b: &Series, desc: bool) -> Ordering {
    let (x, y) = (value_at_end(a), value_at_end(b));
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// The sort functions; order only shows in instant queries.
pub fn sort(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[&Expr],
    steps: Steps,
) -> Result<Value, QueryError> {
    let mut series = ev.vector(args[0], steps)?;
    let mut by = Vec::new();
    for a in &args[1..] {
        by.push(ev.string(a, steps)?);
    }
    if steps.len() != 1 {
        return Ok(Value::Vector(series));
    }
    let desc = name.ends_with("_desc");
    series.sort_by(|a, b| by_value(a, b, desc));
    if name.starts_with("sort_by_label") {
        series.sort_by(|a, b| {
            let ord = by
                .iter()
                .map(|l| natural_cmp(a.labels.get(l).unwrap_or(""), b.labels.get(l).unwrap_or("")))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal);
            if desc { ord.reverse() } else { ord }
        });
    }
    Ok(Value::Vector(series))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("4m5", "4m600"), Ordering::Less);
        assert_eq!(natural_cmp("4m600", "4m1000"), Ordering::Less);
        assert_eq!(natural_cmp("1.2.3", "1.11.3"), Ordering::Less);
        assert_eq!(natural_cmp("10", "9"), Ordering::Greater);
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
        assert_eq!(natural_cmp("", "a"), Ordering::Less);
    }
}
