//! No acknowledged sample is lost across repeated `kill -9` during ingest: a client writes as
//! fast as it can while the server is killed at random moments and restarted; at the end every
//! sample the server answered 204 for is in the store.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use kubepulse_ingest::remote_write::encode;
use kubepulse_model::SystemClock;
use kubepulse_store::{Db, Matcher, Read, StoreConfig};

const SERIES: usize = 20;
/// An hour ago, to the second: samples and lines well inside the default retention.
fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| {
        use kubepulse_model::Clock;
        let now = kubepulse_model::SystemClock.now_ms();
        (now - 3_600_000) / 1000 * 1000
    })
}

fn request(k: i64) -> Vec<u8> {
    let series: Vec<encode::Series<String>> = (0..SERIES)
        .map(|s| {
            (
                vec![
                    ("__name__".to_string(), "durable".to_string()),
                    ("series".to_string(), s.to_string()),
                ],
                vec![(t0() + k * 1000, (k * 100 + s as i64) as f64)],
            )
        })
        .collect();
    encode::body(&series)
}

#[tokio::test]
async fn acknowledged_samples_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let client = kubepulse_ingest::http_client().unwrap();
    let mut acked: Vec<i64> = Vec::new();
    let mut k = 0i64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..5 {
        let mut server = support::serve(support::QUIET, &data);
        let url = format!("http://127.0.0.1:{}/api/v1/write", server.port);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_for = Duration::from_millis(300 + seed % 1200);
        let started = tokio::time::Instant::now();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(run_for).await;
            server.peer.kill9();
            server
        });
        while started.elapsed() < run_for + Duration::from_millis(500) {
            let r = client
                .post(&url)
                .header("content-encoding", "snappy")
                .header("content-type", "application/x-protobuf")
                .body(request(k))
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().as_u16() == 204 => acked.push(k),
                Ok(resp) => panic!("round {round}: unexpected status {}", resp.status()),
                Err(_) => break,
            }
            k += 1;
        }
        let server = killer.await.unwrap();
        drop(server);
    }
    assert!(
        acked.len() > 100,
        "only {} requests acknowledged",
        acked.len()
    );
    eprintln!("acknowledged {} requests of {k}", acked.len());
    let mut server = support::serve(support::QUIET, &data);
    assert!(
        server.peer.terminate(Duration::from_secs(30)),
        "{}",
        server.peer.output()
    );
    let db = Db::open(&data, StoreConfig::default(), Arc::new(SystemClock))
        .unwrap()
        .0;
    for s in 0..SERIES {
        let got = db
            .select(
                &[
                    Matcher::equal("__name__", "durable"),
                    Matcher::equal("series", s.to_string()),
                ],
                0,
                i64::MAX,
            )
            .unwrap();
        let samples = &got[0].samples;
        for &a in &acked {
            let t = t0() + a * 1000;
            let found = samples
                .binary_search_by_key(&t, |x| x.t)
                .ok()
                .map(|i| samples[i].v);
            assert_eq!(
                found,
                Some((a * 100 + s as i64) as f64),
                "series {s}: acknowledged sample {a} lost"
            );
        }
    }
}

/// The same for log lines pushed to the Loki API: every line acknowledged with 204 is read back
/// after repeated `kill -9`.
#[tokio::test]
async fn acknowledged_log_lines_survive_kill_9() {
    use kubepulse_ingest::loki::{Entry, PushRequest, Stream, encode_protobuf};
    use kubepulse_store::LogQuery;

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let client = kubepulse_ingest::http_client().unwrap();
    let t0_ns = t0() * 1_000_000;
    let mut acked: Vec<i64> = Vec::new();
    let mut k = 0i64;
    for round in 0..4u64 {
        let mut server = support::serve(support::QUIET, &data);
        let url = format!("http://127.0.0.1:{}/loki/api/v1/push", server.port);
        let run_for = Duration::from_millis(400 + round * 350);
        let started = tokio::time::Instant::now();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(run_for).await;
            server.peer.kill9();
            server
        });
        while started.elapsed() < run_for + Duration::from_millis(500) {
            let body = encode_protobuf(&PushRequest {
                streams: vec![Stream {
                    labels: vec![("job".into(), "durable".into())],
                    entries: (0..10)
                        .map(|i| Entry {
                            t_ns: t0_ns + k * 1_000_000 + i,
                            line: format!("request {k} line {i}"),
                            metadata: Vec::new(),
                        })
                        .collect(),
                }],
            });
            let r = client
                .post(&url)
                .header("content-type", "application/x-protobuf")
                .body(body)
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().as_u16() == 204 => acked.push(k),
                Ok(resp) => panic!("round {round}: unexpected status {}", resp.status()),
                Err(_) => break,
            }
            k += 1;
        }
        drop(killer.await.unwrap());
    }
    assert!(acked.len() > 50, "only {} pushes acknowledged", acked.len());
    let db = Db::open(&data, StoreConfig::default(), Arc::new(SystemClock))
        .unwrap()
        .0;
    let m = [Matcher::equal("job", "durable")];
    let got = db
        .select_logs(&LogQuery {
            matchers: &m,
            start_ns: t0_ns,
            end_ns: t0_ns + (k + 1) * 1_000_000,
            limit: 0,
            backward: false,
        })
        .unwrap();
    let lines: std::collections::HashSet<String> = got
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.body.clone()))
        .collect();
    for &a in &acked {
        for i in 0..10 {
            let line = format!("request {a} line {i}");
            assert!(lines.contains(&line), "acknowledged {line:?} lost");
        }
    }
}
