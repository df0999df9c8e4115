//! Aggregation operators (`sum`, `avg`, `count`, `group`, `min`, `max`, `stddev`, `stdvar`,
//! `quantile`, `topk`, `bottomk`, `count_values`) grouped `by` or `without` labels, evaluated
//! step by step with Prometheus' numeric rules.

use foldhash::{HashMap, HashMapExt};

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::{Evaluator, Output, StepWalk, Subset, Subsets, with_label};
use crate::QueryError;
use crate::error::exec;
use kubepulse_model::gofloat::{format_f, format_g};

use crate::functions::stats::{kahan_inc, quantile};
use crate::parse::is_label_name;
use crate::value::{Series, Steps, Value};

/// The running state of one group at one step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acc {
    /// Values added.
    pub count: f64,
    value: f64,
    comp: f64,
    mean: f64,
    values: Vec<f64>,
    /// For topk/bottomk: (series index, value).
    top: Vec<(usize, f64)>,
}

impl Acc {
    /// Adds `v` to a `sum`, `avg`, `min`, `max`, `stddev` or `stdvar` (with `count` already
    /// counting it; `first` for a group's first value).
    pub(crate) fn add(&mut self, op: u16, v: f64, first: bool) {
        match op {
            T_SUM => {
                if first {
                    self.value = v;
                } else {
                    (self.value, self.comp) = kahan_inc(v, self.value, self.comp);
                }
            }
            T_AVG => {
                if self.mean.is_infinite() {
                    if v.is_infinite() && (self.mean > 0.0) == (v > 0.0) {
                        return;
                    }
                    if v.is_finite() {
                        return;
                    }
                }
                if first {
                    self.mean = v;
                } else {
                    self.mean += v / self.count - self.mean / self.count;
                }
            }
            T_MIN if (first || self.value > v || self.value.is_nan()) => self.value = v,
            T_MAX if (first || self.value < v || self.value.is_nan()) => self.value = v,
            T_STDDEV | T_STDVAR => {
                let delta = v - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (v - self.mean);
            }
            _ => {}
        }
    }

    /// The result of the operators [`Acc::add`] serves, `count` and `group`.
    pub(crate) fn result(&self, op: u16) -> f64 {
        match op {
            T_SUM => {
                if self.value.is_infinite() {
                    self.value
                } else {
                    self.value + self.comp
                }
            }
            T_AVG => self.mean,
            T_COUNT => self.count,
            T_GROUP => 1.0,
            T_STDVAR => self.value / self.count,
            T_STDDEV => (self.value / self.count).sqrt(),
            _ => self.value,
        }
    }
}

/// How series are grouped.
pub(crate) struct Grouping {
    without: bool,
    labels: Vec<String>,
}

impl Grouping {
    pub(crate) fn of(a: &AggregateExpr) -> Self {
        match &a.modifier {
            Some(LabelModifier::Include(l)) => Self {
                without: false,
                labels: l.labels.clone(),
            },
            Some(LabelModifier::Exclude(l)) => Self {
                without: true,
                labels: l.labels.clone(),
            },
            None => Self {
                without: false,
                labels: Vec::new(),
            },
        }
    }

    /// The labels of a series its group keeps.
    pub(crate) fn subset(&self) -> Subset {
        Subset {
            only: !self.without,
            names: self.labels.clone(),
        }
    }
}

/// `a` ranks before `b` for topk (`desc`) or bottomk: NaN always ranks last.
fn better(a: f64, b: f64, desc: bool) -> bool {
    if b.is_nan() {
        return !a.is_nan();
    }
    if desc { a > b } else { a < b }
}

impl Evaluator<'_> {
    pub(super) fn aggregate(
        &mut self,
        a: &AggregateExpr,
        steps: Steps,
    ) -> Result<Value, QueryError> {
        let op = a.op.id();
        let mut grouping = Grouping::of(a);
        let mut param = Vec::new();
        let mut value_label = String::new();
        match op {
            T_TOPK | T_BOTTOMK | T_QUANTILE => {
                let p = a.param.as_ref().ok_or_else(|| exec("missing parameter"))?;
                param = self.scalar(p, steps)?;
            }
            T_COUNT_VALUES => {
                let p = a.param.as_ref().ok_or_else(|| exec("missing parameter"))?;
                value_label = self.string(p, steps)?;
                if !is_label_name(&value_label) {
                    return Err(exec(format!("invalid label name {value_label:?}")));
                }
                if !grouping.without {
                    grouping.labels.push(value_label.clone());
                }
            }
            _ => {}
        }
        let series = self.vector(&a.expr, steps)?;
        if op == T_QUANTILE
            && let Some(q) = param
                .iter()
                .find(|q| q.is_nan() || !(0.0..=1.0).contains(*q))
        {
            self.warnings.insert(format!(
                "PromQL warning: quantile value should be between 0 and 1, got {}",
                format_g(*q)
            ));
        }
        if op == T_COUNT_VALUES {
            return self.count_values(series, &grouping, &value_label, steps);
        }
        // Group of each series, in order of first appearance.
        let mut groups = Subsets::default();
        let subset = grouping.subset();
        let member: Vec<usize> = series
            .iter()
            .map(|s| groups.id(&subset, &s.labels))
            .collect();
        let group_labels = groups.labels;
        let mut out = Output::default();
        // topk and bottomk keep the input series, created as they are first output so that an
        // instant query lists them best first.
        let ranked = matches!(op, T_TOPK | T_BOTTOMK);
        let slots: Vec<usize> = if ranked {
            Vec::new()
        } else {
            group_labels.iter().map(|l| out.slot(l.clone())).collect()
        };
        let mut series_slots: Vec<Option<usize>> =
            vec![None; if ranked { series.len() } else { 0 }];
        let mut accs: Vec<Acc> = vec![Acc::default(); group_labels.len()];
        let mut touched: Vec<usize> = Vec::new();
        let mut walk = StepWalk::new(series.len());
        let mut buf = Vec::new();
        for (step, t) in steps.times().enumerate() {
            self.check_time()?;
            walk.at(&series, t, &mut buf);
            let k = param.get(step).copied().unwrap_or(0.0);
            if matches!(op, T_TOPK | T_BOTTOMK) {
                if !k.is_finite() || k.abs() >= 9.2e18 {
                    return Err(exec(format!(
                        "Scalar value {} overflows int64",
                        format_f(k)
                    )));
                }
                if (k as i64) < 1 {
                    continue;
                }
            }
            for &(si, v) in &buf {
                let g = member[si];
                let acc = &mut accs[g];
                let first = acc.count == 0.0;
                if first {
                    touched.push(g);
                }
                acc.count += 1.0;
                match op {
                    T_QUANTILE => acc.values.push(v),
                    T_TOPK | T_BOTTOMK => {
                        let desc = op == T_TOPK;
                        let kk = (k as i64).min(series.len() as i64) as usize;
                        acc.top.push((si, v));
                        // Keep the k best, best first; a stable insertion keeps ties in order.
                        let mut i = acc.top.len() - 1;
                        while i > 0 && better(acc.top[i].1, acc.top[i - 1].1, desc) {
                            acc.top.swap(i, i - 1);
                            i -= 1;
                        }
                        acc.top.truncate(kk);
                    }
                    _ => acc.add(op, v, first),
                }
            }
            for &g in &touched {
                let acc = std::mem::take(&mut accs[g]);
                let v = match op {
                    T_QUANTILE => {
                        let mut vals = acc.values;
                        quantile(k, &mut vals)
                    }
                    T_TOPK | T_BOTTOMK => {
                        for (si, v) in acc.top {
                            let slot = match series_slots[si] {
                                Some(s) => s,
                                None => {
                                    let s = out.slot(series[si].labels.clone());
                                    series_slots[si] = Some(s);
                                    s
                                }
                            };
                            out.push(slot, t, v)?;
                        }
                        continue;
                    }
                    _ => acc.result(op),
                };
                out.push(slots[g], t, v)?;
            }
            touched.clear();
        }
        Ok(Value::Vector(out.finish()?))
    }

    fn count_values(
        &mut self,
        series: Vec<Series>,
        grouping: &Grouping,
        value_label: &str,
        steps: Steps,
    ) -> Result<Value, QueryError> {
        let mut out = Output::default();
        let mut slots: HashMap<(usize, u64), usize> = HashMap::new();
        let mut walk = StepWalk::new(series.len());
        let mut buf = Vec::new();
        let mut counts: Vec<(usize, f64)> = Vec::new();
        for t in steps.times() {
            self.check_time()?;
            walk.at(&series, t, &mut buf);
            counts.clear();
            for &(si, v) in &buf {
                let slot = match slots.get(&(si, v.to_bits())) {
                    Some(&s) => s,
                    None => {
                        let l = with_label(&series[si].labels, value_label, &format_f(v));
                        let s = out.slot(grouping.subset().of(&l));
                        slots.insert((si, v.to_bits()), s);
                        s
                    }
                };
                match counts.iter_mut().find(|c| c.0 == slot) {
                    Some(c) => c.1 += 1.0,
                    None => counts.push((slot, 1.0)),
                }
            }
            for &(slot, n) in &counts {
                out.push(slot, t, n)?;
            }
        }
        Ok(Value::Vector(out.finish()?))
    }
}
