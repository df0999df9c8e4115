//! Function calls: arguments evaluated over the steps, then the function applied per window
//! (range functions) or per sample (instant-vector functions).

mod date;
pub(crate) mod histogram;
pub(crate) mod labels;
pub mod over_time;
pub mod range;
pub mod stats;

use promql_parser::parser::{Call, Expr};

use crate::error::exec;
use crate::eval::{Evaluator, RangeInput, merge_same_labels, unparen, without_name};
use crate::value::{Series, Steps, Value};
use crate::{QueryError, functions::range::Window};

/// Evaluates a call.
pub(crate) fn call(ev: &mut Evaluator<'_>, c: &Call, steps: Steps) -> Result<Value, QueryError> {
    let args: Vec<&Expr> = c.args.args.iter().map(|a| a.as_ref()).collect();
    let name = c.func.name;
    let arg = |i: usize| {
        args.get(i)
            .copied()
            .ok_or_else(|| exec(format!("missing argument {i} of {name}")))
    };
    Ok(match name {
        "time" => Value::Scalar(steps.times().map(|t| t as f64 / 1000.0).collect()),
        "pi" => Value::Scalar(vec![std::f64::consts::PI; steps.len()]),
        "vector" => {
            let v = ev.scalar(arg(0)?, steps)?;
            Value::Vector(vec![Series {
                labels: kubepulse_model::Labels::empty(),
                points: steps.times().zip(v).collect(),
            }])
        }
        "scalar" => {
            let series = ev.vector(arg(0)?, steps)?;
            let mut out = vec![f64::NAN; steps.len()];
            let mut count = vec![0u32; steps.len()];
            for s in &series {
                for &(t, v) in &s.points {
                    let i = steps.index(t);
                    count[i] += 1;
                    out[i] = v;
                }
            }
            for (o, n) in out.iter_mut().zip(count) {
                if n != 1 {
                    *o = f64::NAN;
                }
            }
            Value::Scalar(out)
        }
        "timestamp" => {
            let series = match unparen(arg(0)?) {
                Expr::VectorSelector(vs) => ev.vector_selector(vs, steps, true)?,
                e => {
                    let mut s = ev.vector(e, steps)?;
                    for x in &mut s {
                        for p in &mut x.points {
                            p.1 = p.0 as f64 / 1000.0;
                        }
                    }
                    s
                }
            };
            Value::Vector(drop_names(series)?)
        }
        "absent" => labels::absent(ev, arg(0)?, steps)?,
        "absent_over_time" => labels::absent_over_time(ev, arg(0)?, steps)?,
        "label_replace" => labels::label_replace(ev, &args, steps)?,
        "label_join" => labels::label_join(ev, &args, steps)?,
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            labels::sort(ev, name, &args, steps)?
        }
        "histogram_quantile" => histogram::quantile(ev, arg(0)?, arg(1)?, steps)?,
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" | "histogram_fraction" => {
            // Native histograms only: float samples give no output.
            for a in &args {
                ev.eval(a, steps)?;
            }
            Value::Vector(Vec::new())
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => date::eval(ev, name, args.first().copied(), steps)?,
        "round" | "clamp" | "clamp_min" | "clamp_max" => bounded(ev, name, &args, steps)?,
        _ => match range_fn(name) {
            Some(f) => Value::Vector(eval_range(ev, f, name, &args, steps)?),
            None => {
                let f = math_fn(name).ok_or_else(|| exec(format!("unknown function {name}")))?;
                let series = ev.vector(arg(0)?, steps)?;
                Value::Vector(map_values(series, |_, v| Some(f(v)))?)
            }
        },
    })
}

/// Drops `__name__` from every series and merges what becomes equal.
fn drop_names(series: Vec<Series>) -> Result<Vec<Series>, QueryError> {
    merge_same_labels(
        series
            .into_iter()
            .map(|s| Series {
                labels: without_name(&s.labels),
                points: s.points,
            })
            .collect(),
    )
}

/// Applies `f(time, value)` to each point (dropping the point on `None`), drops the metric
/// name, and merges equal series.
pub(crate) fn map_values(
    series: Vec<Series>,
    f: impl Fn(i64, f64) -> Option<f64>,
) -> Result<Vec<Series>, QueryError> {
    drop_names(
        series
            .into_iter()
            .map(|s| Series {
                labels: s.labels,
                points: s
                    .points
                    .into_iter()
                    .filter_map(|(t, v)| f(t, v).map(|x| (t, x)))
                    .collect(),
            })
            .collect(),
    )
}

fn math_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// `round`, `clamp`, `clamp_min`, `clamp_max`: scalar bounds may change from step to step.
fn bounded(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[&Expr],
    steps: Steps,
) -> Result<Value, QueryError> {
    let series = ev.vector(args[0], steps)?;
    let mut params = Vec::new();
    for a in &args[1..] {
        params.push(ev.scalar(a, steps)?);
    }
    let p = |k: usize, t: i64| params.get(k).map(|v| v[steps.index(t)]);
    use stats::{go_max, go_min};
    let out = map_values(series, |t, v| match name {
        "round" => {
            let inv = 1.0 / p(0, t).unwrap_or(1.0);
            Some((v * inv + 0.5).floor() / inv)
        }
        "clamp" => {
            let (lo, hi) = (p(0, t)?, p(1, t)?);
            (hi >= lo || lo.is_nan() || hi.is_nan()).then(|| go_max(lo, go_min(hi, v)))
        }
        "clamp_min" => Some(go_max(p(0, t)?, v)),
        _ => Some(go_min(p(0, t)?, v)),
    })?;
    Ok(Value::Vector(out))
}

/// What a range function computes from one window; `None` is no output.
type RangeFn = fn(&mut Ctx<'_>, Window<'_>) -> Result<Option<f64>, QueryError>;

/// Per-step context of a range function: scalar arguments and where warnings go.
pub(crate) struct Ctx<'a> {
    params: &'a [Vec<f64>],
    step: usize,
}

impl Ctx<'_> {
    fn param(&self, k: usize) -> f64 {
        self.params
            .get(k)
            .and_then(|v| v.get(self.step))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

fn range_fn(name: &str) -> Option<RangeFn> {
    use over_time as o;
    use range as r;
    Some(match name {
        "rate" => |_, w| Ok(r::extrapolated(w, true, true)),
        "increase" => |_, w| Ok(r::extrapolated(w, true, false)),
        "delta" => |_, w| Ok(r::extrapolated(w, false, false)),
        "irate" => |_, w| Ok(r::instant(w, true)),
        "idelta" => |_, w| Ok(r::instant(w, false)),
        "deriv" => |_, w| Ok(r::deriv(w)),
        // The intercept is at the step time, even when the window is pinned by `@`.
        "predict_linear" => |c, w| Ok(r::predict_linear(w, w.t, c.param(0))),
        "holt_winters" => |c, w| r::holt_winters(w, c.param(0), c.param(1)),
        "resets" => |_, w| Ok(Some(r::resets(w))),
        "changes" => |_, w| Ok(Some(r::changes(w))),
        "sum_over_time" => |_, w| Ok(Some(o::sum(w.pts))),
        "avg_over_time" => |_, w| Ok(Some(o::avg(w.pts))),
        "count_over_time" => |_, w| Ok(Some(w.pts.len() as f64)),
        "min_over_time" => |_, w| Ok(Some(o::extreme(w.pts, false))),
        "max_over_time" => |_, w| Ok(Some(o::extreme(w.pts, true))),
        "last_over_time" => |_, w| Ok(w.pts.last().map(|p| p.1)),
        "present_over_time" => |_, _| Ok(Some(1.0)),
        "stdvar_over_time" => |_, w| Ok(Some(o::stdvar(w.pts))),
        "stddev_over_time" => |_, w| Ok(Some(o::stdvar(w.pts).sqrt())),
        "quantile_over_time" => |c, w| Ok(Some(o::quantile_of(c.param(0), w.pts))),
        "mad_over_time" => |_, w| Ok(Some(o::mad(w.pts))),
        _ => return None,
    })
}

fn eval_range(
    ev: &mut Evaluator<'_>,
    f: RangeFn,
    name: &str,
    args: &[&Expr],
    steps: Steps,
) -> Result<Vec<Series>, QueryError> {
    let m = usize::from(name == "quantile_over_time");
    let mut params = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != m {
            params.push(ev.scalar(a, steps)?);
        }
    }
    if name == "quantile_over_time"
        && let Some(q) = params[0]
            .iter()
            .find(|q| q.is_nan() || **q < 0.0 || **q > 1.0)
    {
        ev.warnings.insert(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}",
            kubepulse_model::gofloat::format_g(*q)
        ));
    }
    let input: RangeInput = ev.range_input(args[m], steps)?;
    let counter_check = matches!(name, "rate" | "increase");
    let keep_name = name == "last_over_time";
    let mut out = Vec::with_capacity(input.series.len());
    for s in &input.series {
        ev.check_time()?;
        let mut points = Vec::new();
        input.windows(s, steps, |step, t, pts| {
            let mut ctx = Ctx {
                params: &params,
                step,
            };
            let w = Window {
                pts,
                t,
                end: input.window_end(t),
                range: input.range,
            };
            if let Some(v) = f(&mut ctx, w)? {
                points.push((t, v));
            }
            Ok(())
        })?;
        if points.is_empty() {
            continue;
        }
        if counter_check
            && let Some(n) = s.labels.get(crate::eval::NAME)
            && !["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|x| n.ends_with(x))
        {
            ev.warnings.insert(format!(
                        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {n:?}"
                    ));
        }
        out.push(Series {
            labels: if keep_name {
                s.labels.clone()
            } else {
                without_name(&s.labels)
            },
            points,
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(out.len());
    if !out.iter().all(|s| seen.insert(&s.labels)) {
        return Err(exec("vector cannot contain metrics with the same labelset"));
    }
    Ok(out)
}
