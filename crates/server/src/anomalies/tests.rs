use std::sync::Arc;

use kubepulse_model::ManualClock;
use kubepulse_store::events::EventQuery;
use kubepulse_store::{Db, StoreConfig};

use super::*;
use crate::config::AnomalyConfig;
use crate::config::anomaly::WatchConfig;

const STEP: i64 = 15_000;
const T0: i64 = 1_767_225_600_000;

fn setup(dir: &std::path::Path, clock: Arc<ManualClock>) -> anyhow::Result<(Db, Anomalies)> {
    let (db, _) = Db::open(&dir.join("data"), StoreConfig::default(), clock.clone())?;
    let cfg = AnomalyConfig {
        builtin: false,
        watch: vec![WatchConfig {
            name: "queue_depth".into(),
            expr: "sum by (namespace, pod) (queue_depth)".into(),
            counter: None,
        }],
        ..AnomalyConfig::default()
    };
    let a = Anomalies::new(
        watches(&cfg)?,
        cfg.max_series,
        Engine::default(),
        clock,
        AnomalyMetrics::default(),
        dir.join("anomaly-state.json.zst"),
    );
    Ok((db, a))
}

fn push(db: &Db, t: i64, v: f64) -> anyhow::Result<()> {
    let labels = [
        ("__name__", "queue_depth"),
        ("namespace", "shop"),
        ("pod", "cart-1"),
    ];
    db.append(&[SeriesWrite {
        labels: &labels,
        samples: &[(t, v)],
    }])?;
    Ok(())
}

/// A deterministic wobble in [-1, 1].
fn wobble(i: i64) -> f64 {
    ((i * 7919) % 200) as f64 / 100.0 - 1.0
}

#[test]
fn a_spike_becomes_a_score_an_event_and_an_api_entry() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (db, a) = setup(dir.path(), clock.clone())?;
    for i in 0..200 {
        let t = T0 + i * STEP;
        clock.set(t);
        push(&db, t, 100.0 + 3.0 * wobble(i))?;
        a.tick(&db, &db)?;
    }
    let quiet = db.events(&EventQuery {
        start: T0,
        end: T0 + 200 * STEP,
        limit: 100,
        ..EventQuery::default()
    })?;
    assert!(quiet.is_empty(), "{quiet:?}");
    let t = T0 + 200 * STEP;
    clock.set(t);
    push(&db, t, 400.0)?;
    a.tick(&db, &db)?;
    let events = db.events(&EventQuery {
        reason: Some(EVENT_REASON.into()),
        start: t,
        end: t,
        limit: 10,
        ..EventQuery::default()
    })?;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.involved_object.kind, "Pod");
    assert_eq!(e.involved_object.name, "cart-1");
    assert!(
        e.message
            .starts_with("queue_depth {namespace=\"shop\", pod=\"cart-1\"}"),
        "{}",
        e.message
    );
    assert!(e.message.contains("value 400.0"), "{}", e.message);
    let q = Engine::default().instant(
        &StoreSource(&db),
        r#"kubepulse_anomaly_score{signal="queue_depth",pod="cart-1"}"#,
        t,
    )?;
    let QueryValue::Vector(v) = q.value else {
        anyhow::bail!("not a vector");
    };
    assert_eq!(v.len(), 1);
    assert!(v[0].v >= 0.8, "{}", v[0].v);
    let (at, list) = a.current();
    assert_eq!(at, t);
    assert_eq!(list.len(), 1);
    assert!(list[0].last_report.is_some());
    assert!(!list[0].warming_up);
    Ok(())
}

#[test]
fn the_state_survives_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (db, a) = setup(dir.path(), clock.clone())?;
    for i in 0..100 {
        let t = T0 + i * STEP;
        clock.set(t);
        push(&db, t, 10.0 + wobble(i))?;
        a.tick(&db, &db)?;
    }
    a.save()?;
    drop(a);
    db.close()?;
    drop(db);
    let (db, b) = setup(dir.path(), clock.clone())?;
    let t = T0 + 100 * STEP;
    clock.set(t);
    push(&db, t, 10.0)?;
    b.tick(&db, &db)?;
    let (_, list) = b.current();
    assert_eq!(list.len(), 1);
    assert!(!list[0].warming_up, "the restored detector should be warm");
    Ok(())
}

#[test]
fn series_beyond_the_limit_are_skipped_not_tracked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (db, mut a) = setup(dir.path(), clock)?;
    a.max_series = 0;
    push(&db, T0, 1.0)?;
    a.tick(&db, &db)?;
    assert!(a.current().1.is_empty());
    assert_eq!(a.metrics.skipped.get(), 1);
    Ok(())
}

#[test]
fn numbers_read_well() {
    assert_eq!(num(400.0), "400.0");
    assert_eq!(num(0.012345), "0.01235");
    assert_eq!(num(123456.0), "123456");
    assert_eq!(num(0.0), "0");
}
