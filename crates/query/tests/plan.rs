//! Plans give what instant queries give: every prediction signal over a chaotic simulated
//! cluster, and generated expressions over generated series, compared step by step with the
//! engine.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use kubepulse_model::Labels;
use kubepulse_query::features::{NODE_SIGNALS, POD_SIGNALS};
use kubepulse_query::plan::PlanSet;
use kubepulse_query::{Engine, EngineOptions, IdSource, MemSource, QueryValue, Source};
use kubepulse_sim::record::record;
use kubepulse_sim::{SimConfig, Simulator};
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

/// The plan's present outputs for expression `i`, by labels.
fn planned(set: &PlanSet, i: usize) -> BTreeMap<Labels, f64> {
    set.outputs(i)
        .iter()
        .filter_map(|(l, n)| set.value(*n).map(|v| (l.clone(), v)))
        .collect()
}

/// The engine's instant result, by labels; `None` when the query fails at `t`.
fn evaluated(
    engine: &Engine,
    src: &dyn Source,
    expr: &str,
    t: i64,
) -> Option<BTreeMap<Labels, f64>> {
    let r = engine.instant(src, expr, t).ok()?;
    let QueryValue::Vector(v) = r.value else {
        panic!("{expr}: not a vector");
    };
    Some(v.into_iter().map(|s| (s.labels, s.v)).collect())
}

/// Compares plan and engine at `t` for every expression; returns how many compared.
fn compare(engine: &Engine, src: &MemSource, set: &mut PlanSet, exprs: &[&str], t: i64) -> usize {
    let ids: &dyn IdSource = src;
    set.eval(ids, t).unwrap();
    let mut n = 0;
    for (i, e) in exprs.iter().enumerate() {
        let Some(want) = evaluated(engine, src, e, t) else {
            continue;
        };
        let got = planned(set, i);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{e} at {t}"
        );
        for (l, w) in &want {
            assert!(close(got[l], *w), "{e} at {t}, {l:?}: {} vs {w}", got[l]);
        }
        n += 1;
    }
    n
}

#[test]
fn every_signal_plans_to_what_the_engine_gives() {
    let cfg = SimConfig {
        nodes: 5,
        pods: 60,
        chaos_per_hour: 30.0,
        rollouts_per_day: 96.0,
        seed: 23,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg, None, None).unwrap();
    let t0 = sim.now();
    let r = record(&mut sim, 45);
    let src: MemSource = r.series.into_iter().collect();
    let engine = Engine::new(EngineOptions::default());
    let exprs: Vec<&str> = POD_SIGNALS
        .iter()
        .chain(NODE_SIGNALS)
        .map(|s| s.expr)
        .collect();
    let (from, to) = (t0 + 15 * 60_000, t0 + 45 * 60_000);
    let lookback = engine.options().lookback;
    let mut set = PlanSet::build(&src, &exprs, from, i64::MAX, lookback).unwrap();
    let mut compared = 0;
    for t in (from..=to).step_by(30_000) {
        compared += compare(&engine, &src, &mut set, &exprs, t);
    }
    // Every signal compared at every step (none failed in the engine).
    assert_eq!(compared, exprs.len() * 61);
}

/// A few metrics over small label alphabets, with gaps, resets and staleness markers.
fn series() -> impl Strategy<Value = Vec<(u8, u8, u8, Vec<Option<f64>>)>> {
    prop::collection::vec(
        (
            0u8..3,
            0u8..3,
            0u8..2,
            prop::collection::vec(prop::option::weighted(0.8, -5.0f64..50.0), 24),
        ),
        1..12,
    )
}

fn source(spec: &[(u8, u8, u8, Vec<Option<f64>>)]) -> MemSource {
    let mut src = MemSource::new();
    for (name, job, inst, values) in spec {
        let name = ["m_total", "g", "h"][*name as usize];
        let job = ["a", "b", "c"][*job as usize];
        let inst = ["x", "y"][*inst as usize];
        let l = Labels::from_pairs([("__name__", name), ("job", job), ("instance", inst)]).unwrap();
        let samples = values.iter().enumerate().filter_map(|(i, v)| {
            let t = i as i64 * 20_000;
            v.map(|v| {
                (
                    t,
                    if v > 48.0 {
                        kubepulse_model::STALE_NAN
                    } else {
                        v
                    },
                )
            })
        });
        src.add(l, samples);
    }
    src
}

const EXPRS: &[&str] = &[
    "m_total",
    "-g",
    "rate(m_total[1m])",
    "increase(m_total[2m])",
    "irate(m_total[1m])",
    "delta(g[1m])",
    "idelta(g[1m])",
    "sum by (job) (rate(m_total[1m]))",
    "avg without (instance) (g)",
    "max(g) - min(g)",
    "count by (instance) (g) + 1",
    "stddev by (job) (g)",
    "group by (job) (h)",
    "g / on (job, instance) m_total",
    "g * ignoring (instance) group_left sum by (job) (h)",
    "sum by (job) (h) / ignoring (instance) group_right g",
    "g > 10",
    "10 < g",
    "g >= bool 5",
    "g == bool h",
    "g > h",
    "g and h",
    "g or h",
    "g unless h",
    "g or on (job) m_total",
    "time() - timestamp(g)",
    "2 * 3 + g",
    "label_replace(g, \"team\", \"t-$1\", \"job\", \"(.*)\")",
    "max by (team) (label_replace(g, \"team\", \"$1\", \"instance\", \"(.*)\"))",
    "sum by (job) (g or 0 * h)",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn plans_answer_as_the_engine_does(spec in series()) {
        let src = source(&spec);
        // Adding series one by one or all at once holds the same.
        let mut all = Vec::new();
        for m in [kubepulse_store::Matcher::equal("__name__", "g"), kubepulse_store::Matcher::equal("__name__", "h")] {
            for s in src.select(&[m], 0, i64::MAX).unwrap() {
                let samples: Vec<(i64, f64)> = s.samples.iter().map(|x| (x.t, x.v)).collect();
                all.push((s.labels.clone(), samples.clone()));
                all.push((s.labels, samples));
            }
        }
        let bulk: MemSource = all.into_iter().collect();
        let bits = |src: &MemSource| -> Vec<(Labels, Vec<(i64, u64)>)> {
            let m = [kubepulse_store::Matcher::equal("__name__", "g")];
            src.select(&m, 0, i64::MAX)
                .unwrap()
                .into_iter()
                .map(|s| (s.labels, s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect()))
                .collect()
        };
        prop_assert_eq!(bits(&bulk), bits(&src));
        let engine = Engine::new(EngineOptions::default());
        let lookback = engine.options().lookback;
        let mut set = PlanSet::build(&src, EXPRS, 0, i64::MAX, lookback).unwrap();
        let mut compared = 0;
        for t in (0..=480_000).step_by(40_000) {
            compared += compare(&engine, &src, &mut set, EXPRS, t);
        }
        // Steps where PromQL refuses duplicates are left out; they are few.
        prop_assert!(compared >= EXPRS.len() * 13 / 2, "{compared}");
    }
}

#[test]
fn what_cannot_be_planned_is_refused_with_the_reason() {
    let src = MemSource::new();
    for (expr, why) in [
        ("g offset 5m", "offset"),
        ("avg_over_time(g[5m])", "function avg_over_time"),
        ("topk(3, g)", "aggregation topk"),
        ("max_over_time(g[5m:1m])", "function max_over_time"),
        ("rate(g[5m:1m])", "rate of anything but a selector"),
    ] {
        let err = PlanSet::build(&src, &[expr], 0, 1, 300_000).unwrap_err();
        assert!(err.to_string().contains(why), "{expr}: {err}");
    }
    assert!(PlanSet::build(&src, &["sum("], 0, 1, 300_000).is_err());
}

#[test]
fn a_plan_over_the_store_outlives_series_it_does_not_select() {
    use kubepulse_store::{Append, Db, SeriesWrite, StoreConfig};
    let tmp = tempfile::tempdir().unwrap();
    let clock = kubepulse_model::ManualClock::new(600_000);
    let (db, _) = Db::open(
        tmp.path(),
        StoreConfig::default(),
        std::sync::Arc::new(clock),
    )
    .unwrap();
    let samples: Vec<(i64, f64)> = (0..20).map(|i| (i * 15_000, i as f64)).collect();
    let put = |labels: &[(&str, &str)]| {
        db.append(&[SeriesWrite {
            labels,
            samples: &samples,
        }])
        .unwrap();
    };
    put(&[("__name__", "g"), ("job", "a")]);
    let src = kubepulse_query::StoreSource(&db);
    let expr = "sum by (job) (g)";
    let mut set = PlanSet::build(&src, &[expr], 0, i64::MAX, 300_000).unwrap();
    assert!(set.still_valid(&src).unwrap());
    // A series none of its selectors match leaves the plan valid, at the new generation.
    put(&[("__name__", "h"), ("job", "b")]);
    assert!(set.still_valid(&src).unwrap());
    assert_eq!(set.generation(), src.generation());
    // One they match does not.
    put(&[("__name__", "g"), ("job", "b")]);
    assert!(!set.still_valid(&src).unwrap());
    let mut set = PlanSet::build(&src, &[expr], 0, i64::MAX, 300_000).unwrap();
    let t = 19 * 15_000;
    set.eval(&src, t).unwrap();
    let engine = Engine::new(EngineOptions::default());
    let want = evaluated(&engine, &src, expr, t).unwrap();
    assert_eq!(want.len(), 2);
    assert_eq!(planned(&set, 0), want);
}
