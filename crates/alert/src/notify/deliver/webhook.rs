//! The generic webhook: Alertmanager's webhook JSON (version 4), posted as it is.

use super::{Context, Delivery, DeliveryError, Notifier};
use crate::notify::config::WebhookConfig;
use crate::notify::dispatch::Notification;
use crate::notify::payload;

/// A webhook integration.
pub struct Webhook {
    url: String,
    send_resolved: bool,
    max_alerts: usize,
    ctx: Context,
}

impl Webhook {
    /// From its configuration.
    pub fn new(c: &WebhookConfig, ctx: &Context) -> Self {
        Self {
            url: c.url.clone(),
            send_resolved: c.send_resolved.unwrap_or(true),
            max_alerts: usize::try_from(c.max_alerts).unwrap_or(usize::MAX),
            ctx: ctx.clone(),
        }
    }
}

/// Posts `body` as JSON and maps the answer.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), DeliveryError> {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("KubePulse/", env!("CARGO_PKG_VERSION")),
        )
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| DeliveryError::retry(e.to_string()))?;
    let code = resp.status().as_u16();
    if (200..300).contains(&code) {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    Err(DeliveryError::status(code, &text))
}

impl Notifier for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn notify<'a>(&'a self, n: &'a Notification) -> Delivery<'a> {
        Box::pin(async move {
            let body = payload::webhook(n, &self.ctx.external_url, self.max_alerts);
            post_json(&self.ctx.client, &self.url, &body).await
        })
    }
}
