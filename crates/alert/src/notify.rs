//! Notifications as Alertmanager sends them: the configuration in its schema, matchers, the
//! routing tree, aggregation groups and their timers, silences, inhibition, the notification
//! log, and the integrations that deliver (webhook, Slack, email, another Alertmanager).

pub mod alerts;
pub mod config;
pub mod deliver;
pub mod dispatch;
pub mod inhibit;
pub mod matchers;
pub mod payload;
pub mod route;
pub mod silence;
