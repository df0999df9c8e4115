//! Features kept up to date as time passes: each object's signal windows are held between calls,
//! and each call evaluates the signals only at the steps since the last one (one step when
//! called every interval) instead of over the whole long window again. The rows are the ones
//! [`super::compute`] gives for the same time.
//!
//! The signals are planned ([`crate::plan`]): resolved against the source's series once, then
//! each step only reads the inputs' newest samples by id. The plan is rebuilt when series its
//! selectors match are added, and every few minutes, so that series gone quiet leave it and a
//! series that resumes after a gap longer than the lookback joins it.

use std::collections::HashMap;

use kubepulse_model::{K8sEvent, Labels};

use super::{
    FeatureRow, FeatureSpec, ObjectKind, events, short_len, signal_values_into, signals, window_len,
};
use crate::plan::PlanSet;
use crate::{Engine, IdSource, QueryError};

/// A plan older than this is rebuilt (ms).
const REPLAN_MS: i64 = 300_000;

/// Object key: namespace (empty for nodes) and name.
type Key = (String, String);

/// The key of the object a signal's series describes.
pub(crate) fn object_key(kind: ObjectKind, l: &Labels) -> Option<Key> {
    let key = match kind {
        ObjectKind::Pod => (
            l.get("namespace").unwrap_or_default().to_string(),
            l.get("pod").unwrap_or_default().to_string(),
        ),
        ObjectKind::Node => (String::new(), l.get("node").unwrap_or_default().to_string()),
    };
    (!key.1.is_empty()).then_some(key)
}

/// Signals planned, and where each output goes.
#[derive(Debug)]
struct Planned {
    set: PlanSet,
    /// Step the plan was built at.
    built: i64,
    /// Earliest step it covers.
    from: i64,
    /// Per signal, (node, object index) of each output.
    routes: Vec<Vec<(u32, u32)>>,
}

/// One kind of object's windows, advanced step by step.
#[derive(Debug)]
pub struct Tracker {
    kind: ObjectKind,
    spec: FeatureSpec,
    last: Option<i64>,
    /// Per signal, the points its window keeps: the long window's for signals with trends (only
    /// trends read further back), the short window's for the others.
    lens: Vec<usize>,
    /// Per signal, where its ring starts in an object's rings.
    offsets: Vec<usize>,
    /// Per object, per signal, a ring of its points (NaN where missing), the newest at `tick`
    /// modulo its length.
    keys: Vec<Key>,
    rings: Vec<Vec<f64>>,
    index: HashMap<Key, usize>,
    /// Objects in key order.
    order: Vec<usize>,
    /// Steps taken.
    tick: usize,
    plan: Option<Planned>,
    /// The rows of the last call, their allocations reused.
    rows: Vec<FeatureRow>,
    /// One object's windows in time order, while its row is computed.
    scratch: Vec<f64>,
}

impl Tracker {
    /// A tracker with nothing seen yet.
    pub fn new(kind: ObjectKind, spec: FeatureSpec) -> Self {
        let lens: Vec<usize> = signals(kind)
            .iter()
            .map(|s| {
                if s.trend {
                    window_len(spec)
                } else {
                    short_len(spec)
                }
            })
            .collect();
        let offsets = lens
            .iter()
            .scan(0, |at, len| {
                *at += len;
                Some(*at - len)
            })
            .collect();
        Self {
            kind,
            spec,
            last: None,
            lens,
            offsets,
            keys: Vec::new(),
            rings: Vec::new(),
            index: HashMap::new(),
            order: Vec::new(),
            tick: 0,
            plan: None,
            rows: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Brings the windows up to `t` (rounded down to a step) and returns every object's row,
    /// in key order.
    pub fn advance(
        &mut self,
        engine: &Engine,
        src: &dyn IdSource,
        events: &[K8sEvent],
        t: i64,
    ) -> Result<&[FeatureRow], QueryError> {
        let step = self.spec.step.max(1);
        let len = window_len(self.spec);
        let t = t - t.rem_euclid(step);
        let new = match self.last {
            Some(last) if t <= last => 0,
            Some(last) => (((t - last) / step) as usize).min(len),
            None => len,
        };
        if new > 0 {
            self.shift(new);
            let from = t - (new as i64 - 1) * step;
            self.fill(engine, src, from, t, new)?;
            if self.order.len() != self.keys.len() {
                let mut order: Vec<usize> = (0..self.keys.len()).collect();
                order.sort_by(|&a, &b| self.keys[a].cmp(&self.keys[b]));
                self.order = order;
            }
            self.last = Some(t);
        }
        let index = events::EventIndex::new(events, self.kind);
        let at = self.last.unwrap_or(t);
        let mut used = 0;
        self.scratch.resize(self.width(), f64::NAN);
        // Per signal: where its ring starts, its length, and its oldest point.
        let layout: Vec<(usize, usize, usize)> = (self.offsets.iter().zip(&self.lens))
            .map(|(&off, &len)| (off, len, (self.tick + 1) % len))
            .collect();
        for &o in &self.order {
            let (key, ring) = (&self.keys[o], &self.rings[o]);
            for &(off, len, oldest) in &layout {
                let (w, r) = (&mut self.scratch[off..off + len], &ring[off..off + len]);
                w[..len - oldest].copy_from_slice(&r[oldest..]);
                w[len - oldest..].copy_from_slice(&r[..oldest]);
            }
            let slices: Vec<&[f64]> = (layout.iter())
                .map(|&(off, len, _)| &self.scratch[off..off + len])
                .collect();
            if used == self.rows.len() {
                self.rows.push(FeatureRow {
                    kind: self.kind,
                    namespace: String::new(),
                    name: String::new(),
                    t: at,
                    values: Vec::new(),
                });
            }
            let row = &mut self.rows[used];
            if !signal_values_into(self.kind, &slices, self.spec, &mut row.values) {
                continue;
            }
            index.counts(
                key,
                at,
                self.spec.window,
                self.spec.long_window,
                &mut row.values,
            );
            if (&row.namespace, &row.name) != (&key.0, &key.1) {
                row.namespace.clone_from(&key.0);
                row.name.clone_from(&key.1);
            }
            row.t = at;
            used += 1;
        }
        self.rows.truncate(used);
        Ok(&self.rows)
    }

    /// Points an object's rings hold.
    fn width(&self) -> usize {
        self.lens.iter().sum()
    }

    /// Moves every window `new` steps on, the new points missing until filled.
    fn shift(&mut self, new: usize) {
        let mut slots = Vec::with_capacity(self.lens.len());
        for _ in 0..new {
            self.tick += 1;
            slots.clear();
            slots.extend((0..self.lens.len()).filter_map(|s| self.slot(s, 0)));
            for ring in &mut self.rings {
                for &slot in &slots {
                    ring[slot] = f64::NAN;
                }
            }
        }
    }

    /// The object with this key, added with empty windows if new.
    fn object(&mut self, key: Key) -> usize {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.keys.len();
        self.index.insert(key.clone(), i);
        self.keys.push(key);
        self.rings.push(vec![f64::NAN; self.width()]);
        i
    }

    /// Where signal `signal`'s point `back` steps before the newest is in an object's rings
    /// (none when its window does not reach back that far).
    fn slot(&self, signal: usize, back: usize) -> Option<usize> {
        let len = self.lens[signal];
        (back < len).then(|| self.offsets[signal] + (self.tick % len + len - back) % len)
    }

    /// Fills the new steps from the signals' plan, rebuilt first if it may be out of date.
    fn fill(
        &mut self,
        engine: &Engine,
        ids: &dyn IdSource,
        from: i64,
        t: i64,
        new: usize,
    ) -> Result<(), QueryError> {
        let stale = match self.plan.as_mut() {
            None => true,
            Some(p) => from < p.from || t - p.built >= REPLAN_MS || !p.set.still_valid(ids)?,
        };
        if stale {
            self.plan = None;
            self.forget_quiet();
            let exprs: Vec<&str> = signals(self.kind).iter().map(|s| s.expr).collect();
            let watch = kubepulse_model::clock::Stopwatch::start();
            let set = PlanSet::build(ids, &exprs, from, i64::MAX, engine.options().lookback)?;
            tracing::debug!(
                kind = ?self.kind,
                nodes = set.len(),
                seconds = watch.elapsed_secs(),
                "signals planned"
            );
            let mut routes = Vec::with_capacity(exprs.len());
            for i in 0..exprs.len() {
                let mut r = Vec::with_capacity(set.outputs(i).len());
                for (labels, node) in set.outputs(i) {
                    if let Some(key) = object_key(self.kind, labels) {
                        r.push((*node, self.object(key) as u32));
                    }
                }
                routes.push(r);
            }
            self.plan = Some(Planned {
                set,
                built: t,
                from,
                routes,
            });
        }
        let Some(mut plan) = self.plan.take() else {
            return Ok(());
        };
        let step = self.spec.step.max(1);
        let result = (0..new).try_for_each(|k| {
            plan.set.eval(ids, from + k as i64 * step)?;
            for (i, routes) in plan.routes.iter().enumerate() {
                let Some(slot) = self.slot(i, new - 1 - k) else {
                    continue;
                };
                for &(node, obj) in routes {
                    if let Some(v) = plan.set.value(node) {
                        self.rings[obj as usize][slot] = v;
                    }
                }
            }
            Ok(())
        });
        self.plan = Some(plan);
        result
    }

    /// Drops the objects with no point left in any window (their indices change: called
    /// before a plan routes to them).
    fn forget_quiet(&mut self) {
        let seen = |r: &Vec<f64>| r.iter().any(|v| !v.is_nan());
        if self.rings.iter().all(seen) {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        let rings = std::mem::take(&mut self.rings);
        self.index.clear();
        self.order.clear();
        for (key, ring) in keys.into_iter().zip(rings) {
            if seen(&ring) {
                self.index.insert(key.clone(), self.keys.len());
                self.keys.push(key);
                self.rings.push(ring);
            }
        }
    }
}
