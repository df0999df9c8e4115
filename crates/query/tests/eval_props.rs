//! Generated PromQL expressions never crash or hang the engine: each parses or is refused, and
//! each that parses evaluates (instant and range) to a result or an error.

#![allow(clippy::unwrap_used)]

use kubepulse_model::Labels;
use kubepulse_query::{Engine, EngineOptions, MemSource, QueryValue};
use proptest::prelude::*;

fn data() -> MemSource {
    let mut src = MemSource::new();
    for (name, job, k) in [
        ("a_total", "x", 1.0),
        ("a_total", "y", 2.0),
        ("b", "x", -1.0),
        ("b", "z", 0.5),
        ("h_bucket", "x", 3.0),
    ] {
        let labels = Labels::from_pairs([("__name__", name), ("job", job), ("le", "1")]).unwrap();
        let samples: Vec<(i64, f64)> = (0..60)
            .map(|i| {
                let v = match i % 17 {
                    0 => f64::NAN,
                    5 => 0.0,
                    _ => k * i as f64,
                };
                (i * 15_000, v)
            })
            .collect();
        src.add(labels, samples);
    }
    src
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a_total".to_string()),
        Just("b".to_string()),
        Just("h_bucket".to_string()),
        Just("{job=~\"x|y\"}".to_string()),
        Just("{__name__=~\".+\"}".to_string()),
        Just("b{job!=\"x\"} offset 1m".to_string()),
        Just("a_total @ 300".to_string()),
        Just("nothing".to_string()),
    ]
}

fn range_fn() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "deriv",
        "resets",
        "changes",
        "sum_over_time",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "count_over_time",
        "last_over_time",
        "stddev_over_time",
        "present_over_time",
        "absent_over_time",
        "mad_over_time",
    ])
}

fn vector_fn() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "abs",
        "ceil",
        "floor",
        "exp",
        "ln",
        "sqrt",
        "sgn",
        "round",
        "timestamp",
        "absent",
        "sort",
        "sort_desc",
        "hour",
        "year",
        "deg",
        "-",
    ])
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        selector(),
        (-3i32..100).prop_map(|n| n.to_string()),
        Just("NaN".to_string()),
        Just("vector(time())".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let ops = prop::sample::select(vec![
            "+",
            "-",
            "*",
            "/",
            "%",
            "^",
            "==",
            "!=",
            "> bool",
            "< bool",
            ">=",
            "and",
            "or",
            "unless",
            "atan2",
            "+ on(job)",
            "* ignoring(le)",
            "/ on(job) group_left",
            "- ignoring(le) group_right(job)",
        ]);
        let aggs = prop::sample::select(vec![
            "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar",
        ]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(l, o, r)| format!("({l}) {o} ({r})")),
            (aggs, inner.clone()).prop_map(|(a, e)| format!("{a} by (job) ({e})")),
            (range_fn(), selector(), 1u32..10).prop_map(|(f, s, m)| format!("{f}({s}[{m}m])")),
            (range_fn(), inner.clone(), 1u32..5)
                .prop_map(|(f, e, m)| format!("{f}(({e})[{m}m:30s])")),
            (vector_fn(), inner.clone()).prop_map(|(f, e)| if f == "-" {
                format!("-({e})")
            } else {
                format!("{f}({e})")
            }),
            (0i32..4, inner.clone()).prop_map(|(k, e)| format!("topk({k}, {e})")),
            inner.clone().prop_map(|e| format!("quantile(0.9, {e})")),
            inner
                .clone()
                .prop_map(|e| format!("count_values(\"v\", {e})")),
            inner
                .clone()
                .prop_map(|e| format!("histogram_quantile(0.5, {e})")),
            inner
                .clone()
                .prop_map(|e| format!("label_replace({e}, \"d\", \"$1\", \"job\", \"(.*)\")")),
            inner.prop_map(|e| format!("scalar({e})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_queries_evaluate_or_fail_cleanly(q in expr(), t in 0i64..900) {
        let src = data();
        let engine = Engine::new(EngineOptions {
            max_samples: 200_000,
            ..EngineOptions::default()
        });
        let at = t * 1000;
        if let Ok(r) = engine.instant(&src, &q, at)
            && let QueryValue::Vector(v) = &r.value {
                // An instant vector never holds two samples with the same labels.
                let mut labels: Vec<&Labels> = v.iter().map(|s| &s.labels).collect();
                labels.sort();
                prop_assert!(labels.windows(2).all(|w| w[0] != w[1]), "{q}");
            }
        if let Ok(r) = engine.range(&src, &q, at, at + 600_000, 30_000)
            && let QueryValue::Matrix(m) = &r.value {
                for s in m {
                    prop_assert!(s.points.windows(2).all(|w| w[0].0 < w[1].0), "{q}");
                    prop_assert!(s.points.iter().all(|p| (p.0 - at) % 30_000 == 0), "{q}");
                }
            }
    }
}

/// A canceled evaluation stops with Prometheus' `canceled` error; an uncanceled one with the
/// same options answers.
#[test]
fn canceled_evaluations_stop() {
    let src = data();
    let opts = EngineOptions::default();
    let q = "sum_over_time(rate(a_total[1m])[10m:1s])";
    let engine = Engine::new(opts.clone());
    assert!(engine.range(&src, q, 0, 900_000, 15_000).is_ok());
    opts.cancel.cancel();
    let err = Engine::new(opts)
        .range(&src, q, 0, 900_000, 15_000)
        .unwrap_err();
    assert_eq!(err.kind(), kubepulse_query::ErrorKind::Canceled, "{err}");
}
