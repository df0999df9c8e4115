//! The real Prometheus 2.42 remote-writing into KubePulse.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use kubepulse_model::SystemClock;
use kubepulse_store::{Db, MatchOp, Matcher, Read, StoreConfig};
use kubepulse_testkit::free_port;

#[tokio::test]
async fn prometheus_remote_writes_into_kubepulse() {
    let tmp = tempfile::tempdir().unwrap();
    let mut kp = support::serve(support::QUIET, &tmp.path().join("data"));
    let prom_port = free_port();
    let cfg = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\nremote_write:\n  - url: http://127.0.0.1:{}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 1s\n",
        kp.port
    );
    let prom = kubepulse_testkit::prometheus(&tmp.path().join("prometheus"), prom_port, &cfg, &[])
        .unwrap();
    let client = kubepulse_ingest::http_client().unwrap();
    let metric = |name: &'static str| {
        let client = client.clone();
        async move {
            let url = format!("http://127.0.0.1:{prom_port}/api/v1/query?query={name}");
            let v: serde_json::Value = client.get(url).send().await.ok()?.json().await.ok()?;
            v["data"]["result"].get(0)?["value"][1]
                .as_str()?
                .parse::<f64>()
                .ok()
        }
    };
    // Wait until Prometheus has sent a good number of samples.
    let mut sent = 0.0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sent = metric("prometheus_remote_storage_samples_total")
            .await
            .unwrap_or(0.0);
        if sent > 2000.0 {
            break;
        }
    }
    assert!(
        sent > 2000.0,
        "Prometheus sent {sent} samples:\n{}",
        prom.output()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        metric("prometheus_remote_storage_samples_failed_total").await,
        Some(0.0),
        "{}",
        kp.peer.output()
    );
    let names: serde_json::Value = client
        .get(format!(
            "http://127.0.0.1:{prom_port}/api/v1/label/__name__/values"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prom_names: Vec<String> = names["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    drop(prom);
    assert!(
        kp.peer.terminate(Duration::from_secs(20)),
        "clean shutdown:\n{}",
        kp.peer.output()
    );
    let db = Db::open(&kp.data, StoreConfig::default(), Arc::new(SystemClock))
        .unwrap()
        .0;
    let ours = db.label_values("__name__", &[], 0, i64::MAX).unwrap();
    let missing: Vec<&String> = prom_names.iter().filter(|n| !ours.contains(n)).collect();
    assert!(
        ours.len() > 100 && missing.len() * 20 < prom_names.len(),
        "{} names here, {} in Prometheus, missing {missing:?}",
        ours.len(),
        prom_names.len()
    );
    let up = db
        .select(
            &[
                Matcher::equal("__name__", "up"),
                Matcher::equal("job", "prometheus"),
            ],
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(up.len(), 1);
    let s = &up[0].samples;
    assert!(s.len() >= 5 && s.iter().all(|x| x.v == 1.0));
    assert!(
        s.windows(2)
            .all(|w| (900..=1200).contains(&(w[1].t - w[0].t))),
        "one sample per second"
    );
    let hist = db
        .select(
            &[Matcher::new(MatchOp::RegexMatch, "__name__", ".*_bucket").unwrap()],
            0,
            i64::MAX,
        )
        .unwrap();
    assert!(hist.iter().any(|h| h.labels.get("le") == Some("+Inf")));
    assert!(kp.peer.output().contains("store flushed"));
}
