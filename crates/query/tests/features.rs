//! Prediction features over a simulated cluster: every pod and node gets a row per step, and a
//! leaking pod's memory features show the leak and forecast the limit while nothing else does.

#![allow(clippy::unwrap_used)]

use kubepulse_model::K8sEvent;
use kubepulse_query::features::live::Tracker;
use kubepulse_query::features::{
    FORECAST_CAP_SECS, FeatureRow, FeatureSpec, ObjectKind, compute, feature_names, service_members,
};
use kubepulse_query::{Engine, EngineOptions, MemSource};
use kubepulse_sim::record::record;
use kubepulse_sim::{Scenario, SimConfig, Simulator, Truth};

fn value(names: &[String], row: &FeatureRow, name: &str) -> f64 {
    row.values[names.iter().position(|n| n == name).unwrap()]
}

/// A quiet 4-node, 60-pod cluster with one fault from `scenario` (YAML), simulated for
/// `minutes`: its series in memory, its events, its ground truth and its start.
fn simulate(scenario: &str, minutes: i64) -> (MemSource, Vec<K8sEvent>, Truth, i64) {
    let cfg = SimConfig {
        nodes: 4,
        pods: 60,
        chaos_per_hour: 0.0,
        lookalikes: false,
        rollouts_per_day: 0.0,
        ..SimConfig::default()
    };
    let scenario = Scenario::parse("test.yaml", scenario).unwrap();
    let mut sim = Simulator::new(cfg, Some(&scenario), None).unwrap();
    let t0 = sim.now();
    let r = record(&mut sim, minutes);
    let src: MemSource = r.series.into_iter().collect();
    (src, r.events, sim.truth().clone(), t0)
}

/// Pod rows kept up to date over the `steps` steps before `end` equal `fresh`, the rows
/// computed from scratch at `end`.
fn assert_tracked_as_fresh(
    engine: &Engine,
    src: &MemSource,
    events: &[K8sEvent],
    spec: FeatureSpec,
    end: i64,
    steps: i64,
    fresh: &[FeatureRow],
) {
    let names = feature_names(ObjectKind::Pod);
    let mut tracker = Tracker::new(ObjectKind::Pod, spec);
    for t in (end - steps * spec.step..=end).step_by(spec.step as usize) {
        tracker.advance(engine, src, events, t).unwrap();
    }
    let tracked = tracker.advance(engine, src, events, end).unwrap();
    assert_eq!(tracked.len(), fresh.len());
    for (a, b) in tracked.iter().zip(fresh) {
        assert_eq!((&a.namespace, &a.name, a.t), (&b.namespace, &b.name, b.t));
        for (i, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
            let same = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * (1.0 + y.abs());
            assert!(same, "{} {}: {x} vs {y}", a.name, names[i]);
        }
    }
}

#[test]
fn a_failing_dependency_shows_in_its_callers_dependency_features() {
    let (src, events, _, t0) = simulate(
        "faults:\n  - kind: failing_dependency\n    at: 20m\n    target: {namespace: shop, service: catalog-db}\n    severity: 0.9\n    duration: 1h\n",
        35,
    );
    let engine = Engine::new(EngineOptions::default());
    let (before, after) = (t0 + 18 * 60_000, t0 + 34 * 60_000);
    let names = feature_names(ObjectKind::Pod);
    let rows = |t| {
        compute(
            &engine,
            &src,
            &events,
            ObjectKind::Pod,
            t,
            t,
            FeatureSpec::default(),
        )
        .unwrap()
    };
    let members = service_members(&engine, &src, before, after, 60_000).unwrap();
    let of = |rows: &[FeatureRow], service: &str, f: &str| -> Vec<f64> {
        let (_, pods) = members
            .iter()
            .find(|((ns, s), _)| ns == "shop" && s == service)
            .unwrap();
        rows.iter()
            .filter(|r| r.namespace == "shop" && pods.iter().any(|m| m.pod == r.name))
            .map(|r| value(&names, r, f))
            .collect()
    };
    let (healthy, failing) = (rows(before), rows(after));
    // catalog calls catalog-db: healthy before, most calls failing after.
    let ratio = "dependency_error_ratio.last";
    assert!(
        of(&healthy, "catalog", ratio).iter().all(|v| *v < 0.02),
        "{:?}",
        of(&healthy, "catalog", ratio)
    );
    let now = of(&failing, "catalog", ratio);
    assert!(!now.is_empty() && now.iter().all(|v| *v > 0.3), "{now:?}");
    assert!(
        of(&failing, "catalog", "dependency_latency_seconds.last")
            .iter()
            .all(|v| *v > 0.0)
    );
    // cart calls only cart-cache; catalog-db calls nothing, so it has no such features.
    let cart = of(&failing, "cart", ratio);
    assert!(
        !cart.is_empty() && cart.iter().all(|v| *v < 0.02),
        "{cart:?}"
    );
    assert!(of(&failing, "catalog-db", ratio).iter().all(|v| v.is_nan()));
}

#[test]
fn a_memory_leak_shows_in_its_pods_features_only() {
    let (src, events, truth, t0) = simulate(
        "faults:\n  - kind: memory_leak\n    at: 20m\n    target: {namespace: shop, workload: cart}\n    severity: 0.8\n    duration: 2h\n",
        40,
    );
    let target = truth.faults[0].target.name.clone();
    let oom = truth
        .failures
        .iter()
        .find(|f| f.object.name == target)
        .unwrap()
        .t;
    let engine = Engine::new(EngineOptions::default());
    let spec = FeatureSpec::default();
    let (start, end) = (t0 + 25 * 60_000, oom - 60_000);
    let pods = compute(&engine, &src, &events, ObjectKind::Pod, start, end, spec).unwrap();
    let names = feature_names(ObjectKind::Pod);
    assert!(pods.iter().all(|r| r.values.len() == names.len()));
    let steps = ((end - start) / spec.step + 1) as usize;
    let objects: std::collections::BTreeSet<_> = pods.iter().map(|r| &r.name).collect();
    assert!(objects.len() >= 55, "{} pods", objects.len());
    assert!(pods.len() >= objects.len() * steps * 9 / 10);

    let last = pods
        .iter()
        .filter(|r| r.name == target)
        .max_by_key(|r| r.t)
        .unwrap();
    let eta = value(&names, last, "memory_limit_ratio.seconds_to_limit");
    let real = (oom - last.t) as f64 / 1000.0;
    assert!(
        value(&names, last, "memory_limit_ratio.slope") > 0.0,
        "{last:?}"
    );
    assert!(
        (eta - real).abs() < 180.0,
        "forecast {eta} s, real {real} s"
    );
    // No other pod is forecast to reach its memory limit within the hour.
    let others = pods
        .iter()
        .filter(|r| r.name != target && r.t == last.t)
        .filter(|r| {
            value(&names, r, "memory_limit_ratio.seconds_to_limit") < FORECAST_CAP_SECS / 2.0
        })
        .count();
    assert_eq!(others, 0);

    // The leaking pod serves the cart service, alongside its other replicas.
    let members = service_members(&engine, &src, start, end, 60_000).unwrap();
    let cart = members
        .iter()
        .find(|(_, m)| m.iter().any(|p| p.pod == target))
        .unwrap();
    assert_eq!(cart.0.0, "shop");
    assert!(
        cart.1
            .iter()
            .all(|m| m.from >= start && m.to <= end && m.from <= m.to)
    );

    // Kept up to date step by step, the rows are those computed from scratch.
    let fresh = compute(&engine, &src, &events, ObjectKind::Pod, end, end, spec).unwrap();
    assert_tracked_as_fresh(&engine, &src, &events, spec, end, 20, &fresh);

    let nodes = compute(&engine, &src, &events, ObjectKind::Node, end, end, spec).unwrap();
    let names = feature_names(ObjectKind::Node);
    assert_eq!(nodes.len(), 4, "{nodes:?}");
    for n in &nodes {
        assert_eq!(value(&names, n, "ready.last"), 1.0);
        let busy = value(&names, n, "cpu_busy_ratio.last");
        assert!((0.0..=1.0).contains(&busy), "{busy}");
    }
}

#[test]
fn a_restarted_build_is_given_the_time_its_earlier_run_lasted() {
    // The new build exits about 245 s after it starts.
    let (src, events, truth, t0) = simulate(
        "faults:\n  - kind: bad_rollout\n    at: 2m\n    target: {namespace: shop, workload: cart}\n    severity: 0.5\n",
        14,
    );
    let engine = Engine::new(EngineOptions::default());
    let spec = FeatureSpec::default();
    let names = feature_names(ObjectKind::Pod);
    // A minute before the first pod's second exit (its crash loop), with its first one behind.
    let end = truth.failures.iter().map(|f| f.t).min().unwrap() - 60_000;
    assert!(end > t0 + 5 * 60_000, "{:?}", truth.failures);
    let fresh = compute(&engine, &src, &events, ObjectKind::Pod, end, end, spec).unwrap();
    let restarted: Vec<&FeatureRow> = fresh
        .iter()
        .filter(|r| value(&names, r, "restarts.last") == 1.0)
        .collect();
    assert!(!restarted.is_empty(), "{:?}", truth.failures);
    for r in &restarted {
        let left = value(&names, r, "run_left_seconds.last");
        assert!((0.0..=300.0).contains(&left), "{}: {left}", r.name);
    }
    // Kept up to date across the restarts, the rows are those computed from scratch.
    assert_tracked_as_fresh(&engine, &src, &events, spec, end, 40, &fresh);
}
