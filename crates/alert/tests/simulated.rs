//! The built-in rule pack over the simulated cluster: the faults a scenario injects raise the
//! alerts meant for them, on the objects they hit, and a quiet cluster raises none.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use kubepulse_alert::{Alert, EvalContext, Group, Rule, Sink, builtin};
use kubepulse_model::Labels;
use kubepulse_query::{Engine, MemSource, Sample};
use kubepulse_sim::record::record;
use kubepulse_sim::{Scenario, SimConfig, Simulator};

struct Nowhere;

impl Sink for Nowhere {
    fn write(&mut self, _: &[Sample]) -> Result<(), String> {
        Ok(())
    }
    fn notify(&mut self, _: &Rule, _: Vec<Alert>) {}
}

/// Every alert that fired at some evaluation, as `alertname namespace/pod-or-node`.
fn fired(scenario: Option<&str>, minutes: i64) -> BTreeSet<String> {
    let cfg = SimConfig {
        chaos_per_hour: 0.0,
        lookalikes: false,
        ..SimConfig::default()
    };
    let sc = scenario.map(|s| Scenario::parse("test.yaml", s).unwrap());
    let mut sim = Simulator::new(cfg, sc.as_ref(), None).unwrap();
    let r = record(&mut sim, minutes);
    let src: MemSource = r.series.into_iter().collect();
    let mut groups: Vec<Group> = builtin::groups(None)
        .unwrap()
        .into_iter()
        .map(|g| Group::new(g, 60_000))
        .collect();
    let engine = Engine::default();
    let none = Labels::empty();
    let ctx = EvalContext {
        engine: &engine,
        source: Arc::new(src),
        external_labels: &none,
        external_url: "",
        resend_delay: 60_000,
    };
    let mut out = BTreeSet::new();
    let mut t = r.start - r.start % 60_000 + 60_000;
    while t <= r.end {
        for g in &mut groups {
            g.eval(t, &ctx, &mut Nowhere);
            for r in &g.rules {
                assert!(
                    r.last_error.is_none(),
                    "{}: {:?}",
                    r.rule.name(),
                    r.last_error
                );
            }
            for (_, a) in g.active_alerts() {
                if a.state == kubepulse_alert::AlertState::Firing {
                    let l = &a.labels;
                    let object = match (l.get("namespace"), l.get("pod")) {
                        (Some(n), Some(p)) => format!("{n}/{p}"),
                        _ => l
                            .get("node")
                            .or(l.get("instance"))
                            .unwrap_or("")
                            .to_string(),
                    };
                    out.insert(format!("{} {object}", l.get("alertname").unwrap_or("")));
                }
            }
        }
        t += 60_000;
    }
    out
}

#[test]
fn a_memory_leak_raises_oom_killed_on_the_leaking_workload() {
    let scenario = "name: leak\nfaults:\n  - kind: memory_leak\n    at: 5m\n    target: {namespace: shop, workload: cart}\n    severity: 0.9\n    duration: 60m\n";
    let got = fired(Some(scenario), 60);
    let oom: Vec<&String> = got
        .iter()
        .filter(|a| a.starts_with("KubeContainerOOMKilled "))
        .collect();
    assert!(!oom.is_empty(), "{got:?}");
    assert!(oom.iter().all(|a| a.contains("shop/cart-")), "{got:?}");
}

#[test]
fn a_bad_rollout_raises_crash_looping() {
    let scenario = "name: rollout\nfaults:\n  - kind: bad_rollout\n    at: 5m\n    target: {namespace: shop, workload: recommendation}\n    severity: 0.9\n    duration: 60m\n";
    let got = fired(Some(scenario), 60);
    assert!(
        got.iter()
            .any(|a| a.starts_with("KubePodCrashLooping shop/recommendation-")),
        "{got:?}"
    );
}

#[test]
fn a_quiet_cluster_raises_nothing() {
    let got = fired(None, 45);
    assert!(got.is_empty(), "{got:?}");
}
