//! The `rules` section: which Prometheus rule files run, how often, and the built-in pack.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kubepulse_model::DurationMs;
use serde::{Deserialize, Serialize};

/// Recording and alerting rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Evaluate rules while serving.
    pub enabled: bool,
    /// Prometheus rule files; `*` and `?` in a file name match several. Reloaded on SIGHUP and
    /// `POST /-/reload`; a broken file is refused and the rules already running go on.
    pub files: Vec<PathBuf>,
    /// How often groups without their own `interval` are evaluated.
    pub evaluation_interval: DurationMs,
    /// Run the built-in rule pack for Kubernetes (groups named `kubepulse.*`); a file group of
    /// the same name replaces a built-in one.
    pub builtin: bool,
    /// Failure probability from which the built-in predictive alert fires; unset, it fires
    /// while the model alarms (each failure type at its calibrated threshold).
    pub prediction_threshold: Option<f64>,
    /// Least time between two notifications of the same firing alert.
    pub resend_delay: DurationMs,
    /// Labels templates see as `$externalLabels`.
    pub external_labels: BTreeMap<String, String>,
    /// The URL users reach KubePulse at (`$externalURL`, links in notifications).
    pub external_url: String,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            files: Vec::new(),
            evaluation_interval: DurationMs(15_000),
            builtin: true,
            prediction_threshold: None,
            resend_delay: DurationMs(60_000),
            external_labels: BTreeMap::new(),
            external_url: String::new(),
        }
    }
}

impl RulesConfig {
    /// Checks the values; on error, the key at fault and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.evaluation_interval.ms() < 1000 {
            return Err(("evaluation_interval", "must be at least 1s".into()));
        }
        if self
            .prediction_threshold
            .is_some_and(|t| !(t > 0.0 && t <= 1.0))
        {
            return Err(("prediction_threshold", "must be in (0, 1]".into()));
        }
        for k in self.external_labels.keys() {
            if !kubepulse_model::labels::is_valid_label_name(k) {
                return Err(("external_labels", format!("invalid label name {k:?}")));
            }
        }
        Ok(())
    }
}
