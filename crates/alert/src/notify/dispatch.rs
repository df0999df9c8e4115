//! The notification pipeline's core, as Alertmanager runs it, driven by a clock so that it is
//! deterministic: alerts are routed into groups on arrival; a group is first flushed after its
//! `group_wait`, then every `group_interval`; a flush drops silenced and inhibited alerts and,
//! per integration, notifies only when the firing set grew, alerts resolved (for integrations
//! that send resolved), or `repeat_interval` passed, as the notification log decides.

use std::collections::{BTreeMap, BTreeSet};

use kubepulse_model::Labels;
use serde::{Deserialize, Serialize};

use super::alerts::{AlertStore, PipelineAlert};
use super::inhibit::{InhibitRule, inhibitors};
use super::route::Route;
use super::silence::Silences;

/// One aggregation group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AggrGroup {
    /// `route key:group labels`, as Alertmanager's `groupKey`.
    pub key: String,
    /// The receiver.
    pub receiver: String,
    /// The grouping labels.
    pub labels: Labels,
    /// Its alerts.
    pub alerts: BTreeSet<u64>,
    /// Next flush (ms).
    pub next_flush: i64,
    /// Between flushes (ms).
    pub group_interval: i64,
    /// Before repeating (ms).
    pub repeat_interval: i64,
}

/// What the notification log remembers of the last successful notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Firing alerts notified.
    pub firing: BTreeSet<u64>,
    /// Resolved alerts notified.
    pub resolved: BTreeSet<u64>,
    /// When (ms).
    pub at: i64,
}

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The notification log's key: group key, receiver and integration.
    pub log_key: String,
    /// Alertmanager's `groupKey`.
    pub group_key: String,
    /// The receiver.
    pub receiver: String,
    /// Which of the receiver's integrations.
    pub integration: usize,
    /// The group's labels.
    pub group_labels: Labels,
    /// The alerts to tell about (firing, and resolved ones when the integration sends them).
    pub alerts: Vec<PipelineAlert>,
    /// Firing fingerprints at the flush.
    pub firing: BTreeSet<u64>,
    /// Resolved fingerprints at the flush.
    pub resolved: BTreeSet<u64>,
    /// When it was decided (ms).
    pub at: i64,
}

/// The pipeline's state, saved between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineState {
    /// Alerts received.
    pub alerts: AlertStore,
    /// Silences.
    pub silences: Silences,
    /// Aggregation groups by key.
    pub groups: BTreeMap<String, AggrGroup>,
    /// Notification log.
    pub nflog: BTreeMap<String, LogEntry>,
}

/// How an alert stands in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertStatus {
    /// Silences muting it.
    pub silenced_by: Vec<String>,
    /// Alerts inhibiting it.
    pub inhibited_by: Vec<u64>,
}

/// The routing, muting and deduplication of notifications.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    /// The routing tree.
    pub route: Route,
    /// Inhibition rules.
    pub inhibit: Vec<InhibitRule>,
    /// Each receiver's integrations, as whether they send resolved alerts.
    pub integrations: BTreeMap<String, Vec<bool>>,
    /// End given to alerts received without one (ms).
    pub resolve_timeout: i64,
    /// The state.
    pub state: PipelineState,
}

/// Alertmanager's deduplication decision.
fn needs_update(
    entry: Option<&LogEntry>,
    firing: &BTreeSet<u64>,
    resolved: &BTreeSet<u64>,
    send_resolved: bool,
    repeat: i64,
    now: i64,
) -> bool {
    let Some(e) = entry else {
        return !firing.is_empty();
    };
    if !firing.is_subset(&e.firing) {
        return true;
    }
    if firing.is_empty() {
        return !e.firing.is_empty();
    }
    if send_resolved && !resolved.is_subset(&e.resolved) {
        return true;
    }
    e.at < now - repeat
}

impl Dispatcher {
    /// Receives an alert at `now` and routes it.
    pub fn receive(&mut self, a: PipelineAlert, now: i64) {
        let labels = a.labels.clone();
        let fp = a.fingerprint();
        self.state.alerts.put(a, now, self.resolve_timeout);
        let Some(stored) = self.state.alerts.alerts.get(&fp) else {
            return;
        };
        if stored.resolved(now) && !self.state.groups.values().any(|g| g.alerts.contains(&fp)) {
            return;
        }
        for r in self.route.matching(&labels) {
            let group_labels = r.group_labels(&labels);
            let key = format!("{}:{}", r.key, group_labels);
            let g = self
                .state
                .groups
                .entry(format!("{key}|{}", r.receiver))
                .or_insert_with(|| AggrGroup {
                    key,
                    receiver: r.receiver.clone(),
                    labels: group_labels,
                    alerts: BTreeSet::new(),
                    next_flush: now + r.group_wait,
                    group_interval: r.group_interval,
                    repeat_interval: r.repeat_interval,
                });
            g.alerts.insert(fp);
        }
    }

    /// Why an alert is muted at `now` (empty when it is not).
    pub fn status(&self, labels: &Labels, now: i64) -> AlertStatus {
        let firing = self
            .state
            .alerts
            .alerts
            .iter()
            .filter(|(_, a)| !a.resolved(now))
            .map(|(fp, a)| (*fp, &a.labels));
        AlertStatus {
            silenced_by: self.state.silences.muting(labels, now),
            inhibited_by: inhibitors(&self.inhibit, labels, firing),
        }
    }

    /// Flushes the groups due at `now`; returns the notifications to deliver.
    pub fn tick(&mut self, now: i64) -> Vec<Notification> {
        let due: Vec<String> = self
            .state
            .groups
            .iter()
            .filter(|(_, g)| g.next_flush <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::new();
        for k in due {
            let Some(g) = self.state.groups.get(&k).cloned() else {
                continue;
            };
            let mut firing = BTreeSet::new();
            let mut resolved = BTreeSet::new();
            let mut alerts = BTreeMap::new();
            for fp in &g.alerts {
                let Some(a) = self.state.alerts.alerts.get(fp) else {
                    continue;
                };
                let st = self.status(&a.labels, now);
                if !st.silenced_by.is_empty() || !st.inhibited_by.is_empty() {
                    continue;
                }
                if a.resolved(now) {
                    resolved.insert(*fp);
                } else {
                    firing.insert(*fp);
                }
                alerts.insert(*fp, a.clone());
            }
            let integrations = self
                .integrations
                .get(&g.receiver)
                .cloned()
                .unwrap_or_default();
            for (i, send_resolved) in integrations.iter().enumerate() {
                let log_key = format!("{}|{}|{i}", g.key, g.receiver);
                if !needs_update(
                    self.state.nflog.get(&log_key),
                    &firing,
                    &resolved,
                    *send_resolved,
                    g.repeat_interval,
                    now,
                ) {
                    continue;
                }
                let list: Vec<PipelineAlert> = alerts
                    .iter()
                    .filter(|(fp, _)| firing.contains(fp) || *send_resolved)
                    .map(|(_, a)| a.clone())
                    .collect();
                if list.is_empty() {
                    // Nothing to say, but remember that the firing ones are gone.
                    self.record(&log_key, &firing, &resolved, now);
                    continue;
                }
                out.push(Notification {
                    log_key,
                    group_key: g.key.clone(),
                    receiver: g.receiver.clone(),
                    integration: i,
                    group_labels: g.labels.clone(),
                    alerts: list,
                    firing: firing.clone(),
                    resolved: resolved.clone(),
                    at: now,
                });
            }
            if let Some(gm) = self.state.groups.get_mut(&k) {
                let ended: Vec<u64> = gm
                    .alerts
                    .iter()
                    .copied()
                    .filter(|fp| {
                        self.state
                            .alerts
                            .alerts
                            .get(fp)
                            .is_none_or(|a| a.resolved(now))
                    })
                    .collect();
                for fp in ended {
                    gm.alerts.remove(&fp);
                }
                gm.next_flush = now + gm.group_interval;
                if gm.alerts.is_empty() {
                    self.state.groups.remove(&k);
                }
            }
        }
        out
    }

    /// Records a delivered notification in the log.
    pub fn record(
        &mut self,
        log_key: &str,
        firing: &BTreeSet<u64>,
        resolved: &BTreeSet<u64>,
        at: i64,
    ) {
        self.state.nflog.insert(
            log_key.to_string(),
            LogEntry {
                firing: firing.clone(),
                resolved: resolved.clone(),
                at,
            },
        );
    }

    /// Drops resolved alerts no group holds any more, expired silences and old log entries.
    pub fn gc(&mut self, now: i64) {
        let held: BTreeSet<u64> = self
            .state
            .groups
            .values()
            .flat_map(|g| g.alerts.iter().copied())
            .collect();
        self.state
            .alerts
            .alerts
            .retain(|fp, a| held.contains(fp) || !a.resolved(now - 3_600_000));
        self.state.silences.gc(now);
        self.state
            .nflog
            .retain(|_, e| e.at > now - 5 * 24 * 3_600_000);
    }
}

#[cfg(test)]
#[path = "dispatch/tests.rs"]
mod tests;
