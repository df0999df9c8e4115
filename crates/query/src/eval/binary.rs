//! Binary operators: arithmetic, comparisons (filtering or `bool`), `atan2`, and the set
//! operators, between scalars and instant vectors, with Prometheus' vector matching (`on`,
//! `ignoring`, `group_left`, `group_right`) and its rules for the result's labels.

use foldhash::{HashMap, HashMapExt};

use kubepulse_model::Labels;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::{Evaluator, Output, StepWalk, Subset, Subsets, keep_only, with_label, without_name};
use crate::QueryError;
use crate::error::exec;
use crate::value::{Series, Steps, Value};

/// Applies an operator to two floats: the value, and whether a comparison holds.
pub(crate) fn apply(op: u16, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_MOD => (l % r, true),
        T_POW => (l.powf(r), true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

pub(crate) fn is_comparison(op: u16) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Arithmetic drops the metric name; comparisons that filter keep it.
pub(crate) fn drops_name(op: u16) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_MOD | T_POW | T_ATAN2)
}

/// How two vectors are matched.
pub(crate) struct Matching {
    pub on: bool,
    pub labels: Vec<String>,
    pub card: VectorMatchCardinality,
}

impl Matching {
    pub(crate) fn of(b: &BinaryExpr) -> Self {
        let m = b.modifier.as_ref();
        let (on, labels) = match m.and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (false, Vec::new()),
        };
        Self {
            on,
            labels,
            card: m.map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone()),
        }
    }

    /// The labels two series are matched on.
    pub(crate) fn signature(&self) -> Subset {
        Subset {
            only: self.on,
            names: self.labels.clone(),
        }
    }
}

/// Dense ids for the signatures of a list of series.
fn sig_ids(series: &[Series], m: &Subset, ids: &mut Subsets) -> Vec<usize> {
    series.iter().map(|s| ids.id(m, &s.labels)).collect()
}

fn labels_text(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

impl Evaluator<'_> {
    pub(super) fn binary(&mut self, b: &BinaryExpr, steps: Steps) -> Result<Value, QueryError> {
        let op = b.op.id();
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let lhs = self.eval(&b.lhs, steps)?;
        let rhs = self.eval(&b.rhs, steps)?;
        match (lhs, rhs) {
            (Value::Scalar(l), Value::Scalar(r)) => Ok(Value::Scalar(
                l.into_iter()
                    .zip(r)
                    .map(|(l, r)| {
                        let (v, keep) = apply(op, l, r);
                        if is_comparison(op) {
                            if keep { 1.0 } else { 0.0 }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Value::Vector(v), Value::Scalar(s)) => Ok(Value::Vector(vector_scalar(
                op,
                v,
                &s,
                false,
                return_bool,
                steps,
            )?)),
            (Value::Scalar(s), Value::Vector(v)) => Ok(Value::Vector(vector_scalar(
                op,
                v,
                &s,
                true,
                return_bool,
                steps,
            )?)),
            (Value::Vector(l), Value::Vector(r)) => {
                let m = Matching::of(b);
                let out = match op {
                    T_LAND | T_LOR | T_LUNLESS => self.set_op(op, l, r, &m, steps)?,
                    _ => self.vector_vector(op, l, r, &m, return_bool, steps)?,
                };
                Ok(Value::Vector(out))
            }
            (l, r) => Err(exec(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }

    fn set_op(
        &mut self,
        op: u16,
        lhs: Vec<Series>,
        rhs: Vec<Series>,
        m: &Matching,
        steps: Steps,
    ) -> Result<Vec<Series>, QueryError> {
        let mut ids = Subsets::default();
        let sig = m.signature();
        let lsig = sig_ids(&lhs, &sig, &mut ids);
        let rsig = sig_ids(&rhs, &sig, &mut ids);
        let mut out = Output::default();
        let lslots: Vec<usize> = lhs.iter().map(|s| out.slot(s.labels.clone())).collect();
        let rslots: Vec<usize> = if op == T_LOR {
            rhs.iter().map(|s| out.slot(s.labels.clone())).collect()
        } else {
            Vec::new()
        };
        let (mut lw, mut rw) = (StepWalk::new(lhs.len()), StepWalk::new(rhs.len()));
        let (mut lb, mut rb) = (Vec::new(), Vec::new());
        let mut mark = vec![false; ids.len()];
        for t in steps.times() {
            self.check_time()?;
            lw.at(&lhs, t, &mut lb);
            rw.at(&rhs, t, &mut rb);
            let (marks, probe) = if op == T_LOR { (&lb, &rb) } else { (&rb, &lb) };
            let marks_sig = if op == T_LOR { &lsig } else { &rsig };
            for &(i, _) in marks {
                mark[marks_sig[i]] = true;
            }
            match op {
                T_LAND | T_LUNLESS => {
                    for &(i, v) in probe {
                        if mark[lsig[i]] == (op == T_LAND) {
                            out.push(lslots[i], t, v)?;
                        }
                    }
                }
                _ => {
                    for &(i, v) in &lb {
                        out.push(lslots[i], t, v)?;
                    }
                    for &(j, v) in probe {
                        if !mark[rsig[j]] {
                            out.push(rslots[j], t, v)?;
                        }
                    }
                }
            }
            for &(i, _) in marks {
                mark[marks_sig[i]] = false;
            }
        }
        out.finish()
    }

    fn vector_vector(
        &mut self,
        op: u16,
        lhs: Vec<Series>,
        rhs: Vec<Series>,
        m: &Matching,
        return_bool: bool,
        steps: Steps,
    ) -> Result<Vec<Series>, QueryError> {
        // The "many" side is `many`, the "one" side `one`; group_right swaps them.
        let swapped = matches!(m.card, VectorMatchCardinality::OneToMany(_));
        let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
        let include: Option<Vec<String>> = m.card.labels().map(|l| l.labels.clone());
        let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
        let mut ids = Subsets::default();
        let sig = m.signature();
        let msig = sig_ids(&many, &sig, &mut ids);
        let osig = sig_ids(&one, &sig, &mut ids);
        let mut out = Output::default();
        let mut slots: HashMap<(usize, usize), usize> = HashMap::new();
        let (mut mw, mut ow) = (StepWalk::new(many.len()), StepWalk::new(one.len()));
        let (mut mb, mut ob) = (Vec::new(), Vec::new());
        let mut right: Vec<Option<(usize, f64)>> = vec![None; ids.len()];
        let mut matched: HashMap<usize, Vec<usize>> = HashMap::new();
        for t in steps.times() {
            self.check_time()?;
            mw.at(&many, t, &mut mb);
            ow.at(&one, t, &mut ob);
            if mb.is_empty() || ob.is_empty() {
                continue;
            }
            for &(j, v) in &ob {
                let sig = osig[j];
                if let Some((k, _)) = right[sig] {
                    let side = if swapped { "left" } else { "right" };
                    let group = &ids.labels[sig];
                    return Err(exec(format!(
                        "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                        labels_text(group),
                        labels_text(&one[j].labels),
                        labels_text(&one[k].labels)
                    )));
                }
                right[sig] = Some((j, v));
            }
            matched.clear();
            for &(i, v) in &mb {
                let sig = msig[i];
                let Some((j, ov)) = right[sig] else { continue };
                let (l, r) = if swapped { (ov, v) } else { (v, ov) };
                let (value, keep) = apply(op, l, r);
                let value = match (return_bool, keep) {
                    (true, k) => f64::from(u8::from(k)),
                    (false, false) => continue,
                    (false, true) => value,
                };
                let slot = match slots.get(&(i, j)) {
                    Some(&s) => s,
                    None => {
                        let labels = result_labels(
                            &many[i].labels,
                            &one[j].labels,
                            op,
                            m,
                            &include,
                            return_bool,
                        );
                        let s = out.slot(labels);
                        slots.insert((i, j), s);
                        s
                    }
                };
                let seen = matched.entry(sig).or_default();
                if one_to_one {
                    if !seen.is_empty() {
                        return Err(exec(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                        ));
                    }
                } else if seen.contains(&slot) {
                    return Err(exec(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    ));
                }
                seen.push(slot);
                out.push(slot, t, value)?;
            }
            for &(j, _) in &ob {
                right[osig[j]] = None;
            }
        }
        out.finish()
    }
}

/// The labels of a result sample from a "many"-side and a "one"-side series.
pub(crate) fn result_labels(
    many: &Labels,
    one: &Labels,
    op: u16,
    m: &Matching,
    include: &Option<Vec<String>>,
    return_bool: bool,
) -> Labels {
    let mut l = if drops_name(op) || return_bool {
        without_name(many)
    } else {
        many.clone()
    };
    if matches!(m.card, VectorMatchCardinality::OneToOne) {
        l = if m.on {
            keep_only(&l, &m.labels)
        } else {
            Labels::from_sorted(
                l.iter()
                    .filter(|x| !m.labels.contains(&x.name))
                    .cloned()
                    .collect(),
            )
        };
    }
    if let Some(inc) = include {
        for name in inc {
            l = with_label(&l, name, one.get(name).unwrap_or(""));
        }
    }
    l
}

fn vector_scalar(
    op: u16,
    series: Vec<Series>,
    scalar: &[f64],
    scalar_left: bool,
    return_bool: bool,
    steps: Steps,
) -> Result<Vec<Series>, QueryError> {
    let drop = drops_name(op) || return_bool;
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let mut points = Vec::with_capacity(s.points.len());
        for (t, v) in s.points {
            let sv = scalar[steps.index(t)];
            let (l, r) = if scalar_left { (sv, v) } else { (v, sv) };
            let (mut value, keep) = apply(op, l, r);
            if is_comparison(op) && scalar_left {
                value = v;
            }
            if return_bool {
                points.push((t, f64::from(u8::from(keep))));
            } else if keep {
                points.push((t, value));
            }
        }
        if !points.is_empty() {
            out.push(Series {
                labels: if drop {
                    without_name(&s.labels)
                } else {
                    s.labels
                },
                points,
            });
        }
    }
    if drop {
        return super::merge_same_labels(out);
    }
    Ok(out)
}
