//! The scraper against a real node-exporter and against a loopback stub for the exact cases.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::scrape::discovery::Target;
use kubepulse_ingest::scrape::relabel::Relabel;
use kubepulse_ingest::scrape::target::{TargetLoop, TargetSettings};
use kubepulse_model::{Clock, ManualClock, STALE_NAN, is_stale_nan};
use kubepulse_store::{Db, Matcher, Read, StoreConfig};
use kubepulse_testkit::{HttpStub, Peer, StubResponse, free_port};

const T0: i64 = 1_767_571_200_000;

fn settings(relabel: &[&str]) -> TargetSettings {
    let metric_relabel = relabel
        .iter()
        .map(|y| Relabel::new(serde_saphyr::from_str(y).unwrap()).unwrap())
        .collect();
    TargetSettings {
        interval: 15_000,
        timeout: 2_000,
        honor_labels: false,
        honor_timestamps: true,
        body_size_limit: 0,
        sample_limit: 0,
        metric_relabel: Arc::new(metric_relabel),
    }
}

fn target(port: u16) -> Target {
    let labels = BTreeMap::from([
        ("job".to_string(), "node".to_string()),
        ("instance".to_string(), format!("127.0.0.1:{port}")),
    ]);
    Target {
        url: format!("http://127.0.0.1:{port}/metrics"),
        labels,
    }
}

fn open(dir: &std::path::Path, clock: &ManualClock) -> Db {
    Db::open(dir, StoreConfig::default(), Arc::new(clock.clone()))
        .unwrap()
        .0
}

/// Labels and samples of a stored series.
type Stored = (BTreeMap<String, String>, Vec<(i64, f64)>);

fn values(db: &Db, m: &[Matcher]) -> Vec<Stored> {
    db.select(m, 0, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.labels
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect(),
                s.samples.iter().map(|x| (x.t, x.v)).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn scrapes_a_real_node_exporter() {
    let port = free_port();
    let mut peer = Peer::start(
        "node-exporter",
        "prometheus-node-exporter",
        &[
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--collector.disable-defaults".into(),
            "--collector.cpu".into(),
            "--collector.meminfo".into(),
            "--collector.loadavg".into(),
            "--collector.filesystem".into(),
        ],
    )
    .unwrap();
    peer.wait_port(port, Duration::from_secs(10)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    let mut l = TargetLoop::new(
        target(port),
        settings(&[]),
        Arc::new(db.clone()),
        kubepulse_ingest::http_client().unwrap(),
        Arc::new(clock.clone()),
        IngestMetrics::default(),
    );
    assert!(l.scrape_once().await, "node-exporter is up");
    clock.advance(15_000);
    assert!(l.scrape_once().await);
    let cpu = values(
        &db,
        &[
            Matcher::equal("__name__", "node_cpu_seconds_total"),
            Matcher::equal("mode", "idle"),
        ],
    );
    assert!(!cpu.is_empty());
    for (labels, samples) in &cpu {
        assert_eq!(labels["job"], "node");
        assert_eq!(labels["instance"], format!("127.0.0.1:{port}"));
        assert_eq!(
            samples.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![T0, T0 + 15_000]
        );
    }
    let up = values(&db, &[Matcher::equal("__name__", "up")]);
    assert_eq!(up[0].1, vec![(T0, 1.0), (T0 + 15_000, 1.0)]);
    let scraped = values(&db, &[Matcher::equal("__name__", "scrape_samples_scraped")]);
    assert!(scraped[0].1[0].1 > 10.0);
    assert!(
        !values(
            &db,
            &[Matcher::equal("__name__", "node_memory_MemAvailable_bytes")]
        )
        .is_empty()
    );
    assert!(
        !values(
            &db,
            &[Matcher::equal("__name__", "scrape_duration_seconds")]
        )
        .is_empty()
    );
    let _ = clock.now_ms();
}

#[tokio::test]
async fn staleness_failures_timeouts_and_limits() {
    let stub = HttpStub::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    let mut s = settings(&[]);
    s.body_size_limit = 4096;
    let mut l = TargetLoop::new(
        target(stub.port),
        s,
        Arc::new(db.clone()),
        kubepulse_ingest::http_client().unwrap(),
        Arc::new(clock.clone()),
        IngestMetrics::default(),
    );
    let body = |t: &str| StubResponse {
        body: t.as_bytes().to_vec(),
        ..StubResponse::default()
    };
    stub.set(body("a 1\nb 2\n"));
    assert!(l.scrape_once().await);
    clock.advance(15_000);
    stub.set(body("a 3\n"));
    assert!(l.scrape_once().await);
    let b = values(&db, &[Matcher::equal("__name__", "b")]);
    assert_eq!(b[0].1.len(), 2);
    assert!(
        is_stale_nan(b[0].1[1].1),
        "b disappeared: a staleness marker at the second scrape"
    );
    // A failing target: up 0 and everything it had goes stale.
    clock.advance(15_000);
    stub.set(StubResponse {
        status: 500,
        ..StubResponse::default()
    });
    assert!(!l.scrape_once().await);
    let a = values(&db, &[Matcher::equal("__name__", "a")]);
    assert!(is_stale_nan(a[0].1.last().unwrap().1));
    // A target slower than the timeout.
    clock.advance(15_000);
    stub.set(StubResponse {
        delay: Duration::from_millis(2_500),
        ..body("a 1\n")
    });
    assert!(!l.scrape_once().await);
    // A body over the limit.
    clock.advance(15_000);
    stub.set(body(&"x 1\n".repeat(2000)));
    assert!(!l.scrape_once().await);
    // Garbage fails the scrape without storing anything from it.
    clock.advance(15_000);
    stub.set(body("ok 1\nnot valid\n"));
    assert!(!l.scrape_once().await);
    assert!(values(&db, &[Matcher::equal("__name__", "ok")]).is_empty());
    let up: Vec<f64> = values(&db, &[Matcher::equal("__name__", "up")])[0]
        .1
        .iter()
        .map(|s| s.1)
        .collect();
    assert_eq!(up, vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    let head = &stub.requests()[0].0;
    assert!(
        head.contains("application/openmetrics-text")
            && head
                .to_ascii_lowercase()
                .contains("x-prometheus-scrape-timeout-seconds: 2")
    );
    let _ = STALE_NAN;
}

#[tokio::test]
async fn honor_labels_and_metric_relabeling() {
    let stub = HttpStub::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let db = open(tmp.path(), &clock);
    stub.set(StubResponse {
        body: b"# TYPE m counter\nm_total{job=\"inner\",pod=\"p1\"} 1 1767571100\nm_total{job=\"inner\",pod=\"p2\"} 2\ndebug_info 1\n# EOF\n".to_vec(),
        content_type: "application/openmetrics-text; version=1.0.0".into(),
        ..StubResponse::default()
    });
    let relabel = [
        "action: drop\nsource_labels: [__name__]\nregex: debug_.*\n",
        "source_labels: [pod]\nregex: p(.)\ntarget_label: replica\n",
    ];
    let mut l = TargetLoop::new(
        target(stub.port),
        settings(&relabel),
        Arc::new(db.clone()),
        kubepulse_ingest::http_client().unwrap(),
        Arc::new(clock.clone()),
        IngestMetrics::default(),
    );
    assert!(l.scrape_once().await);
    let m = values(&db, &[Matcher::equal("__name__", "m_total")]);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].0["job"], "node");
    assert_eq!(m[0].0["exported_job"], "inner");
    assert_eq!(m[0].0["replica"], "1");
    // honor_timestamps: the exposed timestamp (in seconds, OpenMetrics) is kept.
    assert_eq!(m[0].1[0].0, 1_767_571_100_000);
    assert_eq!(m[1].1[0].0, T0);
    assert!(
        values(&db, &[Matcher::equal("__name__", "debug_info")]).is_empty(),
        "dropped by metric relabeling"
    );
    let post = values(
        &db,
        &[Matcher::equal(
            "__name__",
            "scrape_samples_post_metric_relabeling",
        )],
    );
    assert_eq!(post[0].1[0].1, 2.0);
    let mut s = settings(&[]);
    s.honor_labels = true;
    let mut l = TargetLoop::new(
        target(stub.port),
        s,
        Arc::new(db.clone()),
        kubepulse_ingest::http_client().unwrap(),
        Arc::new(clock.clone()),
        IngestMetrics::default(),
    );
    clock.advance(15_000);
    assert!(l.scrape_once().await);
    assert!(
        !values(
            &db,
            &[
                Matcher::equal("__name__", "m_total"),
                Matcher::equal("job", "inner")
            ]
        )
        .is_empty()
    );
}
