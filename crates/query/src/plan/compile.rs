//! Building a plan: the expression evaluated once over labels instead of samples. Every
//! series of a value is a label set and the node computing it; selectors become inputs,
//! and aggregation and vector matching are resolved here, by labels, into nodes over nodes.

use foldhash::{HashMap, HashMapExt};
use kubepulse_model::Labels;
use promql_parser::parser::token::{
    T_AVG, T_COUNT, T_GROUP, T_LAND, T_LOR, T_LUNLESS, T_MAX, T_MIN, T_STDDEV, T_STDVAR, T_SUM,
};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, VectorMatchCardinality, VectorSelector,
};

use super::{BinMode, Node, PlanSet, RangeFn, Read};
use crate::error::exec;
use crate::eval::{
    Grouping, Matching, Subsets, drops_name, is_comparison, result_labels, selector_matchers,
    unparen, without_name,
};
use crate::functions::labels::Replace;
use crate::{IdSource, QueryError};

/// A value while planning.
enum Sym {
    Scalar(u32),
    Vector(Vec<(Labels, u32)>),
    Str(String),
}

fn unsupported(what: &str) -> QueryError {
    exec(format!("{what} cannot be planned"))
}

/// Plans expressions into a [`PlanSet`].
pub(super) struct Compiler<'a> {
    pub src: &'a dyn IdSource,
    pub mint: i64,
    pub maxt: i64,
    pub set: &'a mut PlanSet,
}

impl Compiler<'_> {
    /// Plans an expression that gives an instant vector.
    pub fn vector(&mut self, e: &Expr) -> Result<Vec<(Labels, u32)>, QueryError> {
        match self.expr(e)? {
            Sym::Vector(v) => Ok(v),
            _ => Err(exec("expected instant vector")),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Sym, QueryError> {
        Ok(match e {
            Expr::NumberLiteral(n) => Sym::Scalar(self.set.node(Node::Const(n.val))),
            Expr::StringLiteral(s) => Sym::Str(s.val.clone()),
            Expr::Paren(p) => self.expr(&p.expr)?,
            Expr::Unary(u) => match self.expr(&u.expr)? {
                Sym::Scalar(n) => Sym::Scalar(self.set.node(Node::Neg(n))),
                Sym::Vector(v) => {
                    let out = v
                        .into_iter()
                        .map(|(l, n)| (without_name(&l), self.set.node(Node::Neg(n))))
                        .collect();
                    Sym::Vector(self.coalesce(out))
                }
                Sym::Str(_) => return Err(exec("unary minus on string")),
            },
            Expr::VectorSelector(vs) => Sym::Vector(self.select(vs, Read::Value, true)?),
            Expr::Binary(b) => self.binary(b)?,
            Expr::Aggregate(a) => self.aggregate(a)?,
            Expr::Call(c) => self.call(c)?,
            Expr::MatrixSelector(_) => {
                return Err(unsupported("a range vector outside a function"));
            }
            Expr::Subquery(_) => return Err(unsupported("a subquery")),
            Expr::Extension(_) => return Err(unsupported("an extension")),
        })
    }

    fn string(&mut self, e: &Expr) -> Result<String, QueryError> {
        match self.expr(e)? {
            Sym::Str(s) => Ok(s),
            _ => Err(exec("expected string")),
        }
    }

    /// The series of a selector, read so; with `keep_name` their labels keep the name.
    fn select(
        &mut self,
        vs: &VectorSelector,
        read: Read,
        keep_name: bool,
    ) -> Result<Vec<(Labels, u32)>, QueryError> {
        if vs.offset.is_some() || vs.at.is_some() {
            return Err(unsupported("offset or @"));
        }
        let back = match read {
            Read::Range(_, range) => range,
            _ => self.set.lookback,
        };
        let matchers = selector_matchers(vs)?;
        let found = self
            .src
            .series_ids(&matchers, self.mint - back, self.maxt)?;
        self.set.selectors.push(matchers);
        let out: Vec<(Labels, u32)> = found
            .into_iter()
            .map(|(id, l)| {
                let l = if keep_name { l } else { without_name(&l) };
                (l, self.set.input(id, read))
            })
            .collect();
        Ok(if keep_name { out } else { self.coalesce(out) })
    }

    /// Series with equal labels made one, the first present of them.
    fn coalesce(&mut self, v: Vec<(Labels, u32)>) -> Vec<(Labels, u32)> {
        let mut at: HashMap<Labels, usize> = HashMap::with_capacity(v.len());
        let mut groups: Vec<(Labels, Vec<u32>)> = Vec::with_capacity(v.len());
        for (l, n) in v {
            match at.get(&l) {
                Some(&i) => groups[i].1.push(n),
                None => {
                    at.insert(l.clone(), groups.len());
                    groups.push((l, vec![n]));
                }
            }
        }
        groups
            .into_iter()
            .map(|(l, ns)| {
                let n = match ns.as_slice() {
                    [one] => *one,
                    many => self.set.over(many, |from, to| Node::First { from, to }),
                };
                (l, n)
            })
            .collect()
    }

    fn call(&mut self, c: &Call) -> Result<Sym, QueryError> {
        let name = c.func.name;
        let args: Vec<&Expr> = c.args.args.iter().map(|a| a.as_ref()).collect();
        let arg = |i: usize| {
            args.get(i)
                .copied()
                .ok_or_else(|| exec(format!("{name}: missing argument")))
        };
        if let Some(f) = RangeFn::of(name) {
            let Expr::MatrixSelector(ms) = unparen(arg(0)?) else {
                return Err(unsupported(&format!("{name} of anything but a selector")));
            };
            let range = ms.range.as_millis() as i64;
            return Ok(Sym::Vector(self.select(
                &ms.vs,
                Read::Range(f, range),
                false,
            )?));
        }
        Ok(match name {
            "time" => Sym::Scalar(self.set.node(Node::Time)),
            "timestamp" => {
                let Expr::VectorSelector(vs) = unparen(arg(0)?) else {
                    return Err(unsupported("timestamp of anything but a selector"));
                };
                Sym::Vector(self.select(vs, Read::Timestamp, false)?)
            }
            "label_replace" => {
                let v = self.vector(arg(0)?)?;
                let replace = Replace::new(
                    self.string(arg(1)?)?,
                    self.string(arg(2)?)?,
                    self.string(arg(3)?)?,
                    &self.string(arg(4)?)?,
                )?;
                let out = v.into_iter().map(|(l, n)| (replace.apply(&l), n)).collect();
                Sym::Vector(self.coalesce(out))
            }
            other => return Err(unsupported(&format!("function {other}"))),
        })
    }

    fn aggregate(&mut self, a: &AggregateExpr) -> Result<Sym, QueryError> {
        let op = a.op.id();
        if !matches!(
            op,
            T_SUM | T_AVG | T_COUNT | T_GROUP | T_MIN | T_MAX | T_STDDEV | T_STDVAR
        ) {
            return Err(unsupported(&format!("aggregation {}", a.op)));
        }
        let series = self.vector(&a.expr)?;
        let subset = Grouping::of(a).subset();
        let mut groups = Subsets::default();
        let mut members: Vec<Vec<u32>> = Vec::new();
        for (l, n) in &series {
            let g = groups.id(&subset, l);
            if g == members.len() {
                members.push(Vec::new());
            }
            members[g].push(*n);
        }
        let out = groups
            .labels
            .into_iter()
            .zip(members)
            .map(|(l, m)| (l, self.set.over(&m, |from, to| Node::Agg { op, from, to })))
            .collect();
        Ok(Sym::Vector(out))
    }

    fn binary(&mut self, b: &BinaryExpr) -> Result<Sym, QueryError> {
        let op = b.op.id();
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let mode = match (is_comparison(op), return_bool) {
            (false, _) => BinMode::Value,
            (true, false) => BinMode::Filter,
            (true, true) => BinMode::Bool,
        };
        let set_op = matches!(op, T_LAND | T_LOR | T_LUNLESS);
        let (lhs, rhs) = (self.expr(&b.lhs)?, self.expr(&b.rhs)?);
        Ok(match (lhs, rhs) {
            (Sym::Scalar(l), Sym::Scalar(r)) if !set_op => {
                Sym::Scalar(self.set.node(Node::Bin { op, mode, l, r }))
            }
            (Sym::Vector(v), Sym::Scalar(s)) if !set_op => {
                Sym::Vector(self.with_scalar(op, mode, v, s, false))
            }
            (Sym::Scalar(s), Sym::Vector(v)) if !set_op => {
                Sym::Vector(self.with_scalar(op, mode, v, s, true))
            }
            (Sym::Vector(l), Sym::Vector(r)) if set_op => Sym::Vector(self.set_op(op, b, l, r)),
            (Sym::Vector(l), Sym::Vector(r)) => Sym::Vector(self.matched(op, mode, b, l, r)),
            _ => return Err(exec("invalid operands")),
        })
    }

    fn with_scalar(
        &mut self,
        op: u16,
        mode: BinMode,
        v: Vec<(Labels, u32)>,
        s: u32,
        scalar_left: bool,
    ) -> Vec<(Labels, u32)> {
        let drop = drops_name(op) || mode == BinMode::Bool;
        // A filtering comparison keeps the vector's value on either side.
        let filter_left = scalar_left && mode == BinMode::Filter;
        let out = v
            .into_iter()
            .map(|(l, n)| {
                let (a, b) = if scalar_left && !filter_left {
                    (s, n)
                } else {
                    (n, s)
                };
                let op = if filter_left { flip(op) } else { op };
                let node = self.set.node(Node::Bin {
                    op,
                    mode,
                    l: a,
                    r: b,
                });
                (if drop { without_name(&l) } else { l }, node)
            })
            .collect();
        if drop { self.coalesce(out) } else { out }
    }

    /// Arithmetic and comparisons between two vectors.
    fn matched(
        &mut self,
        op: u16,
        mode: BinMode,
        b: &BinaryExpr,
        lhs: Vec<(Labels, u32)>,
        rhs: Vec<(Labels, u32)>,
    ) -> Vec<(Labels, u32)> {
        let m = Matching::of(b);
        let swapped = matches!(m.card, VectorMatchCardinality::OneToMany(_));
        let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
        let include: Option<Vec<String>> = m.card.labels().map(|l| l.labels.clone());
        let listed = include.as_ref().is_some_and(|l| !l.is_empty());
        let sig = m.signature();
        let mut ids = Subsets::default();
        let msig: Vec<usize> = many.iter().map(|(l, _)| ids.id(&sig, l)).collect();
        let osig: Vec<usize> = one.iter().map(|(l, _)| ids.id(&sig, l)).collect();
        let mut by_sig: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        for (j, &g) in osig.iter().enumerate() {
            by_sig[g].push(j);
        }
        let return_bool = mode == BinMode::Bool;
        let mut out = Vec::new();
        for (i, (ml, mn)) in many.iter().enumerate() {
            let cands = &by_sig[msig[i]];
            let Some(&j0) = cands.first() else { continue };
            let pairs: Vec<(usize, u32)> = if listed || cands.len() == 1 {
                cands.iter().map(|&j| (j, one[j].1)).collect()
            } else {
                let nodes: Vec<u32> = cands.iter().map(|&j| one[j].1).collect();
                vec![(
                    j0,
                    self.set.over(&nodes, |from, to| Node::First { from, to }),
                )]
            };
            for (j, on) in pairs {
                let labels = result_labels(ml, &one[j].0, op, &m, &include, return_bool);
                let (l, r) = if swapped { (on, *mn) } else { (*mn, on) };
                out.push((labels, self.set.node(Node::Bin { op, mode, l, r })));
            }
        }
        self.coalesce(out)
    }

    /// `and`, `or` and `unless`.
    fn set_op(
        &mut self,
        op: u16,
        b: &BinaryExpr,
        lhs: Vec<(Labels, u32)>,
        rhs: Vec<(Labels, u32)>,
    ) -> Vec<(Labels, u32)> {
        let sig = Matching::of(b).signature();
        let mut ids = Subsets::default();
        let lsig: Vec<usize> = lhs.iter().map(|(l, _)| ids.id(&sig, l)).collect();
        let rsig: Vec<usize> = rhs.iter().map(|(l, _)| ids.id(&sig, l)).collect();
        let mut lby: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
        let mut rby: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
        for (i, &g) in lsig.iter().enumerate() {
            lby[g].push(lhs[i].1);
        }
        for (j, &g) in rsig.iter().enumerate() {
            rby[g].push(rhs[j].1);
        }
        let mut out = Vec::new();
        for (i, (l, n)) in lhs.iter().enumerate() {
            let others = &rby[lsig[i]];
            let node = match (op, others.is_empty()) {
                (T_LAND, true) => continue,
                (T_LAND, false) => {
                    let node = *n;
                    self.set
                        .over(others, |from, to| Node::IfAny { node, from, to })
                }
                (T_LUNLESS, false) => {
                    let node = *n;
                    self.set
                        .over(others, |from, to| Node::Unless { node, from, to })
                }
                _ => *n,
            };
            out.push((l.clone(), node));
        }
        if op == T_LOR {
            for (j, (l, n)) in rhs.into_iter().enumerate() {
                let blockers = &lby[rsig[j]];
                let node = if blockers.is_empty() {
                    n
                } else {
                    self.set
                        .over(blockers, |from, to| Node::Unless { node: n, from, to })
                };
                out.push((l, node));
            }
        }
        self.coalesce(out)
    }
}

/// The comparison that holds with its operands swapped (`a < b` is `b > a`).
fn flip(op: u16) -> u16 {
    use promql_parser::parser::token::{T_GTE, T_GTR, T_LSS, T_LTE};
    match op {
        T_GTR => T_LSS,
        T_LSS => T_GTR,
        T_GTE => T_LTE,
        T_LTE => T_GTE,
        other => other,
    }
}
