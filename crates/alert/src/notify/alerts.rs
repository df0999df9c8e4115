//! Alerts as the notification pipeline holds them (Alertmanager's model): labels, annotations,
//! start and end, merged on every update by their fingerprint.

use std::collections::BTreeMap;

use kubepulse_model::Labels;
use serde::{Deserialize, Serialize};

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineAlert {
    /// Identifying labels.
    pub labels: Labels,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started (ms).
    pub starts_at: i64,
    /// When it ends or ended (ms); while firing, when it lapses unless renewed.
    pub ends_at: i64,
    /// When it was last received (ms).
    pub updated_at: i64,
    /// Where it comes from (a link to its expression).
    pub generator_url: String,
}

impl PipelineAlert {
    /// Its identity.
    pub fn fingerprint(&self) -> u64 {
        self.labels.fingerprint()
    }

    /// Whether it has ended by `now`.
    pub fn resolved(&self, now: i64) -> bool {
        self.ends_at != 0 && self.ends_at <= now
    }
}

/// The alerts received, by fingerprint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertStore {
    /// Alerts.
    pub alerts: BTreeMap<u64, PipelineAlert>,
}

impl AlertStore {
    /// Adds or merges an alert received at `now`; an alert without an end gets
    /// `now + resolve_timeout`.
    pub fn put(&mut self, mut a: PipelineAlert, now: i64, resolve_timeout: i64) {
        if a.starts_at == 0 {
            a.starts_at = now;
        }
        if a.ends_at == 0 {
            a.ends_at = now + resolve_timeout;
        }
        a.updated_at = now;
        let fp = a.fingerprint();
        match self.alerts.get_mut(&fp) {
            // A new occurrence after the old one ended replaces it.
            Some(old) if old.resolved(now) && a.starts_at > old.ends_at => *old = a,
            Some(old) => {
                old.starts_at = old.starts_at.min(a.starts_at);
                old.ends_at = a.ends_at;
                old.annotations = a.annotations;
                old.updated_at = now;
                old.generator_url = a.generator_url;
            }
            None => {
                self.alerts.insert(fp, a);
            }
        }
    }

    /// Forgets alerts resolved before `before`.
    pub fn gc(&mut self, before: i64) {
        self.alerts
            .retain(|_, a| !(a.ends_at != 0 && a.ends_at < before));
    }
}
