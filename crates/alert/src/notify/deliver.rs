//! Delivery: each receiver's integrations as [`Notifier`]s (webhook, Slack, email), and the
//! retry policy around them. Every delivery runs on its own with a timeout, so a receiver that
//! hangs or fails never delays another.

mod email;
mod slack;
mod webhook;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::config::NotifyConfig;
use super::dispatch::Notification;

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// What happened.
    pub message: String,
    /// Worth retrying (network errors, 5xx, 429).
    pub retry: bool,
}

impl DeliveryError {
    fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: true,
        }
    }

    fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: false,
        }
    }

    /// From an HTTP status that is not a success.
    fn status(code: u16, body: &str) -> Self {
        let retry = code >= 500 || code == 429;
        let message = format!("unexpected status code {code}: {}", body.trim());
        Self { message, retry }
    }
}

/// A delivery in progress.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// One integration of a receiver.
pub trait Notifier: Send + Sync {
    /// `webhook`, `slack`, `email`.
    fn kind(&self) -> &'static str;
    /// Whether resolved alerts are notified.
    fn send_resolved(&self) -> bool;
    /// Delivers one notification.
    fn notify<'a>(&'a self, n: &'a Notification) -> Delivery<'a>;
}

/// What every integration needs around it.
#[derive(Clone)]
pub struct Context {
    /// HTTP client.
    pub client: reqwest::Client,
    /// KubePulse's URL, for links.
    pub external_url: String,
}

/// Each receiver's integrations, in the order the configuration lists them (webhooks, Slack,
/// email).
pub fn notifiers(cfg: &NotifyConfig, ctx: &Context) -> BTreeMap<String, Vec<Arc<dyn Notifier>>> {
    let mut out = BTreeMap::new();
    for r in &cfg.receivers {
        let mut list: Vec<Arc<dyn Notifier>> = Vec::new();
        for w in &r.webhook_configs {
            list.push(Arc::new(webhook::Webhook::new(w, ctx)));
        }
        for s in &r.slack_configs {
            list.push(Arc::new(slack::Slack::new(s, &cfg.global, ctx)));
        }
        for e in &r.email_configs {
            list.push(Arc::new(email::Email::new(e, &cfg.global, ctx)));
        }
        out.insert(r.name.clone(), list);
    }
    out
}

/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Delivers with exponential back-off (1 s, 2 s, 4 s, …) until it succeeds, fails for good,
/// or `attempts` are spent; returns the number of attempts made and the last error.
pub async fn deliver(
    notifier: &dyn Notifier,
    n: &Notification,
    attempts: u32,
    first_backoff: Duration,
) -> (u32, Result<(), DeliveryError>) {
    let mut backoff = first_backoff;
    let mut last = Err(DeliveryError::fatal("no attempt made"));
    for i in 1..=attempts.max(1) {
        last = match tokio::time::timeout(ATTEMPT_TIMEOUT, notifier.notify(n)).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError::retry(format!(
                "no answer within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            ))),
        };
        match &last {
            Ok(()) => return (i, last),
            Err(e) if !e.retry => return (i, last),
            Err(_) if i < attempts => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
            Err(_) => {}
        }
    }
    (attempts.max(1), last)
}
