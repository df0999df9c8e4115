use std::collections::BTreeMap;
use std::sync::Arc;

use kubepulse_model::{Labels, ManualClock};
use kubepulse_query::{Engine, QueryValue, StoreSource};
use kubepulse_store::events::EventQuery;
use kubepulse_store::{Db, Read, StoreConfig};

use super::*;

const T0: i64 = 1_767_225_600_000;
const STEP: i64 = 15_000;

fn line(pod: &str, t_ms: i64, severity: Severity, body: &str) -> LogRecord {
    LogRecord {
        t_ns: t_ms * 1_000_000,
        labels: Labels::from_pairs([("namespace", "shop"), ("pod", pod), ("container", "app")])
            .unwrap_or_default(),
        severity,
        body: body.into(),
        trace_id: String::new(),
        span_id: String::new(),
        attributes: BTreeMap::new(),
    }
}

fn setup(dir: &std::path::Path, clock: Arc<ManualClock>) -> anyhow::Result<(Db, LogMining)> {
    let (db, _) = Db::open(&dir.join("data"), StoreConfig::default(), clock.clone())?;
    let m = LogMining::new(
        Arc::new(db.clone()),
        clock,
        dir.join("log-templates.json.zst"),
    );
    Ok((db, m))
}

fn events(db: &Db, reason: &str) -> anyhow::Result<Vec<K8sEvent>> {
    Ok(db.events(&EventQuery {
        reason: Some(reason.into()),
        start: T0,
        end: T0 + 86_400_000,
        limit: 100,
        ..EventQuery::default()
    })?)
}

#[test]
fn lines_are_counted_by_template_and_events_follow_the_counts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (db, m) = setup(dir.path(), clock.clone())?;
    // Half an hour of steady traffic: two templates, and a heartbeat.
    for i in 0..120 {
        let t = T0 + i * STEP;
        clock.set(t);
        let mut batch = vec![
            line(
                "cart-7d4b9c8f6d-x2x9z",
                t,
                Severity::Info,
                &format!("GET /cart/{i} 200 {}ms", i % 7),
            ),
            line(
                "cart-7d4b9c8f6d-x2x9z",
                t + 1,
                Severity::Info,
                &format!("GET /cart/{} 200 3ms", i + 1),
            ),
        ];
        if i < 60 {
            batch.push(line(
                "cart-7d4b9c8f6d-x2x9z",
                t + 2,
                Severity::Debug,
                "heartbeat ok",
            ));
        }
        if i % 10 == 0 {
            batch.push(line(
                "web-1",
                t,
                Severity::Error,
                &format!("upstream timeout after {i}s"),
            ));
        }
        m.append_logs(&batch)?;
        m.tick()?;
    }
    // The counters are series.
    let q = Engine::default().instant(
        &StoreSource(&db),
        r#"sum by (template_id, level) (kubepulse_log_template_lines_total{pod="cart-7d4b9c8f6d-x2x9z"})"#,
        T0 + 119 * STEP,
    )?;
    let QueryValue::Vector(v) = q.value else {
        anyhow::bail!("not a vector");
    };
    let info: f64 = v
        .iter()
        .filter(|s| s.labels.get("level") == Some("info"))
        .map(|s| s.v)
        .sum();
    assert_eq!(info, 240.0, "{v:?}");
    // The template list of the workload.
    let list = m.templates(&TemplateFilter {
        workload: Some("cart".into()),
        ..TemplateFilter::default()
    });
    assert_eq!(list[0].lines, 240);
    assert_eq!(list[0].template, "GET /cart/<*> <*>");
    assert_eq!(list.len(), 2, "{list:?}");
    // An error burst, and a new template after the grace period.
    let t = T0 + 120 * STEP;
    clock.set(t);
    let burst: Vec<LogRecord> = (0..30)
        .map(|i| {
            line(
                "web-1",
                t,
                Severity::Error,
                &format!("upstream timeout after {i}s"),
            )
        })
        .chain(std::iter::once(line(
            "web-1",
            t,
            Severity::Error,
            "panic: nil map assignment in handler",
        )))
        .collect();
    m.append_logs(&burst)?;
    m.tick()?;
    let b = events(&db, "LogErrorBurst")?;
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].involved_object.name, "web-1");
    let n = events(&db, "NewLogTemplate")?;
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].message
            .contains("panic: nil map assignment in handler"),
        "{}",
        n[0].message
    );
    // The heartbeat stopped half an hour ago.
    let g = events(&db, "LogTemplateGone")?;
    assert_eq!(g.len(), 1, "{g:?}");
    assert!(g[0].message.contains("heartbeat ok"), "{}", g[0].message);
    Ok(())
}

#[test]
fn template_ids_survive_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let id = {
        let (db, m) = setup(dir.path(), clock.clone())?;
        m.append_logs(&[line("a-0", T0, Severity::Info, "started worker 3")])?;
        m.append_logs(&[line(
            "a-0",
            T0,
            Severity::Info,
            "connected to db on port 5432",
        )])?;
        m.save()?;
        let list = m.templates(&TemplateFilter::default());
        drop(m);
        db.close()?;
        list.iter()
            .find(|t| t.template.starts_with("connected"))
            .map(|t| t.id)
    };
    let (_db, m) = setup(dir.path(), clock)?;
    m.append_logs(&[line(
        "a-0",
        T0 + 1,
        Severity::Info,
        "connected to db on port 5433",
    )])?;
    let list = m.templates(&TemplateFilter::default());
    assert_eq!(
        list.iter()
            .find(|t| t.template.starts_with("connected"))
            .map(|t| t.id),
        id
    );
    Ok(())
}

#[test]
fn refused_lines_are_not_counted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(T0));
    let (_db, m) = setup(dir.path(), clock)?;
    let mut bad = line("a-0", T0, Severity::Info, "x");
    bad.labels = Labels::empty();
    assert!(
        m.append_logs(&[line("a-0", T0, Severity::Info, "fine"), bad])
            .is_err()
    );
    assert!(m.templates(&TemplateFilter::default()).is_empty());
    Ok(())
}
