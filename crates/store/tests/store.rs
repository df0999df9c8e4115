//! The store through its public seam: appends, reads, restarts, flushes, compaction, retention.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use kubepulse_model::{
    Clock, EventSource, EventType, K8sEvent, ManualClock, ObjectKind, ObjectRef, ObjectState,
    STALE_NAN,
};
use kubepulse_store::{
    Append, DAY_MS, Db, EventQuery, MatchOp, Matcher, Read, SeriesWrite, StoreConfig, StoreError,
};

const T0: i64 = 1_767_571_200_000; // 2026-01-05T00:00:00Z

fn open(dir: &std::path::Path, clock: &ManualClock) -> Db {
    Db::open(dir, StoreConfig::default(), Arc::new(clock.clone()))
        .unwrap()
        .0
}

fn up(db: &Db, instance: &str, samples: &[(i64, f64)]) -> kubepulse_store::AppendReport {
    db.append(&[SeriesWrite {
        labels: &[("__name__", "up"), ("instance", instance)],
        samples,
    }])
    .unwrap()
}

fn values(db: &Db, instance: &str, mint: i64, maxt: i64) -> Vec<(i64, u64)> {
    let m = [
        Matcher::equal("__name__", "up"),
        Matcher::equal("instance", instance),
    ];
    let got = db.select(&m, mint, maxt).unwrap();
    got.first()
        .map(|s| s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect())
        .unwrap_or_default()
}

fn series(n: i64, step: i64, f: impl Fn(i64) -> f64) -> Vec<(i64, f64)> {
    (0..n).map(|i| (T0 + i * step, f(i))).collect()
}

#[test]
fn appended_samples_survive_restart_flush_and_compaction() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let s = series(2000, 15_000, |i| {
        if i == 700 {
            STALE_NAN
        } else {
            (i % 17) as f64 * 0.5
        }
    });
    let expect: Vec<(i64, u64)> = s.iter().map(|(t, v)| (*t, v.to_bits())).collect();
    {
        let db = open(tmp.path(), &clock);
        assert_eq!(up(&db, "a", &s[..1000]).appended, 1000);
    }
    // Reopened from the WAL alone.
    let db = open(tmp.path(), &clock);
    assert_eq!(values(&db, "a", 0, i64::MAX), expect[..1000]);
    up(&db, "a", &s[1000..]);
    assert!(db.flush().unwrap() > 0);
    assert_eq!(values(&db, "a", 0, i64::MAX), expect);
    drop(db);
    let db = open(tmp.path(), &clock);
    assert_eq!(values(&db, "a", 0, i64::MAX), expect, "read back from disk");
    clock.set(T0 + 2 * DAY_MS);
    let (cin, cout) = db.compact().unwrap();
    assert!(cin > cout && cout > 0, "{cin} -> {cout}");
    assert_eq!(values(&db, "a", 0, i64::MAX), expect, "after compaction");
    assert_eq!(
        values(&db, "a", T0 + 100 * 15_000, T0 + 199 * 15_000),
        expect[100..200]
    );
}

#[test]
fn reads_across_flushes_see_every_sample_once() {
    // With flushed chunks kept in memory for an hour, and with only the last flush's kept.
    for window in [3_600_000, 0] {
        let tmp = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0 + 4 * 3_600_000);
        let cfg = StoreConfig {
            memory_window: kubepulse_model::DurationMs(window),
            ..StoreConfig::default()
        };
        let db = Db::open(tmp.path(), cfg, Arc::new(clock.clone()))
            .unwrap()
            .0;
        reads_across_flushes(&db);
    }
}

fn reads_across_flushes(db: &Db) {
    let s = series(900, 15_000, |i| i as f64);
    let expect: Vec<(i64, u64)> = s.iter().map(|(t, v)| (*t, v.to_bits())).collect();
    let t = |i: usize| s[i].0;
    // Three flushes: the first only on disk, the last kept in memory as well, then the head.
    up(db, "a", &s[..300]);
    let before = db.generation();
    db.flush().unwrap();
    up(db, "a", &s[300..600]);
    db.flush().unwrap();
    // An out-of-order sample (within the 10-minute window) after the flush.
    up(db, "a", &s[600..880]);
    up(db, "a", &s[881..899]);
    assert_eq!(up(db, "a", &s[880..881]).appended, 1);
    up(db, "b", &[(t(10), 7.0)]);
    assert_eq!(
        db.generation(),
        before + 1,
        "a new series changes the generation"
    );
    up(db, "a", &s[899..]);
    for (from, to) in [
        (0, 899),
        (250, 350),
        (550, 650),
        (610, 620),
        (880, 899),
        (299, 300),
    ] {
        assert_eq!(
            values(db, "a", t(from), t(to)),
            expect[from..=to],
            "{from}..={to}"
        );
        assert_eq!(by_ref(db, t(from), t(to), false), expect[from..=to]);
        assert_eq!(by_ref(db, t(from), t(to), true), expect[to..=to]);
    }
    assert_eq!(by_ref(db, t(899) + 1, i64::MAX, true), vec![]);
    // The newest few, read from the samples each series keeps undecoded.
    assert_eq!(by_ref(db, t(896), t(899), false), expect[896..=899]);
    assert_eq!(by_ref(db, t(895) + 1, t(898), false), expect[896..=898]);
    assert_eq!(by_ref(db, t(895), t(898), true), expect[898..=898]);
    // A flush with nothing new leaves everything on disk only.
    db.flush().unwrap();
    db.flush().unwrap();
    assert_eq!(values(db, "a", 0, i64::MAX), expect);
    assert_eq!(values(db, "b", 0, i64::MAX), vec![(t(10), 7f64.to_bits())]);
    assert_eq!(by_ref(db, 0, i64::MAX, false), expect);
    assert_eq!(by_ref(db, t(500), t(600), true), expect[600..=600]);
}

/// Series `a` read by ref, between an unknown ref and series `b` (which must read as
/// selected).
fn by_ref(db: &Db, mint: i64, maxt: i64, newest: bool) -> Vec<(i64, u64)> {
    let found = db
        .series_refs(&[Matcher::equal("__name__", "up")], 0, i64::MAX)
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].1.get("instance"), Some("a"));
    let refs = [found[0].0, kubepulse_store::SeriesRef(u32::MAX), found[1].0];
    let (mut out, mut ends) = (Vec::new(), Vec::new());
    db.read_refs(&refs, mint, maxt, newest, &mut out, &mut ends)
        .unwrap();
    assert_eq!(ends.len(), 3);
    assert_eq!(ends[0], ends[1], "an unknown ref has no samples");
    let b: Vec<(i64, u64)> = out[ends[1]..ends[2]]
        .iter()
        .map(|x| (x.t, x.v.to_bits()))
        .collect();
    let want = values(db, "b", mint, maxt);
    let keep = if newest {
        want.len().saturating_sub(1)
    } else {
        0
    };
    assert_eq!(b, want[keep..]);
    out[..ends[0]]
        .iter()
        .map(|x| (x.t, x.v.to_bits()))
        .collect()
}

#[test]
fn out_of_order_window_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    up(&db, "a", &[(T0 + 3_600_000, 1.0)]);
    let r = up(
        &db,
        "a",
        &[
            (T0 + 3_600_000 - 60_000, 2.0),
            (T0 + 3_600_000 - 11 * 60_000, 3.0),
            (T0 + 3_600_000, 1.0),
            (T0 + 3_600_000, 9.0),
        ],
    );
    assert_eq!(
        (
            r.appended,
            r.out_of_order,
            r.too_old,
            r.duplicates,
            r.conflicts
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(
        values(&db, "a", 0, i64::MAX),
        vec![
            (T0 + 3_540_000, 2f64.to_bits()),
            (T0 + 3_600_000, 1f64.to_bits())
        ]
    );
    db.flush().unwrap();
    drop(db);
    let db = open(tmp.path(), &clock);
    // The out-of-order sample was flushed in its own chunk and is still read back.
    assert_eq!(values(&db, "a", 0, i64::MAX).len(), 2);
    let too_old = db
        .metrics()
        .rejected
        .get_or_create(&vec![("reason".into(), "too_old".into())])
        .get();
    let _ = too_old;
}

#[test]
fn invalid_series_refuse_the_whole_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    let long = "x".repeat(1_000_000);
    let bad: Vec<Vec<(&str, &str)>> = vec![
        vec![("__name__", "up"), ("bad-name", "x")],
        vec![("__name__", "up"), ("a", "1"), ("a", "2")],
        vec![("job", "no-name")],
        vec![("__name__", "up"), ("a", long.as_str())],
    ];
    for labels in bad {
        let batch = [
            SeriesWrite {
                labels: &[("__name__", "good"), ("x", "1")],
                samples: &[(T0, 1.0)],
            },
            SeriesWrite {
                labels: &labels,
                samples: &[(T0, 1.0)],
            },
        ];
        assert!(matches!(
            db.append(&batch),
            Err(StoreError::InvalidSeries(_))
        ));
    }
    assert!(
        db.series(
            &[Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()],
            0,
            i64::MAX
        )
        .unwrap()
        .is_empty(),
        "nothing of a refused batch is stored"
    );
}

#[test]
fn selection_and_label_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    for (name, job, v) in [
        ("up", "api", 1.0),
        ("up", "web", 0.0),
        ("requests_total", "api", 5.0),
    ] {
        db.append(&[SeriesWrite {
            labels: &[("__name__", name), ("job", job)],
            samples: &[(T0, v)],
        }])
        .unwrap();
    }
    let m = [Matcher::new(MatchOp::RegexMatch, "job", "a.*").unwrap()];
    let got = db.select(&m, T0, T0).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        db.label_values("__name__", &[], 0, i64::MAX).unwrap(),
        vec!["requests_total", "up"]
    );
    assert_eq!(
        db.label_names(&m, 0, i64::MAX).unwrap(),
        vec!["__name__", "job"]
    );
    assert!(
        db.select(&m, T0 + 1, T0 + 10).unwrap().is_empty(),
        "no samples in range"
    );
    assert!(matches!(
        Matcher::new(MatchOp::RegexMatch, "a", "(("),
        Err(StoreError::BadMatcher(_))
    ));
}

#[test]
fn maintenance_applies_retention_from_its_first_run_and_then_hourly() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = Db::open(
        tmp.path(),
        StoreConfig {
            retention: kubepulse_model::DurationMs(DAY_MS),
            ..StoreConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .0;
    for d in 0..3 {
        up(&db, "a", &[(T0 + d * DAY_MS + 1000, d as f64)]);
        db.flush().unwrap();
    }
    // The first maintenance run applies retention at once: days 0 and 1 have expired.
    clock.set(T0 + 4 * DAY_MS - 1_800_000);
    assert_eq!(db.maintain().unwrap().days_dropped, 2);
    // Day 2 expires a minute later, but retention is looked at once an hour.
    clock.set(T0 + 4 * DAY_MS + 60_000);
    assert_eq!(db.maintain().unwrap().days_dropped, 0);
    clock.set(T0 + 4 * DAY_MS + 1_800_000);
    assert_eq!(db.maintain().unwrap().days_dropped, 1);
}

#[test]
fn retention_drops_exactly_the_expired_days() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = Db::open(
        tmp.path(),
        StoreConfig {
            retention: kubepulse_model::DurationMs(3 * DAY_MS),
            ..StoreConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .0;
    for d in 0..6 {
        up(
            &db,
            "a",
            &[
                (T0 + d * DAY_MS + 1000, d as f64),
                (T0 + d * DAY_MS + DAY_MS - 1000, d as f64),
            ],
        );
        db.flush().unwrap();
    }
    let day0 = T0 / DAY_MS;
    assert_eq!(db.days(), (day0..day0 + 6).collect::<Vec<_>>());
    // Now is day 5 at noon: retention keeps 3 days back from now, so days 0 and 1 end before the
    // cutoff (day 2, 12:00) and day 2 is still partly inside.
    clock.set(T0 + 5 * DAY_MS + DAY_MS / 2);
    assert_eq!(db.apply_retention().unwrap(), 2);
    assert_eq!(db.days(), (day0 + 2..day0 + 6).collect::<Vec<_>>());
    let left: Vec<i64> = values(&db, "a", 0, i64::MAX)
        .iter()
        .map(|x| (x.0 - T0) / DAY_MS)
        .collect();
    assert_eq!(left, vec![2, 2, 3, 3, 4, 4, 5, 5]);
    drop(db);
    let db = open(tmp.path(), &clock);
    assert_eq!(
        db.days().len(),
        4,
        "dropped days stay dropped after a restart"
    );
}

#[test]
fn events_and_object_history() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    let pod = ObjectRef::new(ObjectKind::Pod, "shop", "cart-1");
    let other = ObjectRef::new(ObjectKind::Pod, "shop", "web-1");
    let ev = |o: &ObjectRef, t: i64, reason: &str, ty| {
        K8sEvent::new(
            o.clone(),
            ty,
            reason,
            format!("{reason} happened"),
            EventSource {
                component: "kubelet".into(),
                host: "n1".into(),
            },
            t,
            t as u64,
        )
    };
    db.append_events(&[
        ev(&pod, T0 + 1000, "Started", EventType::Normal),
        ev(&other, T0 + 2000, "BackOff", EventType::Warning),
        ev(&pod, T0 + DAY_MS + 5, "OOMKilling", EventType::Warning),
    ])
    .unwrap();
    let all = db
        .events(&EventQuery {
            start: T0,
            end: T0 + 2 * DAY_MS,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(),
        vec!["OOMKilling", "BackOff", "Started"]
    );
    let mine = db
        .events(&EventQuery {
            object: Some(pod.clone()),
            start: T0,
            end: T0 + 2 * DAY_MS,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 2);
    let warn = db
        .events(&EventQuery {
            warnings_only: true,
            start: T0,
            end: T0 + 2 * DAY_MS,
            limit: 1,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(warn.len(), 1);
    let state = |t: i64, phase: &str| ObjectState {
        object: pod.clone(),
        t,
        owner: None,
        node: "n1".into(),
        phase: phase.into(),
        ready: phase == "Running",
        restarts: 0,
        reason: String::new(),
        conditions: Default::default(),
        labels: Default::default(),
        fields: Default::default(),
        deleted: false,
    };
    db.append_objects(&[state(T0, "Pending"), state(T0 + 5000, "Running")])
        .unwrap();
    drop(db);
    let db = open(tmp.path(), &clock);
    let h = db.object_history(&pod, T0, T0 + 10_000).unwrap();
    assert_eq!(
        h.iter().map(|s| s.phase.as_str()).collect::<Vec<_>>(),
        vec!["Pending", "Running"]
    );
    assert_eq!(db.objects("Pod").unwrap()[0].phase, "Running");
    assert!(db.objects("Node").unwrap().is_empty());
    let _ = clock.now_ms();
}

#[test]
fn refuses_a_store_of_another_format() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    drop(open(tmp.path(), &clock));
    std::fs::write(tmp.path().join("wal/99999999"), b"KPWAL777xxxx").unwrap();
    assert!(matches!(
        Db::open(tmp.path(), StoreConfig::default(), Arc::new(clock)),
        Err(StoreError::Format(_))
    ));
}
