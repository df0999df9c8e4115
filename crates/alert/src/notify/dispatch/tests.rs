use super::*;
use crate::notify::config::NotifyConfig;
use crate::notify::silence::{ApiMatcher, Silence};

const CFG: &str = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['severity=~".+"']
      receiver: team
receivers:
  - name: team
    webhook_configs: [{url: "http://127.0.0.1:1/team"}]
  - name: pager
    webhook_configs: [{url: "http://127.0.0.1:1/pager", send_resolved: false}]
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['alertname="PodDown"']
    equal: [node]
"#;

fn dispatcher() -> Dispatcher {
    let cfg = NotifyConfig::parse("am.yml", CFG).unwrap();
    let mut integrations = BTreeMap::new();
    for r in &cfg.receivers {
        integrations.insert(
            r.name.clone(),
            r.webhook_configs
                .iter()
                .map(|w| w.send_resolved.unwrap_or(true))
                .collect(),
        );
    }
    Dispatcher {
        route: Route::root(cfg.route.as_ref().unwrap()).unwrap(),
        inhibit: cfg
            .inhibit_rules
            .iter()
            .map(|c| InhibitRule::new(c).unwrap())
            .collect(),
        integrations,
        resolve_timeout: 300_000,
        state: PipelineState::default(),
    }
}

fn alert(name: &str, extra: &[(&str, &str)], starts: i64, ends: i64) -> PipelineAlert {
    let mut pairs = vec![("alertname", name)];
    pairs.extend_from_slice(extra);
    PipelineAlert {
        labels: Labels::from_pairs(pairs).unwrap(),
        annotations: BTreeMap::new(),
        starts_at: starts,
        ends_at: ends,
        updated_at: 0,
        generator_url: String::new(),
    }
}

const T: i64 = 1_000_000_000;

/// Ticks every second from `from` to `to` (inclusive), delivering every notification at once.
fn run(d: &mut Dispatcher, from: i64, to: i64) -> Vec<(i64, String, usize)> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        for n in d.tick(t) {
            d.record(&n.log_key, &n.firing, &n.resolved, t);
            out.push((t, n.receiver.clone(), n.alerts.len()));
        }
        t += 1000;
    }
    out
}

#[test]
fn group_wait_then_group_interval_then_repeat() {
    let mut d = dispatcher();
    d.receive(alert("A", &[("pod", "1")], T, T + 3_600_000 * 5), T);
    assert!(run(&mut d, T, T + 29_000).is_empty(), "waits group_wait");
    assert_eq!(
        run(&mut d, T + 30_000, T + 30_000),
        vec![(T + 30_000, "team".into(), 1)]
    );
    // A second alert of the same group waits for the group interval.
    d.receive(
        alert("A", &[("pod", "2")], T + 60_000, T + 3_600_000 * 5),
        T + 60_000,
    );
    let sent = run(&mut d, T + 31_000, T + 330_000);
    assert_eq!(sent, vec![(T + 330_000, "team".into(), 2)]);
    // Unchanged: nothing until the repeat interval has passed.
    let sent = run(&mut d, T + 331_000, T + 4_300_000);
    assert_eq!(sent, vec![(T + 330_000 + 3_900_000, "team".into(), 2)]);
}

#[test]
fn resolved_alerts_are_sent_once_where_wanted() {
    let mut d = dispatcher();
    d.receive(alert("A", &[("severity", "critical")], T, T + 600_000), T);
    let first = run(&mut d, T, T + 30_000);
    assert_eq!(first.len(), 2, "team and pager (continue)");
    // Resolved at +60 s: the next flush tells team (send_resolved) but not pager.
    d.receive(
        alert("A", &[("severity", "critical")], T, T + 60_000),
        T + 60_000,
    );
    let sent = run(&mut d, T + 31_000, T + 1_000_000);
    assert_eq!(sent, vec![(T + 330_000, "team".into(), 1)]);
    assert!(d.state.groups.is_empty(), "emptied groups are dropped");
}

#[test]
fn silences_and_inhibition_mute() {
    let mut d = dispatcher();
    let id = d
        .state
        .silences
        .upsert(
            Silence {
                id: String::new(),
                matchers: vec![ApiMatcher {
                    name: "pod".into(),
                    value: "web-.*".into(),
                    is_regex: true,
                    is_equal: true,
                }],
                starts_at: T,
                ends_at: T + 3_600_000,
                updated_at: 0,
                created_by: "sre".into(),
                comment: "deploying".into(),
            },
            T,
        )
        .unwrap();
    let far = T + 10 * 3_600_000;
    d.receive(alert("A", &[("pod", "web-1")], T, far), T);
    assert!(run(&mut d, T, T + 60_000).is_empty());
    assert_eq!(
        d.status(&alert("A", &[("pod", "web-1")], 0, 0).labels, T)
            .silenced_by,
        vec![id.clone()]
    );
    d.state.silences.expire(&id, T + 61_000).unwrap();
    assert_eq!(run(&mut d, T + 61_000, T + 330_000).len(), 1);

    let mut d = dispatcher();
    d.receive(alert("NodeDown", &[("node", "n1")], T, far), T);
    d.receive(alert("PodDown", &[("node", "n1"), ("pod", "a")], T, far), T);
    d.receive(alert("PodDown", &[("node", "n2"), ("pod", "b")], T, far), T);
    let sent = run(&mut d, T, T + 30_000);
    // NodeDown, and PodDown on n2 only.
    assert_eq!(sent.len(), 2);
    let n1 = alert("PodDown", &[("node", "n1"), ("pod", "a")], 0, 0);
    assert_eq!(d.status(&n1.labels, T).inhibited_by.len(), 1);
}

#[test]
fn silence_rules_follow_alertmanager() {
    let mut s = Silences::default();
    let base = Silence {
        id: String::new(),
        matchers: vec![ApiMatcher {
            name: "a".into(),
            value: "b".into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: T,
        ends_at: T + 1000,
        updated_at: 0,
        created_by: "me".into(),
        comment: "c".into(),
    };
    let id = s.upsert(base.clone(), T).unwrap();
    // Extending an active silence keeps its id; changing its matchers replaces it.
    let same = s
        .upsert(
            Silence {
                id: id.clone(),
                ends_at: T + 5000,
                ..base.clone()
            },
            T + 10,
        )
        .unwrap();
    assert_eq!(same, id);
    let mut changed = base.clone();
    changed.id = id.clone();
    changed.matchers[0].value = "c".into();
    let new = s.upsert(changed, T + 20).unwrap();
    assert_ne!(new, id);
    assert_eq!(s.by_id[&id].ends_at, T + 20);
    for bad in [
        Silence {
            comment: String::new(),
            ..base.clone()
        },
        Silence {
            ends_at: T - 1,
            ..base.clone()
        },
        Silence {
            matchers: vec![],
            ..base.clone()
        },
    ] {
        assert!(s.upsert(bad, T).is_err());
    }
    assert!(s.expire("nope", T).is_err());
}
