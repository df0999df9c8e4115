//! Prepared instant queries: expressions resolved once against a source's series into, for
//! every output series, a small program over the samples of the input series it depends on.
//! Selecting, grouping and matching by labels happen when the plan is built; each evaluation
//! then only reads the newest samples of the inputs by id and computes numbers. A plan stays
//! right while no series its selectors match is added to the source ([`PlanSet::still_valid`]).
//!
//! Evaluated at one time, a plan gives what an instant query of the same expression gives,
//! with one difference: where PromQL fails a step because two series with the same labels
//! meet (duplicates on the "one" side of a match, or after dropping names), a plan takes the
//! first present one in label order.
//!
//! Plans cover the expressions the failure-prediction signals are made of: selectors,
//! `rate`, `increase`, `delta`, `irate`, `idelta` over matrix selectors, `time()`,
//! `timestamp()` of a selector, `label_replace`, the aggregations `sum`, `avg`, `count`,
//! `group`, `min`, `max`, `stddev`, `stdvar`, arithmetic and comparisons with vector matching
//! (`on`, `ignoring`, `group_left`, `group_right`) and `and`, `or`, `unless`. Anything else
//! (offsets, `@`, subqueries, other functions) is refused when the plan is built.

mod compile;

use foldhash::{HashMap, HashMapExt};
use kubepulse_model::{Labels, Sample};
use kubepulse_store::Matcher;

use crate::eval::{Acc, apply, is_stale};
use crate::functions::range::{Window, extrapolated, instant};
use crate::{IdSource, QueryError};

/// How an input series is read at each evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Read {
    /// Its newest sample within the lookback.
    Value,
    /// The time of that sample, in seconds.
    Timestamp,
    /// A function of its samples over a window of `range` ms.
    Range(RangeFn, i64),
}

/// The range functions a plan computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RangeFn {
    Rate,
    Increase,
    Delta,
    Irate,
    Idelta,
}

impl RangeFn {
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "rate" => Self::Rate,
            "increase" => Self::Increase,
            "delta" => Self::Delta,
            "irate" => Self::Irate,
            "idelta" => Self::Idelta,
            _ => return None,
        })
    }

    fn eval(self, w: Window<'_>) -> Option<f64> {
        match self {
            Self::Rate => extrapolated(w, true, true),
            Self::Increase => extrapolated(w, true, false),
            Self::Delta => extrapolated(w, false, false),
            Self::Irate => instant(w, true),
            Self::Idelta => instant(w, false),
        }
    }
}

/// What the value of a binary node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinMode {
    /// The operator's result.
    Value,
    /// A comparison that filters: the left operand's value where it holds.
    Filter,
    /// A comparison with `bool`: 1 or 0.
    Bool,
}

/// One step of a plan; nodes refer to earlier nodes only, and `args` ranges are `[from, to)`.
#[derive(Debug, Clone, Copy)]
enum Node {
    Input(u32),
    Const(f64),
    Time,
    Neg(u32),
    Bin {
        op: u16,
        mode: BinMode,
        l: u32,
        r: u32,
    },
    Agg {
        op: u16,
        from: u32,
        to: u32,
    },
    /// The first present of its arguments.
    First {
        from: u32,
        to: u32,
    },
    /// `node` where none of the arguments is present.
    Unless {
        node: u32,
        from: u32,
        to: u32,
    },
    /// `node` where any of the arguments is present.
    IfAny {
        node: u32,
        from: u32,
        to: u32,
    },
}

/// Inputs read together: the same window, newest sample or all of them.
#[derive(Debug, Default)]
struct Batch {
    /// How far back from the evaluation time the window starts (ms).
    back: i64,
    newest: bool,
    ids: Vec<u64>,
    inputs: Vec<u32>,
}

/// Several expressions planned over the same series, sharing their inputs and common nodes.
#[derive(Debug)]
pub struct PlanSet {
    generation: u64,
    lookback: i64,
    nodes: Vec<Node>,
    args: Vec<u32>,
    reads: Vec<Read>,
    /// Input → node, by series id and read.
    input_nodes: HashMap<(u64, Read), u32>,
    batches: Vec<Batch>,
    /// Per expression, its output series and their nodes.
    outputs: Vec<Vec<(Labels, u32)>>,
    /// The matchers of every selector planned.
    selectors: Vec<Vec<Matcher>>,
    /// Per node, its value and whether it is present, after [`PlanSet::eval`].
    values: Vec<f64>,
    present: Vec<bool>,
    inputs: Vec<Option<f64>>,
    /// Buffers of [`PlanSet::eval`], kept between calls.
    buf: Vec<Sample>,
    ends: Vec<usize>,
    pts: Vec<(i64, f64)>,
}

impl PlanSet {
    /// Plans `exprs` over the series of `src` that may have samples between `mint` (less the
    /// lookback and the ranges the expressions read) and `maxt`.
    pub fn build(
        src: &dyn IdSource,
        exprs: &[&str],
        mint: i64,
        maxt: i64,
        lookback: i64,
    ) -> Result<Self, QueryError> {
        let mut set = Self {
            generation: src.generation(),
            lookback,
            nodes: Vec::new(),
            args: Vec::new(),
            reads: Vec::new(),
            input_nodes: HashMap::new(),
            batches: Vec::new(),
            outputs: Vec::new(),
            selectors: Vec::new(),
            values: Vec::new(),
            present: Vec::new(),
            inputs: Vec::new(),
            buf: Vec::new(),
            ends: Vec::new(),
            pts: Vec::new(),
        };
        for text in exprs {
            let expr = crate::parse::parse(text).map_err(|e| QueryError::Parse(e.render(text)))?;
            let out = compile::Compiler {
                src,
                mint,
                maxt,
                set: &mut set,
            }
            .vector(&expr)?;
            set.outputs.push(out);
        }
        // Only building looks inputs up.
        set.input_nodes = HashMap::new();
        // Series read in id order read memory in order.
        for b in &mut set.batches {
            let mut pairs: Vec<(u64, u32)> = b
                .ids
                .iter()
                .copied()
                .zip(b.inputs.iter().copied())
                .collect();
            pairs.sort_unstable();
            (b.ids, b.inputs) = pairs.into_iter().unzip();
        }
        set.values = vec![0.0; set.nodes.len()];
        set.present = vec![false; set.nodes.len()];
        set.inputs = vec![None; set.reads.len()];
        Ok(set)
    }

    /// The source's generation the plan was built at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the plan still covers every series of `src` its selectors match: true while
    /// the source's generation is the same, or when no series added since matches any of
    /// them (the plan then takes the new generation).
    pub fn still_valid(&mut self, src: &dyn IdSource) -> Result<bool, QueryError> {
        let now = src.generation();
        if now == self.generation {
            return Ok(true);
        }
        let Some(added) = src.added_since(self.generation)? else {
            return Ok(false);
        };
        let matches = |l: &Labels| {
            self.selectors
                .iter()
                .any(|ms| ms.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))))
        };
        if added.iter().any(matches) {
            return Ok(false);
        }
        self.generation = now;
        Ok(true)
    }

    /// Nodes in the plan (its size).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the plan has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The output series of expression `i`, with the node holding each one's value.
    pub fn outputs(&self, i: usize) -> &[(Labels, u32)] {
        self.outputs.get(i).map_or(&[], Vec::as_slice)
    }

    /// The value of a node after [`PlanSet::eval`], if present.
    pub fn value(&self, node: u32) -> Option<f64> {
        let i = node as usize;
        self.present
            .get(i)
            .copied()
            .unwrap_or(false)
            .then(|| self.values[i])
    }

    fn node(&mut self, n: Node) -> u32 {
        self.nodes.push(n);
        (self.nodes.len() - 1) as u32
    }

    /// A node over a list of nodes.
    fn over(&mut self, list: &[u32], make: impl FnOnce(u32, u32) -> Node) -> u32 {
        let from = self.args.len() as u32;
        self.args.extend_from_slice(list);
        let to = self.args.len() as u32;
        self.node(make(from, to))
    }

    /// The node reading series `id` so.
    fn input(&mut self, id: u64, read: Read) -> u32 {
        if let Some(&n) = self.input_nodes.get(&(id, read)) {
            return n;
        }
        let i = self.reads.len() as u32;
        self.reads.push(read);
        let (back, newest) = match read {
            Read::Value | Read::Timestamp => (self.lookback, true),
            Read::Range(_, range) => (range, false),
        };
        let b = match self
            .batches
            .iter()
            .position(|b| b.back == back && b.newest == newest)
        {
            Some(b) => b,
            None => {
                self.batches.push(Batch {
                    back,
                    newest,
                    ..Batch::default()
                });
                self.batches.len() - 1
            }
        };
        self.batches[b].ids.push(id);
        self.batches[b].inputs.push(i);
        let n = self.node(Node::Input(i));
        self.input_nodes.insert((id, read), n);
        n
    }

    /// Evaluates every expression at `t` (ms); read the results with [`PlanSet::value`].
    pub fn eval(&mut self, src: &dyn IdSource, t: i64) -> Result<(), QueryError> {
        self.read_inputs(src, t)?;
        for i in 0..self.nodes.len() {
            let v = self.eval_node(self.nodes[i], t);
            self.present[i] = v.is_some();
            self.values[i] = v.unwrap_or(0.0);
        }
        Ok(())
    }

    fn read_inputs(&mut self, src: &dyn IdSource, t: i64) -> Result<(), QueryError> {
        let (buf, ends, pts) = (&mut self.buf, &mut self.ends, &mut self.pts);
        for b in &self.batches {
            buf.clear();
            ends.clear();
            src.read_ids(&b.ids, t - b.back, t, b.newest, buf, ends)?;
            let mut start = 0;
            for (k, &input) in b.inputs.iter().enumerate() {
                let end = ends.get(k).copied().unwrap_or(start).min(buf.len());
                let samples = &buf[start.min(end)..end];
                start = end;
                let i = input as usize;
                self.inputs[i] = match self.reads[i] {
                    Read::Value => samples.last().filter(|s| !is_stale(s.v)).map(|s| s.v),
                    Read::Timestamp => samples
                        .last()
                        .filter(|s| !is_stale(s.v))
                        .map(|s| s.t as f64 / 1000.0),
                    Read::Range(f, range) => {
                        pts.clear();
                        pts.extend(
                            samples
                                .iter()
                                .filter(|s| !is_stale(s.v))
                                .map(|s| (s.t, s.v)),
                        );
                        f.eval(Window {
                            pts,
                            t,
                            end: t,
                            range,
                        })
                    }
                };
            }
        }
        Ok(())
    }

    fn get(&self, n: u32) -> Option<f64> {
        let i = n as usize;
        self.present[i].then(|| self.values[i])
    }

    fn any_present(&self, from: u32, to: u32) -> bool {
        self.args[from as usize..to as usize]
            .iter()
            .any(|&a| self.present[a as usize])
    }

    fn eval_node(&self, n: Node, t: i64) -> Option<f64> {
        match n {
            Node::Input(i) => self.inputs[i as usize],
            Node::Const(v) => Some(v),
            Node::Time => Some(t as f64 / 1000.0),
            Node::Neg(a) => self.get(a).map(|v| -v),
            Node::Bin { op, mode, l, r } => {
                let (a, b) = (self.get(l)?, self.get(r)?);
                let (v, holds) = apply(op, a, b);
                match mode {
                    BinMode::Value => Some(v),
                    BinMode::Filter => holds.then_some(v),
                    BinMode::Bool => Some(f64::from(u8::from(holds))),
                }
            }
            Node::Agg { op, from, to } => {
                let mut acc = Acc::default();
                for &a in &self.args[from as usize..to as usize] {
                    if let Some(v) = self.get(a) {
                        let first = acc.count == 0.0;
                        acc.count += 1.0;
                        acc.add(op, v, first);
                    }
                }
                (acc.count > 0.0).then(|| acc.result(op))
            }
            Node::First { from, to } => self.args[from as usize..to as usize]
                .iter()
                .find_map(|&a| self.get(a)),
            Node::Unless { node, from, to } => {
                if self.any_present(from, to) {
                    None
                } else {
                    self.get(node)
                }
            }
            Node::IfAny { node, from, to } => {
                if self.any_present(from, to) {
                    self.get(node)
                } else {
                    None
                }
            }
        }
    }
}
