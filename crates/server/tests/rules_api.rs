//! `/api/v1/rules` and `/api/v1/alerts` against the real Prometheus 2.42 running the same rule
//! file: the same fields at every level, and the same values where they do not depend on when
//! each system happened to evaluate.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use kubepulse_model::clock::Stopwatch;
use kubepulse_testkit::free_port;
use serde_json::Value;

const RULES: &str = r#"groups:
  - name: demo
    interval: 1s
    rules:
      - record: demo:one
        expr: vector(1)
        labels: {a: b}
      - alert: AlwaysFiring
        expr: vector(2) > 1
        for: 2s
        keep_firing_for: 1m
        labels: {severity: critical}
        annotations: {summary: "v {{ $value }} {{ $value | humanize }}"}
      - alert: NeverFiring
        expr: vector(0) > 1
        for: 5m
  - name: other
    interval: 2s
    limit: 10
    rules:
      - record: demo:two
        expr: sum(vector(2))
"#;

async fn get(url: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// Fields whose values depend on when a system evaluated, or on where the file is.
const TIMING: [&str; 4] = ["evaluationTime", "lastEvaluation", "activeAt", "file"];

/// Compares `a` and `b`: the same keys, and the same values but for timing fields.
fn same(path: &str, a: &Value, b: &Value) {
    match (a, b) {
        (Value::Object(_), Value::Object(_)) => {
            assert_eq!(keys(a), keys(b), "keys at {path}");
            for k in keys(a) {
                if !TIMING.contains(&k.as_str()) {
                    same(&format!("{path}.{k}"), &a[&k], &b[&k]);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {path}");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(&format!("{path}[{i}]"), p, q);
            }
        }
        _ => assert_eq!(a, b, "value at {path}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_alerts_read_as_prometheus_writes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    let port = free_port();
    let _prom = kubepulse_testkit::prometheus(
        &tmp.path().join("prom"),
        port,
        &format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [{}]\n",
            rules.display()
        ),
        &[],
    )
    .unwrap();
    let config = format!(
        "{}rules:\n  files: [{}]\n  builtin: false\n",
        support::QUIET,
        rules.display()
    );
    let server = support::serve(&config, &tmp.path().join("data"));
    let urls = [
        format!("http://127.0.0.1:{}", server.port),
        format!("http://127.0.0.1:{port}"),
    ];
    // Both have fired the alert once it held for 2 s.
    let waited = Stopwatch::start();
    loop {
        let mut firing = 0;
        for u in &urls {
            let v = get(&format!("{u}/api/v1/alerts")).await;
            if v["data"]["alerts"][0]["state"] == "firing" {
                firing += 1;
            }
        }
        if firing == 2 {
            break;
        }
        assert!(waited.elapsed_secs() < 30.0, "alerts never fired in both");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for path in [
        "/api/v1/rules",
        "/api/v1/alerts",
        "/api/v1/rules?type=alert",
        "/api/v1/rules?type=record",
    ] {
        let k = get(&format!("{}{path}", urls[0])).await;
        let p = get(&format!("{}{path}", urls[1])).await;
        same(path, &k, &p);
    }
    let bad = reqwest::Client::new()
        .get(format!("{}/api/v1/rules?type=nope", urls[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
