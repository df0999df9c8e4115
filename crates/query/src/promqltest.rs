//! Prometheus' PromQL test scripts, run against KubePulse's engine: data is loaded into memory,
//! each `eval` is run and compared within Prometheus' tolerance, and every instant eval is also
//! run as a range query around its time, as Prometheus' own runner does. Evals that touch
//! native histograms are counted apart.

mod at;
pub mod script;

use std::collections::HashMap;

use kubepulse_model::Labels;
use promql_parser::parser::Expr;

use crate::eval::unparen;
use crate::parse::parse;
use crate::{Engine, MemSource, QueryValue};
use script::{Command, EvalAt, Expect, Point, SeriesLine};

/// The outcome of one script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Evals that passed.
    pub passed: usize,
    /// Evals that failed, with why (line and message).
    pub failures: Vec<(usize, String)>,
    /// Evals skipped because they need native histograms.
    pub skipped: usize,
}

/// Prometheus' float comparison for tests: equal, both NaN, or within a relative 1e-6.
pub fn almost_equal(a: f64, b: f64) -> bool {
    crate::functions::histogram::almost_equal(a, b, 1e-6)
}

/// Runs a script's text.
pub fn run(text: &str, engine: &Engine) -> Result<Report, script::ScriptError> {
    let commands = script::parse(text)?;
    let mut src = MemSource::new();
    let mut histograms: Vec<Labels> = Vec::new();
    let mut report = Report::default();
    for c in commands {
        match c {
            Command::Clear => {
                src.clear();
                histograms.clear();
            }
            Command::Load { interval, series } => {
                for s in series {
                    let mut samples = Vec::new();
                    for (i, p) in s.points.iter().enumerate() {
                        let t = i as i64 * interval;
                        match p {
                            Point::Float(v) => samples.push((t, *v)),
                            Point::Histogram => {
                                if !histograms.contains(&s.labels) {
                                    histograms.push(s.labels.clone());
                                }
                            }
                            Point::Omitted => {}
                        }
                    }
                    src.add(s.labels, samples);
                }
            }
            Command::Eval {
                line,
                expr,
                at,
                expect,
                scalar,
                series,
            } => {
                let needs_histograms = series.iter().any(|s| s.points.contains(&Point::Histogram))
                    || parse(&expr).is_ok_and(|e| touches(&e, &histograms));
                if needs_histograms {
                    report.skipped += 1;
                    continue;
                }
                match eval(engine, &src, &expr, at, &expect, scalar, &series) {
                    Ok(()) => report.passed += 1,
                    Err(why) => report.failures.push((line, format!("{expr}: {why}"))),
                }
            }
        }
    }
    Ok(report)
}

/// Whether any selector in `e` matches one of the histogram series.
fn touches(e: &Expr, histograms: &[Labels]) -> bool {
    if histograms.is_empty() {
        return false;
    }
    let hit = |vs: &promql_parser::parser::VectorSelector| {
        crate::eval::selector_matchers(vs).is_ok_and(|ms| {
            histograms
                .iter()
                .any(|l| ms.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))))
        })
    };
    match unparen(e) {
        Expr::VectorSelector(vs) => hit(vs),
        Expr::MatrixSelector(ms) => hit(&ms.vs),
        Expr::Aggregate(a) => {
            touches(&a.expr, histograms) || a.param.as_ref().is_some_and(|p| touches(p, histograms))
        }
        Expr::Unary(u) => touches(&u.expr, histograms),
        Expr::Binary(b) => touches(&b.lhs, histograms) || touches(&b.rhs, histograms),
        Expr::Subquery(s) => touches(&s.expr, histograms),
        Expr::Call(c) => c.args.args.iter().any(|a| touches(a, histograms)),
        _ => false,
    }
}

fn eval(
    engine: &Engine,
    src: &MemSource,
    expr: &str,
    at: EvalAt,
    expect: &Expect,
    scalar: Option<f64>,
    series: &[SeriesLine],
) -> Result<(), String> {
    let result = match at {
        EvalAt::Instant(t) => engine.instant(src, expr, t),
        EvalAt::Range { start, end, step } => engine.range(src, expr, start, end, step),
    };
    if let Some(want) = &expect.fail {
        return match (&result, want) {
            (Ok(_), _) => Err("expected an error, got a result".into()),
            (Err(e), Some(m)) if e.to_string() != *m => {
                Err(format!("expected error {m:?}, got {e}"))
            }
            _ => Ok(()),
        };
    }
    let result = result.map_err(|e| format!("unexpected error: {e}"))?;
    match at {
        EvalAt::Instant(t) => {
            compare_instant(&result.value, expect, scalar, series)?;
            if !expect.ordered && expect.string.is_none() {
                let range = engine
                    .range(src, expr, t - 60_000, t + 60_000, 60_000)
                    .map_err(|e| format!("in range mode: unexpected error: {e}"))?;
                let QueryValue::Matrix(m) = range.value else {
                    return Err("in range mode: not a matrix".into());
                };
                let at_t: Vec<crate::Sample> = m
                    .into_iter()
                    .filter_map(|s| {
                        s.points
                            .iter()
                            .find(|p| p.0 == t)
                            .map(|&(_, v)| crate::Sample {
                                labels: s.labels.clone(),
                                t,
                                v,
                            })
                    })
                    .collect();
                let as_value = match (&result.value, at_t.first()) {
                    (QueryValue::Scalar(..), Some(s)) => QueryValue::Scalar(t, s.v),
                    _ => QueryValue::Vector(at_t),
                };
                compare_instant(&as_value, expect, scalar, series)
                    .map_err(|e| format!("in range mode: {e}"))?;
                if let Some((pinned, times)) = parse(expr).ok().and_then(|e| at::variants(&e, t)) {
                    for other in times {
                        let r = engine
                            .instant_expr(src, &pinned, other)
                            .map_err(|e| format!("pinned to @{t}, at {other}: {e}"))?;
                        compare_instant(&r.value, expect, scalar, series)
                            .map_err(|e| format!("pinned to @{t}, at {other}: {e}"))?;
                    }
                }
            }
            Ok(())
        }
        EvalAt::Range { start, step, .. } => compare_range(&result.value, start, step, series),
    }
}

fn compare_instant(
    got: &QueryValue,
    expect: &Expect,
    scalar: Option<f64>,
    series: &[SeriesLine],
) -> Result<(), String> {
    if let Some(want) = &expect.string {
        return match got {
            QueryValue::String(_, s) if s == want => Ok(()),
            other => Err(format!("expected string {want:?}, got {other:?}")),
        };
    }
    if let Some(want) = scalar {
        return match got {
            QueryValue::Scalar(_, v) if almost_equal(*v, want) => Ok(()),
            other => Err(format!("expected scalar {want}, got {other:?}")),
        };
    }
    let got: Vec<(&Labels, f64)> = match got {
        QueryValue::Vector(v) => v.iter().map(|s| (&s.labels, s.v)).collect(),
        QueryValue::Matrix(m) => {
            return compare_matrix_points(m, series);
        }
        other => return Err(format!("expected a vector, got {other:?}")),
    };
    if got.len() != series.len() {
        return Err(format!(
            "expected {} samples, got {}: {}",
            series.len(),
            got.len(),
            show(&got)
        ));
    }
    for (i, want) in series.iter().enumerate() {
        let Some(Point::Float(wv)) = want.points.first().copied() else {
            return Err(format!("expected value missing for {}", want.labels));
        };
        let found = if expect.ordered {
            got.get(i).filter(|g| *g.0 == want.labels)
        } else {
            got.iter().find(|g| *g.0 == want.labels)
        };
        match found {
            Some(&(_, v)) if almost_equal(v, wv) => {}
            Some(&(_, v)) => return Err(format!("{}: expected {wv}, got {v}", want.labels)),
            None => {
                return Err(format!(
                    "expected {} (at position {i}), got {}",
                    want.labels,
                    show(&got)
                ));
            }
        }
    }
    Ok(())
}

fn show(got: &[(&Labels, f64)]) -> String {
    let parts: Vec<String> = got.iter().map(|(l, v)| format!("{l} {v}")).collect();
    format!("[{}]", parts.join(", "))
}

fn compare_matrix_points(m: &[crate::Series], series: &[SeriesLine]) -> Result<(), String> {
    if m.len() != series.len() {
        return Err(format!("expected {} series, got {}", series.len(), m.len()));
    }
    for want in series {
        let got = m
            .iter()
            .find(|s| s.labels == want.labels)
            .ok_or_else(|| format!("missing series {}", want.labels))?;
        let wv: Vec<f64> = want
            .points
            .iter()
            .filter_map(|p| match p {
                Point::Float(v) => Some(*v),
                _ => None,
            })
            .collect();
        if wv.len() != got.points.len()
            || !wv
                .iter()
                .zip(&got.points)
                .all(|(a, b)| almost_equal(*a, b.1))
        {
            return Err(format!(
                "{}: expected {wv:?}, got {:?}",
                want.labels, got.points
            ));
        }
    }
    Ok(())
}

fn compare_range(
    got: &QueryValue,
    start: i64,
    step: i64,
    series: &[SeriesLine],
) -> Result<(), String> {
    let QueryValue::Matrix(m) = got else {
        return Err(format!("expected a matrix, got {got:?}"));
    };
    let by_labels: HashMap<&Labels, &crate::Series> = m.iter().map(|s| (&s.labels, s)).collect();
    if m.len() != series.len() {
        return Err(format!("expected {} series, got {}", series.len(), m.len()));
    }
    for want in series {
        let got = by_labels
            .get(&want.labels)
            .ok_or_else(|| format!("missing series {}", want.labels))?;
        let expected: Vec<(i64, f64)> = want
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Point::Float(v) => Some((start + i as i64 * step, *v)),
                _ => None,
            })
            .collect();
        let same = expected.len() == got.points.len()
            && expected
                .iter()
                .zip(&got.points)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1));
        if !same {
            return Err(format!(
                "{}: expected {expected:?}, got {:?}",
                want.labels, got.points
            ));
        }
    }
    Ok(())
}
