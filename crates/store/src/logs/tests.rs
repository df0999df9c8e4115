use std::collections::BTreeMap;

use kubepulse_model::{Labels, LogRecord, Severity};

use super::*;
use crate::MatchOp;

const T0: i64 = 1_767_225_600_000_000_000;
const SEC: i64 = 1_000_000_000;

fn record(pod: &str, t_ns: i64, body: &str) -> LogRecord {
    LogRecord {
        t_ns,
        labels: Labels::from_pairs([("namespace", "shop"), ("pod", pod)]).unwrap_or_default(),
        severity: Severity::Info,
        body: body.into(),
        trace_id: String::new(),
        span_id: String::new(),
        attributes: BTreeMap::new(),
    }
}

fn open(dir: &std::path::Path) -> Result<(Database, LogStore), StoreError> {
    let db = Database::builder(dir).open().map_err(db_err)?;
    let logs = LogStore::open(&db, 1)?;
    Ok((db, logs))
}

fn pod(name: &str) -> Vec<Matcher> {
    vec![Matcher::equal("pod", name)]
}

#[test]
fn lines_come_back_by_stream_time_and_direction() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Disk(e.to_string()))?;
    let (_db, logs) = open(dir.path())?;
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.push(record("cart-1", T0 + i * SEC, &format!("cart line {i}")));
        batch.push(record("web-1", T0 + i * SEC + 1, &format!("web line {i}")));
    }
    // A line of the next day.
    batch.push(record("cart-1", T0 + 86_400 * SEC, "tomorrow"));
    logs.append(&batch)?;

    let m = pod("cart-1");
    let forward = logs.select(&LogQuery {
        matchers: &m,
        start_ns: T0 + 2 * SEC,
        end_ns: T0 + 90_000 * SEC,
        limit: 0,
        backward: false,
    })?;
    assert_eq!(forward.len(), 1);
    let bodies: Vec<&str> = forward[0].entries.iter().map(|e| e.body.as_str()).collect();
    assert_eq!(bodies.first(), Some(&"cart line 2"));
    assert_eq!(bodies.last(), Some(&"tomorrow"));
    assert_eq!(bodies.len(), 9);

    // Backward with a limit keeps the newest, across streams.
    let all = vec![Matcher::new(MatchOp::RegexMatch, "pod", ".+")?];
    let newest = logs.select(&LogQuery {
        matchers: &all,
        start_ns: T0,
        end_ns: T0 + 9 * SEC + 1,
        limit: 3,
        backward: true,
    })?;
    let mut got: Vec<(i64, String)> = newest
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| (e.t_ns, e.body.clone())))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (T0 + 8 * SEC + 1, "web line 8".to_string()),
            (T0 + 9 * SEC, "cart line 9".to_string()),
            (T0 + 9 * SEC + 1, "web line 9".to_string()),
        ]
    );
    // Streams with lines in a range.
    assert_eq!(logs.streams(&all, T0, T0 + SEC)?.len(), 2);
    assert_eq!(
        logs.streams(&all, T0 + 86_000 * SEC, T0 + 90_000 * SEC)?
            .len(),
        1
    );
    Ok(())
}

#[test]
fn an_invalid_line_refuses_the_batch_and_changes_nothing() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Disk(e.to_string()))?;
    let (_db, logs) = open(dir.path())?;
    let mut bad = record("new-1", T0, "x");
    bad.labels = Labels::empty();
    let err = logs.append(&[record("new-2", T0, "fine"), bad]);
    assert!(matches!(err, Err(StoreError::InvalidLog(_))), "{err:?}");
    let huge = record("new-3", T0, &"x".repeat(MAX_LINE_BYTES + 1));
    assert!(logs.append(&[huge]).is_err());
    let all = vec![Matcher::new(MatchOp::RegexMatch, "pod", ".+")?];
    assert!(logs.streams(&all, T0, T0)?.is_empty());
    Ok(())
}

#[test]
fn lines_and_streams_survive_reopening_and_days_drop() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Disk(e.to_string()))?;
    {
        let (_db, logs) = open(dir.path())?;
        let mut r = record("cart-1", T0, "kept");
        r.severity = Severity::Error;
        r.trace_id = "0af7651916cd43dd8448eb211c80319c".into();
        r.attributes.insert("k".into(), "v".into());
        logs.append(&[r, record("cart-1", T0 + 86_400 * SEC, "next day")])?;
        logs.settle()?;
    }
    let (_db, logs) = open(dir.path())?;
    let m = pod("cart-1");
    let q = LogQuery {
        matchers: &m,
        start_ns: T0,
        end_ns: T0 + 90_000 * SEC,
        limit: 0,
        backward: false,
    };
    let got = logs.select(&q)?;
    let e = &got[0].entries[0];
    assert_eq!((e.body.as_str(), e.severity), ("kept", Severity::Error));
    assert_eq!(e.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(e.attributes.get("k").map(String::as_str), Some("v"));
    // A new stream after reopening gets a fresh id.
    logs.append(&[record("web-9", T0, "new stream")])?;
    assert_eq!(
        logs.select(&LogQuery {
            matchers: &pod("web-9"),
            ..q
        })?[0]
            .entries
            .len(),
        1
    );
    let day = T0.div_euclid(NS_PER_DAY);
    assert_eq!(logs.days(), vec![day, day + 1]);
    logs.drop_day(day)?;
    let left = logs.select(&q)?;
    assert_eq!(left[0].entries.len(), 1);
    assert_eq!(left[0].entries[0].body, "next day");
    Ok(())
}
