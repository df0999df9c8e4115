//! The `alerting` section: where notifications go (an Alertmanager-format configuration file)
//! and which external Alertmanagers receive every alert.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Notifications and forwarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertingConfig {
    /// An Alertmanager configuration file (`route`, `receivers`, `inhibit_rules`, `global`)
    /// that KubePulse's own notification pipeline runs. Without one, alerts are grouped and
    /// listed (`/api/v2/alerts/groups`) but nobody is notified. Reloaded with the rules.
    pub config_file: Option<PathBuf>,
    /// Alertmanager base URLs (`http://alertmanager:9093`) that receive every alert through
    /// their v2 API, as Prometheus sends them.
    pub alertmanagers: Vec<String>,
    /// Attempts per notification before it is given up (with exponential back-off from 1 s).
    pub attempts: u32,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        Self {
            config_file: None,
            alertmanagers: Vec::new(),
            attempts: 5,
        }
    }
}

impl AlertingConfig {
    /// Checks the values; on error, the key at fault and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for u in &self.alertmanagers {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(("alertmanagers", format!("{u:?} is not an http(s) URL")));
            }
        }
        if !(1..=20).contains(&self.attempts) {
            return Err(("attempts", "must be between 1 and 20".into()));
        }
        if let Some(f) = &self.config_file
            && !f.is_file()
        {
            return Err((
                "config_file",
                format!("{} is not a readable file", f.display()),
            ));
        }
        Ok(())
    }
}
