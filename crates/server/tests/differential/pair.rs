//! KubePulse and the real Prometheus 2.42 side by side on loopback, holding the same samples:
//! counters with a reset, gauges with a gap, a classic histogram, a series that goes stale and
//! one with NaNs, remote-written into both. Shared by the differential and promtool tests.

#![allow(dead_code)]

use std::time::Duration;

use kubepulse_ingest::remote_write::encode::{Series, body};
use kubepulse_model::STALE_NAN;
use kubepulse_testkit::{Peer, free_port};

use crate::support;

/// Spacing of the samples (ms).
pub const STEP: i64 = 15_000;
/// Samples per series.
pub const POINTS: i64 = 240;

type Labels = Vec<(&'static str, String)>;
type Gen = Box<dyn Fn(i64) -> Option<f64>>;

/// The series and how each evolves: value at point `i`, or `None` for no sample.
fn series() -> Vec<(Labels, Gen)> {
    let mut out: Vec<(Labels, Gen)> = Vec::new();
    for (j, job) in ["api", "web"].iter().enumerate() {
        for inst in 0..3 {
            for (k, code) in ["200", "500"].iter().enumerate() {
                let rate = 1.0 + (j * 7 + inst * 3 + k * 11) as f64 * 0.37;
                let base = 10_000.0 + (inst * 977) as f64;
                let reset = j == 1 && inst == 2 && k == 0;
                out.push((
                    vec![
                        ("__name__", "http_requests_total".into()),
                        ("job", job.to_string()),
                        ("instance", format!("10.0.0.{inst}:80")),
                        ("code", code.to_string()),
                    ],
                    Box::new(move |i| {
                        let v = base + rate * i as f64 * 15.0;
                        Some(if reset && i >= 150 {
                            v - base - rate * 2000.0 + 17.0
                        } else {
                            v
                        })
                    }),
                ));
            }
            let m = (inst + 1) as f64 * 1.7 + j as f64;
            out.push((
                vec![
                    ("__name__", "memory_bytes".into()),
                    ("job", job.to_string()),
                    ("instance", format!("10.0.0.{inst}:80")),
                ],
                Box::new(move |i| {
                    if j == 0 && inst == 1 && (100..130).contains(&i) {
                        return None;
                    }
                    Some(1e8 * m + 3e6 * ((i as f64) / (9.0 + m)).sin())
                }),
            ));
        }
        for (b, le) in ["0.1", "0.5", "1", "+Inf"].iter().enumerate() {
            let share = [0.31, 0.74, 0.93, 1.0][b];
            let total = 2.3 + j as f64;
            out.push((
                vec![
                    ("__name__", "request_duration_seconds_bucket".into()),
                    ("job", job.to_string()),
                    ("le", le.to_string()),
                ],
                Box::new(move |i| Some((5000.0 + total * i as f64 * 15.0) * share)),
            ));
        }
    }
    out.push((
        vec![("__name__", "up".into()), ("job", "batch".into())],
        Box::new(|i| match i {
            _ if i < 60 => Some(1.0),
            60 => Some(STALE_NAN),
            _ if i < 200 => None,
            _ => Some(0.0),
        }),
    ));
    out.push((
        vec![("__name__", "temperature".into()), ("room", "a".into())],
        Box::new(|i| {
            Some(if i % 37 == 5 {
                f64::NAN
            } else {
                20.0 + (i % 13) as f64 * 0.25
            })
        }),
    ));
    out
}

/// KubePulse and Prometheus side by side, holding the same samples.
pub struct Pair {
    _tmp: tempfile::TempDir,
    pub kp: support::Server,
    _prom: Peer,
    pub prom_port: u16,
    /// The time of the last sample, in milliseconds.
    pub now: i64,
    pub client: reqwest::Client,
}

/// Starts both and remote-writes [`series`] into each.
pub async fn pair() -> Pair {
    let tmp = tempfile::tempdir().unwrap();
    // No rules: Prometheus here runs none either, so that both hold the same series.
    let config = format!("{}rules:\n  enabled: false\n", support::QUIET);
    let kp = support::serve(&config, &tmp.path().join("data"));
    let prom_port = free_port();
    let prom = kubepulse_testkit::prometheus(
        &tmp.path().join("prometheus"),
        prom_port,
        "global:\n  scrape_interval: 15s\n",
        &["--web.enable-remote-write-receiver"],
    )
    .unwrap();
    let client = kubepulse_ingest::http_client().unwrap();
    // Listening is not ready: Prometheus answers 503 until its storage is open.
    for port in [kp.port, prom_port] {
        let mut tries = 0;
        loop {
            let url = format!("http://127.0.0.1:{port}/-/ready");
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => break,
                _ if tries < 300 => tries += 1,
                other => panic!("{url} not ready: {other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let now = kubepulse_model::Clock::now_ms(&kubepulse_model::SystemClock) / 60_000 * 60_000;
    let start = now - (POINTS - 1) * STEP;
    let all = series();
    for i in 0..POINTS {
        let t = start + i * STEP;
        let batch: Vec<Series<&str>> = all
            .iter()
            .filter_map(|(l, f)| {
                f(i).map(|v| {
                    (
                        l.iter().map(|(n, v)| (*n, v.as_str())).collect(),
                        vec![(t, v)],
                    )
                })
            })
            .collect();
        let b = body(&batch);
        for port in [kp.port, prom_port] {
            let r = client
                .post(format!("http://127.0.0.1:{port}/api/v1/write"))
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(b.clone())
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{port}: {}",
                r.text().await.unwrap()
            );
        }
    }

    Pair {
        _tmp: tmp,
        kp,
        _prom: prom,
        prom_port,
        now,
        client,
    }
}
