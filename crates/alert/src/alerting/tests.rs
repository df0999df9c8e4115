use std::collections::BTreeMap;

use kubepulse_model::Labels;
use kubepulse_query::{QueryValue, Sample};

use super::*;
use crate::rulefile;

fn rule(extra: &str) -> Rule {
    let src = format!(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n{extra}"
    );
    rulefile::parse("t.yml", &src)
        .unwrap()
        .remove(0)
        .rules
        .remove(0)
}

fn up(instances: &[&str]) -> QueryValue {
    QueryValue::Vector(
        instances
            .iter()
            .map(|i| Sample {
                labels: Labels::from_pairs([("__name__", "up"), ("instance", *i)]).unwrap(),
                t: 0,
                v: 0.0,
            })
            .collect(),
    )
}

fn env() -> (Labels, String) {
    (Labels::empty(), String::new())
}

fn eval(st: &mut AlertingState, r: &Rule, v: QueryValue, t: i64) -> Vec<Sample> {
    let (l, u) = env();
    let e = RuleEnv {
        external_labels: &l,
        external_url: &u,
        query: None,
    };
    st.eval(r, v, t, 0, &e).unwrap()
}

fn states(st: &AlertingState) -> Vec<(String, AlertState)> {
    st.alerts()
        .iter()
        .map(|a| (a.labels.get("instance").unwrap_or("").to_string(), a.state))
        .collect()
}

#[test]
fn pending_then_firing_after_for_then_resolved_and_forgotten() {
    let r = rule("        for: 2m\n");
    let mut st = AlertingState::default();
    let out = eval(&mut st, &r, up(&["a"]), 0);
    assert_eq!(states(&st), vec![("a".into(), AlertState::Pending)]);
    let names: Vec<String> = out.iter().map(|s| s.labels.to_string()).collect();
    assert_eq!(
        names,
        vec![
            r#"ALERTS{alertname="A", alertstate="pending", instance="a"}"#,
            r#"ALERTS_FOR_STATE{alertname="A", instance="a"}"#
        ]
    );
    eval(&mut st, &r, up(&["a"]), 60_000);
    assert_eq!(states(&st)[0].1, AlertState::Pending);
    eval(&mut st, &r, up(&["a"]), 120_000);
    assert_eq!(states(&st)[0].1, AlertState::Firing);
    assert_eq!(st.alerts()[0].fired_at, 120_000);
    // Gone: resolved, kept 15 minutes, then forgotten.
    let out = eval(&mut st, &r, up(&[]), 180_000);
    assert!(out.is_empty());
    assert_eq!(states(&st)[0].1, AlertState::Inactive);
    assert_eq!(st.alerts()[0].resolved_at, 180_000);
    eval(&mut st, &r, up(&[]), 180_000 + RESOLVED_RETENTION);
    assert_eq!(st.alerts().len(), 1);
    eval(&mut st, &r, up(&[]), 180_000 + RESOLVED_RETENTION + 1);
    assert!(st.alerts().is_empty());
}

#[test]
fn a_pending_alert_that_goes_away_is_dropped_at_once() {
    let r = rule("        for: 5m\n");
    let mut st = AlertingState::default();
    eval(&mut st, &r, up(&["a", "b"]), 0);
    eval(&mut st, &r, up(&["b"]), 60_000);
    assert_eq!(states(&st), vec![("b".into(), AlertState::Pending)]);
}

#[test]
fn keep_firing_for_holds_a_firing_alert_after_its_condition_clears() {
    let r = rule("        keep_firing_for: 2m\n");
    let mut st = AlertingState::default();
    eval(&mut st, &r, up(&["a"]), 0);
    assert_eq!(states(&st)[0].1, AlertState::Firing);
    eval(&mut st, &r, up(&[]), 60_000);
    eval(&mut st, &r, up(&[]), 120_000);
    assert_eq!(states(&st)[0].1, AlertState::Firing);
    eval(&mut st, &r, up(&[]), 180_000);
    assert_eq!(states(&st)[0].1, AlertState::Inactive);
    // Coming back while held resets the hold.
    let mut st = AlertingState::default();
    eval(&mut st, &r, up(&["a"]), 0);
    eval(&mut st, &r, up(&[]), 60_000);
    eval(&mut st, &r, up(&["a"]), 120_000);
    eval(&mut st, &r, up(&[]), 180_000);
    eval(&mut st, &r, up(&[]), 240_000);
    assert_eq!(states(&st)[0].1, AlertState::Firing);
}

#[test]
fn labels_and_annotations_are_templated_and_duplicates_refused() {
    let r = rule(
        "        labels:\n          severity: '{{ if eq $labels.instance \"a\" }}page{{ else }}ticket{{ end }}'\n        annotations:\n          summary: '{{ $labels.instance }} is {{ $value }} ({{ $labels.nothing }})'\n",
    );
    let mut st = AlertingState::default();
    eval(&mut st, &r, up(&["a", "b"]), 0);
    let a = st.alerts();
    assert_eq!(a[0].labels.get("severity"), Some("page"));
    assert_eq!(a[1].labels.get("severity"), Some("ticket"));
    assert_eq!(a[0].annotations["summary"], "a is 0 ()");
    // Two samples that differ only by their metric name collide once it is dropped.
    let two = QueryValue::Vector(
        ["up", "down"]
            .iter()
            .map(|n| Sample {
                labels: Labels::from_pairs([("__name__", *n), ("instance", "a")]).unwrap(),
                t: 0,
                v: 1.0,
            })
            .collect(),
    );
    let (l, u) = env();
    let e = RuleEnv {
        external_labels: &l,
        external_url: &u,
        query: None,
    };
    let err = AlertingState::default()
        .eval(&r, two, 0, 0, &e)
        .unwrap_err();
    assert!(err.to_string().contains("same labelset"), "{err}");
}

#[test]
fn limit_clears_the_alerts_and_errs() {
    let r = rule("");
    let (l, u) = env();
    let e = RuleEnv {
        external_labels: &l,
        external_url: &u,
        query: None,
    };
    let mut st = AlertingState::default();
    let err = st.eval(&r, up(&["a", "b", "c"]), 0, 2, &e).unwrap_err();
    assert_eq!(err.to_string(), "exceeded limit of 2 with 3 alerts");
    assert!(st.alerts().is_empty());
}

#[test]
fn firing_alerts_are_sent_again_after_the_resend_delay_and_once_resolved() {
    let r = rule("");
    let mut st = AlertingState::default();
    let t0 = 1_000_000;
    eval(&mut st, &r, up(&["a"]), t0);
    assert_eq!(st.take_to_send(t0, 60_000, 15_000).len(), 1);
    assert!(st.take_to_send(t0 + 30_000, 60_000, 15_000).is_empty());
    let again = st.take_to_send(t0 + 75_000, 60_000, 15_000);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].valid_until, t0 + 75_000 + 4 * 60_000);
    eval(&mut st, &r, up(&[]), t0 + 90_000);
    let resolved = st.take_to_send(t0 + 90_000, 60_000, 15_000);
    assert_eq!(resolved[0].state, AlertState::Inactive);
    assert_eq!(resolved[0].resolved_at, t0 + 90_000);
    let _: BTreeMap<String, String> = resolved[0].annotations.clone();
}
