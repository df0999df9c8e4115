//! Forwarding to external Alertmanagers, as Prometheus does it: every batch of alerts the
//! rules hand over is posted to each Alertmanager's `/api/v2/alerts`, from a bounded queue, so
//! that a slow Alertmanager never holds up rule evaluation.

use std::time::Duration;

use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_model::format_rfc3339;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::warn;

use super::NotifyMetrics;

/// Batches waiting to be sent before new ones are dropped.
const QUEUE: usize = 1000;

fn body(alerts: &[PipelineAlert]) -> serde_json::Value {
    json!(
        alerts
            .iter()
            .map(|a| json!({
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": format_rfc3339(a.starts_at),
                "endsAt": format_rfc3339(a.ends_at),
                "generatorURL": a.generator_url,
            }))
            .collect::<Vec<_>>()
    )
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    body: &serde_json::Value,
) -> Result<(), String> {
    let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
    let resp = client
        .post(&url)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        let code = resp.status();
        Err(format!(
            "{url}: {code}: {}",
            resp.text().await.unwrap_or_default()
        ))
    }
}

/// Starts the forwarder; returns where to queue alert batches.
pub fn start(
    urls: Vec<String>,
    client: reqwest::Client,
    metrics: NotifyMetrics,
    rt: &tokio::runtime::Handle,
) -> mpsc::Sender<Vec<PipelineAlert>> {
    let (tx, mut rx) = mpsc::channel::<Vec<PipelineAlert>>(QUEUE);
    rt.spawn(async move {
        while let Some(batch) = rx.recv().await {
            let b = std::sync::Arc::new(body(&batch));
            // Each Alertmanager on its own task: a slow one does not hold up the others.
            let handles: Vec<_> = urls
                .iter()
                .map(|u| {
                    let (client, u, b) = (client.clone(), u.clone(), b.clone());
                    tokio::spawn(async move { send(&client, &u, &b).await })
                })
                .collect();
            for h in handles {
                match h.await {
                    Ok(Ok(())) => {
                        metrics.forwarded.inc_by(batch.len() as u64);
                    }
                    Ok(Err(e)) => {
                        metrics.forward_failed.inc();
                        warn!(error = %e, "forwarding alerts to alertmanager failed");
                    }
                    Err(e) => warn!(error = %e, "alertmanager forwarding task failed"),
                };
            }
        }
    });
    tx
}
