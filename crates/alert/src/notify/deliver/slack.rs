//! Slack incoming webhooks: one attachment per notification, red while firing and green once
//! resolved, with a line per alert (state, severity, summary, affected objects) and a link to
//! the dashboard.

use serde_json::json;

use super::webhook::post_json;
use super::{Context, Delivery, Notifier};
use crate::notify::config::{Global, SlackConfig};
use crate::notify::dispatch::Notification;
use crate::notify::payload;

/// A Slack integration.
pub struct Slack {
    url: String,
    channel: Option<String>,
    username: Option<String>,
    send_resolved: bool,
    ctx: Context,
}

impl Slack {
    /// From its configuration and the global defaults.
    pub fn new(c: &SlackConfig, g: &Global, ctx: &Context) -> Self {
        Self {
            url: c
                .api_url
                .clone()
                .or_else(|| g.slack_api_url.clone())
                .unwrap_or_default(),
            channel: c.channel.clone(),
            username: c.username.clone(),
            send_resolved: c.send_resolved.unwrap_or(false),
            ctx: ctx.clone(),
        }
    }
}

/// The message Slack receives for `n`.
pub fn message(
    n: &Notification,
    external_url: &str,
    channel: Option<&str>,
    username: Option<&str>,
) -> serde_json::Value {
    let firing = payload::status(&n.alerts, n.at) == "firing";
    let mut text: Vec<String> = payload::lines(n)
        .into_iter()
        .map(|l| format!("• {l}"))
        .collect();
    if let Some(link) = payload::dashboard_link(external_url) {
        text.push(format!("<{link}|Open in KubePulse>"));
    }
    let title = payload::title(n);
    let mut m = json!({
        "text": title,
        "attachments": [{
            "color": if firing { "danger" } else { "good" },
            "title": title,
            "title_link": payload::dashboard_link(external_url),
            "text": text.join("\n"),
            "fallback": title,
            "mrkdwn_in": ["text"],
        }],
    });
    if let Some(c) = channel {
        m["channel"] = json!(c);
    }
    m["username"] = json!(username.unwrap_or("KubePulse"));
    m
}

impl Notifier for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn notify<'a>(&'a self, n: &'a Notification) -> Delivery<'a> {
        Box::pin(async move {
            let m = message(
                n,
                &self.ctx.external_url,
                self.channel.as_deref(),
                self.username.as_deref(),
            );
            post_json(&self.ctx.client, &self.url, &m).await
        })
    }
}
