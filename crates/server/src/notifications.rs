//! The notification pipeline while serving: alerts from the rules (and from clients of the
//! Alertmanager API) are routed, grouped, muted and deduplicated by the dispatcher, delivered by
//! the receivers' integrations on their own tasks with retries, forwarded to external
//! Alertmanagers, and the state (alerts, silences, groups, notification log) is kept in the data
//! directory so that a restart neither loses nor re-sends notifications.

mod feedback;
mod forward;
mod views;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::anyhow;
use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_alert::notify::config::{NotifyConfig, ReceiverConfig, RouteConfig};
use kubepulse_alert::notify::deliver::{self, Context, Notifier};
use kubepulse_alert::notify::dispatch::{Dispatcher, Notification, PipelineState};
use kubepulse_alert::notify::inhibit::InhibitRule;
use kubepulse_alert::notify::route::Route;
use kubepulse_alert::{Alert, AlertState};
use kubepulse_model::{Clock, Labels};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tracing::{info, warn};

use crate::config::AlertingConfig;
use crate::state_file;

pub use feedback::FeedbackLog;

/// Notification counters, by integration.
#[derive(Debug, Clone, Default)]
pub struct NotifyMetrics {
    sent: Family<Vec<(String, String)>, Counter>,
    failed: Family<Vec<(String, String)>, Counter>,
    forwarded: Counter,
    forward_failed: Counter,
}

impl NotifyMetrics {
    /// Registers the counters.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "kubepulse_notifications",
            "Notifications delivered, by integration",
            self.sent.clone(),
        );
        r.register(
            "kubepulse_notifications_failed",
            "Notifications given up after their attempts, by integration",
            self.failed.clone(),
        );
        r.register(
            "kubepulse_alertmanager_alerts_sent",
            "Alerts forwarded to external Alertmanagers",
            self.forwarded.clone(),
        );
        r.register(
            "kubepulse_alertmanager_alerts_failed",
            "Alert batches an external Alertmanager refused or did not answer",
            self.forward_failed.clone(),
        );
    }
}

/// The configuration in force and what was built from it.
struct Loaded {
    yaml: String,
    notifiers: BTreeMap<String, Vec<Arc<dyn Notifier>>>,
}

/// The default when no file is given: one receiver without integrations, grouped by name.
fn default_config() -> NotifyConfig {
    NotifyConfig {
        route: Some(RouteConfig {
            receiver: Some("kubepulse".into()),
            group_by: Some(vec!["alertname".into()]),
            ..RouteConfig::default()
        }),
        receivers: vec![ReceiverConfig {
            name: "kubepulse".into(),
            ..ReceiverConfig::default()
        }],
        ..NotifyConfig::default()
    }
}

fn read_config(cfg: &AlertingConfig) -> Result<(NotifyConfig, String), String> {
    match &cfg.config_file {
        Some(p) => {
            let src = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let c =
                NotifyConfig::parse(&p.display().to_string(), &src).map_err(|e| e.to_string())?;
            Ok((c, src))
        }
        None => {
            let c = default_config();
            let yaml = serde_saphyr::to_string(&c).map_err(|e| e.to_string())?;
            Ok((c, yaml))
        }
    }
}

/// The pipeline of a running server.
pub struct Notifications {
    cfg: AlertingConfig,
    clock: Arc<dyn Clock>,
    state_path: PathBuf,
    ctx: Context,
    external_labels: Labels,
    dispatcher: Arc<Mutex<Dispatcher>>,
    loaded: RwLock<Loaded>,
    runtime: tokio::runtime::Handle,
    forward: Option<tokio::sync::mpsc::Sender<Vec<PipelineAlert>>>,
    metrics: NotifyMetrics,
    started: i64,
    /// When the state was last cleared of what is over (ms).
    last_gc: std::sync::atomic::AtomicI64,
    feedback: FeedbackLog,
}

fn dispatcher_parts(c: &NotifyConfig) -> Result<(Route, Vec<InhibitRule>, i64), String> {
    let route = Route::root(c.route.as_ref().ok_or("no route provided in config")?)?;
    let inhibit = c
        .inhibit_rules
        .iter()
        .map(InhibitRule::new)
        .collect::<Result<Vec<_>, _>>()?;
    let resolve = match &c.global.resolve_timeout {
        Some(t) => kubepulse_model::parse_duration(t).map_err(|e| e.to_string())?,
        None => 300_000,
    };
    Ok((route, inhibit, resolve))
}

fn integrations(n: &BTreeMap<String, Vec<Arc<dyn Notifier>>>) -> BTreeMap<String, Vec<bool>> {
    n.iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.send_resolved()).collect()))
        .collect()
}

/// Where things are kept and reached.
pub struct Setup {
    /// The `alerting` section.
    pub cfg: AlertingConfig,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// HTTP client for webhooks, Slack and Alertmanagers.
    pub client: reqwest::Client,
    /// KubePulse's URL for links.
    pub external_url: String,
    /// Labels added to every alert leaving the rules.
    pub external_labels: Labels,
    /// Counters.
    pub metrics: NotifyMetrics,
}

impl Notifications {
    /// Loads the configuration and the saved state; must run inside the Tokio runtime.
    pub fn new(s: Setup) -> anyhow::Result<Arc<Self>> {
        let (c, yaml) = read_config(&s.cfg).map_err(|e| anyhow!("alerting: {e}"))?;
        let ctx = Context {
            client: s.client.clone(),
            external_url: s.external_url.clone(),
        };
        let notifiers = deliver::notifiers(&c, &ctx);
        let (route, inhibit, resolve_timeout) = dispatcher_parts(&c).map_err(anyhow::Error::msg)?;
        let state_path = s.data_dir.join("notify-state.json.zst");
        let state: PipelineState = state_file::load(&state_path)?.unwrap_or_default();
        let dispatcher = Dispatcher {
            route,
            inhibit,
            integrations: integrations(&notifiers),
            resolve_timeout,
            state,
        };
        let runtime = tokio::runtime::Handle::current();
        let forward = (!s.cfg.alertmanagers.is_empty()).then(|| {
            forward::start(
                s.cfg.alertmanagers.clone(),
                s.client.clone(),
                s.metrics.clone(),
                &runtime,
            )
        });
        info!(
            receivers = notifiers.len(),
            alertmanagers = s.cfg.alertmanagers.len(),
            "notifications ready"
        );
        Ok(Arc::new(Self {
            cfg: s.cfg,
            clock: s.clock.clone(),
            state_path,
            ctx,
            external_labels: s.external_labels,
            dispatcher: Arc::new(Mutex::new(dispatcher)),
            loaded: RwLock::new(Loaded { yaml, notifiers }),
            runtime,
            forward,
            metrics: s.metrics,
            started: s.clock.now_ms(),
            last_gc: std::sync::atomic::AtomicI64::new(0),
            feedback: FeedbackLog::new(s.data_dir.join("alert-feedback.jsonl")),
        }))
    }

    /// Loads the configuration file again; a broken one is refused and the pipeline goes on.
    pub fn reload(&self) -> Result<(), String> {
        let (c, yaml) = read_config(&self.cfg)?;
        let notifiers = deliver::notifiers(&c, &self.ctx);
        let (route, inhibit, resolve) = dispatcher_parts(&c)?;
        {
            let mut d = self
                .dispatcher
                .lock()
                .map_err(|_| "notification state poisoned")?;
            d.route = route;
            d.inhibit = inhibit;
            d.resolve_timeout = resolve;
            d.integrations = integrations(&notifiers);
        }
        if let Ok(mut l) = self.loaded.write() {
            *l = Loaded { yaml, notifiers };
        }
        info!("notification configuration reloaded");
        Ok(())
    }

    /// An alert of the rules as the pipeline takes it: external labels added, its end the
    /// resolution or how long the last evaluation vouches for it.
    pub fn rule_alert(&self, expr: &str, a: &Alert) -> PipelineAlert {
        let mut b = a.labels.to_builder();
        for l in self.external_labels.iter() {
            if a.labels.get(&l.name).is_none() {
                b.set(l.name.clone(), l.value.clone());
            }
        }
        let ends_at = if a.state == AlertState::Inactive {
            a.resolved_at
        } else {
            a.valid_until
        };
        PipelineAlert {
            labels: b.build(),
            annotations: a.annotations.clone(),
            starts_at: if a.fired_at > 0 {
                a.fired_at
            } else {
                a.active_at
            },
            ends_at,
            updated_at: 0,
            generator_url: format!(
                "{}{}",
                self.ctx.external_url.trim_end_matches('/'),
                kubepulse_alert::template::table_link(expr)
            ),
        }
    }

    /// Takes alerts in: routed into groups, and forwarded to the external Alertmanagers.
    pub fn receive(&self, alerts: Vec<PipelineAlert>) {
        if alerts.is_empty() {
            return;
        }
        let now = self.clock.now_ms();
        if let Some(tx) = &self.forward
            && tx.try_send(alerts.clone()).is_err()
        {
            self.metrics.forward_failed.inc();
            warn!("alertmanager forwarding queue full: alerts dropped");
        }
        if let Ok(mut d) = self.dispatcher.lock() {
            for a in alerts {
                d.receive(a, now);
            }
        }
    }

    fn deliver(&self, n: Notification) {
        let notifier = self.loaded.read().ok().and_then(|l| {
            l.notifiers
                .get(&n.receiver)
                .and_then(|v| v.get(n.integration).cloned())
        });
        let Some(notifier) = notifier else {
            return;
        };
        let dispatcher = self.dispatcher.clone();
        let metrics = self.metrics.clone();
        let attempts = self.cfg.attempts;
        self.runtime.spawn(async move {
            let labels = vec![("integration".to_string(), notifier.kind().to_string())];
            let (tries, result) =
                deliver::deliver(notifier.as_ref(), &n, attempts, Duration::from_secs(1)).await;
            match result {
                Ok(()) => {
                    metrics.sent.get_or_create(&labels).inc();
                    if let Ok(mut d) = dispatcher.lock() {
                        d.record(&n.log_key, &n.firing, &n.resolved, n.at);
                    }
                }
                Err(e) => {
                    metrics.failed.get_or_create(&labels).inc();
                    warn!(receiver = %n.receiver, integration = notifier.kind(), attempts = tries, error = %e.message, "notification failed");
                }
            }
        });
    }
}

impl crate::periodic::Job for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn run(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let due = {
            let mut d = self
                .dispatcher
                .lock()
                .map_err(|_| anyhow!("notification state poisoned"))?;
            // Once a minute, whatever the ticks' timing.
            let last = self.last_gc.load(std::sync::atomic::Ordering::Relaxed);
            if now - last >= 60_000 {
                self.last_gc
                    .store(now, std::sync::atomic::Ordering::Relaxed);
                d.gc(now);
            }
            d.tick(now)
        };
        for n in due {
            self.deliver(n);
        }
        Ok(())
    }

    fn save(&self) -> anyhow::Result<()> {
        let state = self
            .dispatcher
            .lock()
            .map_err(|_| anyhow!("notification state poisoned"))?
            .state
            .clone();
        state_file::save(&self.state_path, &state)
    }
}
