use std::sync::Arc;

use kubepulse_alert::AlertState;
use kubepulse_model::ManualClock;
use kubepulse_query::{QueryValue, StoreSource};
use kubepulse_store::{Db, SeriesWrite, StoreConfig};

use super::*;
use crate::periodic::Job;

const T0: i64 = 1_767_225_600_000;

const RULES: &str = r#"groups:
  - name: api
    interval: 15s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: ApiDown
        expr: up == 0
        for: 30s
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} is down"
"#;

struct Setup {
    _dir: tempfile::TempDir,
    rules_file: PathBuf,
    state: PathBuf,
    db: Db,
    clock: Arc<ManualClock>,
}

fn setup() -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (db, _) = Db::open(
        &dir.path().join("data"),
        StoreConfig::default(),
        clock.clone(),
    )?;
    let rules_file = dir.path().join("api.yml");
    std::fs::write(&rules_file, RULES)?;
    let state = dir.path().join("alert-state.json.zst");
    Ok(Setup {
        _dir: dir,
        rules_file,
        state,
        db,
        clock,
    })
}

fn rules(s: &Setup) -> anyhow::Result<Rules> {
    let cfg = RulesConfig {
        files: vec![s.rules_file.clone()],
        builtin: false,
        ..RulesConfig::default()
    };
    Rules::new(
        cfg,
        Engine::default(),
        s.clock.clone(),
        Arc::new(s.db.clone()),
        Arc::new(s.db.clone()),
        s.state.clone(),
        None,
    )
}

fn up(db: &Db, t: i64, v: f64) -> anyhow::Result<()> {
    let labels = [("__name__", "up"), ("instance", "api-1"), ("job", "api")];
    db.append(&[SeriesWrite {
        labels: &labels,
        samples: &[(t, v)],
    }])?;
    Ok(())
}

fn alert_states(r: &Rules) -> Vec<(AlertState, i64)> {
    r.groups()
        .iter()
        .flat_map(|g| g.active_alerts().map(|(_, a)| (a.state, a.active_at)))
        .collect()
}

fn query(db: &Db, q: &str, t: i64) -> Vec<(String, f64)> {
    match Engine::default()
        .instant(&StoreSource(db), q, t)
        .unwrap()
        .value
    {
        QueryValue::Vector(v) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        other => panic!("{other:?}"),
    }
}

/// Steps the clock 15 s at a time, writing `up` and evaluating, `n` times.
fn step(s: &Setup, r: &Rules, n: usize, v: f64) -> anyhow::Result<()> {
    for _ in 0..n {
        s.clock.advance(15_000);
        up(&s.db, s.clock.now_ms(), v)?;
        r.run()?;
    }
    Ok(())
}

#[test]
fn alerts_go_pending_then_firing_and_are_written_back() -> anyhow::Result<()> {
    let s = setup()?;
    let r = rules(&s)?;
    step(&s, &r, 1, 0.0)?;
    let first = s.clock.now_ms();
    assert_eq!(alert_states(&r), vec![(AlertState::Pending, first)]);
    step(&s, &r, 2, 0.0)?;
    assert_eq!(alert_states(&r), vec![(AlertState::Firing, first)]);
    let now = s.clock.now_ms();
    assert_eq!(
        query(&s.db, "ALERTS", now),
        vec![(
            r#"ALERTS{alertname="ApiDown", alertstate="firing", instance="api-1", job="api", severity="page"}"#.to_string(),
            1.0
        )]
    );
    assert_eq!(query(&s.db, "job:up:sum", now)[0].1, 0.0);
    // Evaluating twice in the same interval does nothing more.
    let before = r.groups()[0].last_eval;
    r.run()?;
    assert_eq!(r.groups()[0].last_eval, before);
    assert_eq!(before % 15_000, 0);
    Ok(())
}

#[test]
fn a_restart_keeps_firing_alerts_and_their_notification_times() -> anyhow::Result<()> {
    let s = setup()?;
    let r = rules(&s)?;
    step(&s, &r, 4, 0.0)?;
    let firing = alert_states(&r);
    assert_eq!(firing[0].0, AlertState::Firing);
    let sent = r.groups()[0].rules[1].alerts.alerts()[0].last_sent_at;
    assert!(sent > 0);
    r.save()?;
    drop(r);
    let again = rules(&s)?;
    assert_eq!(alert_states(&again), firing);
    step(&s, &again, 1, 0.0)?;
    let a = again.groups()[0].rules[1].alerts.alerts()[0].clone();
    assert_eq!((a.state, a.active_at), firing[0]);
    // Not announced again before the resend delay.
    assert_eq!(a.last_sent_at, sent);
    Ok(())
}

#[test]
fn a_broken_reload_is_refused_and_a_good_one_keeps_alert_state() -> anyhow::Result<()> {
    let s = setup()?;
    let r = rules(&s)?;
    step(&s, &r, 3, 0.0)?;
    let firing = alert_states(&r);
    std::fs::write(
        &s.rules_file,
        "groups:\n  - name: api\n    rules:\n      - alert: X\n        expr: sum(\n",
    )?;
    let err = r.reload().unwrap_err();
    assert!(err.contains("api.yml:4"), "{err}");
    assert_eq!(alert_states(&r), firing);
    step(&s, &r, 1, 0.0)?;
    assert_eq!(r.groups()[0].rules.len(), 2);
    // A new rule joins; the unchanged alerting rule keeps its alerts.
    let more = format!("{RULES}      - record: up:count\n        expr: count(up)\n");
    std::fs::write(&s.rules_file, more)?;
    r.reload().map_err(anyhow::Error::msg)?;
    assert_eq!(r.groups()[0].rules.len(), 3);
    assert_eq!(alert_states(&r), firing);
    step(&s, &r, 1, 1.0)?;
    assert!(alert_states(&r).is_empty());
    Ok(())
}
