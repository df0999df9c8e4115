//! Rules while serving: the built-in pack and the configured rule files, each group evaluated
//! at its interval (aligned to multiples of it) over the store, recorded series and `ALERTS`
//! written back, alert state kept in the data directory so that a restart neither loses nor
//! re-announces firing alerts, and reloads that refuse broken files while the running rules go
//! on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::anyhow;
use kubepulse_alert::rulefile;
use kubepulse_alert::{Alert, AlertingState, EvalContext, Group, Rule, RuleGroup, Sink, builtin};
use kubepulse_api::prom::rules::RulesService;
use kubepulse_model::{Clock, Labels};
use kubepulse_query::{Engine, QueryError, Sample, Source};
use kubepulse_store::{Append, Matcher, Read, SeriesSamples};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::config::RulesConfig;
use crate::notifications::Notifications;
use crate::state_file;

/// The store's read side as a source that rule templates may keep.
struct StoreRead(Arc<dyn Read>);

impl Source for StoreRead {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, QueryError> {
        kubepulse_query::StoreSource(self.0.as_ref()).select(matchers, mint, maxt)
    }
}

/// Writes rule outputs to the store and hands alerts to the notification pipeline.
struct StoreSink<'a> {
    append: &'a dyn Append,
    notify: Option<&'a Notifications>,
}

impl Sink for StoreSink<'_> {
    fn write(&mut self, samples: &[Sample]) -> Result<(), String> {
        kubepulse_alert::group::append_samples(self.append, samples)
    }

    fn notify(&mut self, rule: &Rule, alerts: Vec<Alert>) {
        if let Some(n) = self.notify {
            n.receive(alerts.iter().map(|a| n.rule_alert(&rule.expr, a)).collect());
        }
    }
}

/// Alert state of one rule, as saved.
#[derive(Debug, Serialize, Deserialize)]
struct SavedRule {
    name: String,
    expr: String,
    alerts: AlertingState,
}

/// Alert state of one group, as saved.
#[derive(Debug, Serialize, Deserialize)]
struct SavedGroup {
    key: String,
    last_eval: i64,
    rules: Vec<SavedRule>,
}

/// The rules of a running server.
pub struct Rules {
    cfg: RulesConfig,
    engine: Engine,
    clock: Arc<dyn Clock>,
    read: Arc<dyn Read>,
    append: Arc<dyn Append>,
    state_path: PathBuf,
    external_labels: Labels,
    groups: Mutex<Vec<Group>>,
    snapshot: RwLock<Arc<Vec<Group>>>,
    notify: Option<Arc<Notifications>>,
}

/// Loads the built-in pack and the rule files; a file group named like a built-in one replaces it.
fn load_groups(cfg: &RulesConfig) -> Result<Vec<RuleGroup>, String> {
    let mut groups = if cfg.builtin {
        builtin::groups(cfg.prediction_threshold).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    let files = rulefile::expand(&cfg.files)?;
    let mut errors = Vec::new();
    for f in &files {
        match rulefile::load(f) {
            Ok(gs) => {
                for g in gs {
                    groups.retain(|b| !(b.file == builtin::FILE && b.name == g.name));
                    groups.push(g);
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors.join("\n"))
    }
}

impl Rules {
    /// Loads the rules and the saved alert state; fails when a rule file is broken.
    pub fn new(
        cfg: RulesConfig,
        engine: Engine,
        clock: Arc<dyn Clock>,
        read: Arc<dyn Read>,
        append: Arc<dyn Append>,
        state_path: PathBuf,
        notify: Option<Arc<Notifications>>,
    ) -> anyhow::Result<Self> {
        let defs = load_groups(&cfg).map_err(|e| anyhow!("loading rules: {e}"))?;
        let external_labels = Labels::from_pairs(
            cfg.external_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        let interval = cfg.evaluation_interval.ms();
        let mut groups: Vec<Group> = defs.into_iter().map(|g| Group::new(g, interval)).collect();
        let saved: Vec<SavedGroup> = state_file::load(&state_path)?.unwrap_or_default();
        restore(&mut groups, saved);
        let rules: usize = groups.iter().map(|g| g.rules.len()).sum();
        info!(groups = groups.len(), rules, "rules loaded");
        let snapshot = RwLock::new(Arc::new(groups.clone()));
        Ok(Self {
            cfg,
            engine,
            clock,
            read,
            append,
            state_path,
            external_labels,
            groups: Mutex::new(groups),
            snapshot,
            notify,
        })
    }

    fn publish(&self, groups: &[Group]) {
        if let Ok(mut s) = self.snapshot.write() {
            *s = Arc::new(groups.to_vec());
        }
    }
}

/// Puts saved alert state back into the groups it belongs to.
fn restore(groups: &mut [Group], saved: Vec<SavedGroup>) {
    let mut by_key: BTreeMap<String, SavedGroup> =
        saved.into_iter().map(|g| (g.key.clone(), g)).collect();
    for g in groups.iter_mut() {
        let Some(s) = by_key.remove(&g.key()) else {
            continue;
        };
        g.last_eval = s.last_eval;
        for r in &mut g.rules {
            if let Some(sr) = s
                .rules
                .iter()
                .find(|sr| sr.name == r.rule.name() && sr.expr == r.rule.expr)
            {
                r.alerts = sr.alerts.clone();
            }
        }
    }
}

impl RulesService for Rules {
    fn groups(&self) -> Arc<Vec<Group>> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn reload(&self) -> Result<(), String> {
        if let Some(n) = &self.notify {
            n.reload().inspect_err(|e| {
                warn!(error = %e, "notification configuration refused: the running one goes on");
            })?;
        }
        let defs = load_groups(&self.cfg).inspect_err(|e| {
            warn!(error = %e, "rule reload refused: the running rules go on");
        })?;
        let mut guard = self.groups.lock().map_err(|_| "rule state poisoned")?;
        let mut old: BTreeMap<String, Group> = guard.drain(..).map(|g| (g.key(), g)).collect();
        let interval = self.cfg.evaluation_interval.ms();
        let mut next: Vec<Group> = defs.into_iter().map(|g| Group::new(g, interval)).collect();
        for g in &mut next {
            if let Some(o) = old.get_mut(&g.key()) {
                g.adopt(o);
            }
        }
        info!(groups = next.len(), "rules reloaded");
        *guard = next;
        self.publish(&guard);
        Ok(())
    }
}

impl crate::periodic::Job for Rules {
    fn name(&self) -> &'static str {
        "rule evaluation"
    }

    fn run(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let source: Arc<dyn Source + Send + Sync> = Arc::new(StoreRead(self.read.clone()));
        let ctx = EvalContext {
            engine: &self.engine,
            source,
            external_labels: &self.external_labels,
            external_url: &self.cfg.external_url,
            resend_delay: self.cfg.resend_delay.ms(),
        };
        let mut guard = self
            .groups
            .lock()
            .map_err(|_| anyhow!("rule state poisoned"))?;
        let mut any = false;
        for g in guard.iter_mut() {
            let slot = now - now.rem_euclid(g.interval.max(1));
            if slot > g.last_eval {
                let mut sink = StoreSink {
                    append: self.append.as_ref(),
                    notify: self.notify.as_deref(),
                };
                g.eval(slot, &ctx, &mut sink);
                any = true;
            }
        }
        if any {
            self.publish(&guard);
        }
        Ok(())
    }

    fn save(&self) -> anyhow::Result<()> {
        let saved: Vec<SavedGroup> = {
            let guard = self
                .groups
                .lock()
                .map_err(|_| anyhow!("rule state poisoned"))?;
            guard
                .iter()
                .map(|g| SavedGroup {
                    key: g.key(),
                    last_eval: g.last_eval,
                    rules: g
                        .rules
                        .iter()
                        .filter(|r| !r.alerts.active.is_empty())
                        .map(|r| SavedRule {
                            name: r.rule.name().to_string(),
                            expr: r.rule.expr.clone(),
                            alerts: r.alerts.clone(),
                        })
                        .collect(),
                })
                .collect()
        };
        state_file::save(&self.state_path, &saved)
    }
}

#[cfg(test)]
#[path = "rules/tests.rs"]
mod tests;
