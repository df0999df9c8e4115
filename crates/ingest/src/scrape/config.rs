//! Scrape configuration, in the shape of Prometheus' `scrape_configs`.

use std::collections::BTreeMap;

use kubepulse_model::DurationMs;
use serde::{Deserialize, Serialize};

use super::relabel::RelabelConfig;

/// Targets listed in the configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels added to every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// Targets read from files (JSON or YAML lists of `{targets, labels}` groups), re-read when they
/// change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSdConfig {
    /// Files; the last path component may contain `*`.
    pub files: Vec<String>,
    /// How often the files are checked for changes.
    pub refresh_interval: DurationMs,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            refresh_interval: DurationMs::mins(5),
        }
    }
}

/// One scrape job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The `job` label of every target.
    pub job_name: String,
    /// How often targets are scraped (default: the global interval).
    pub scrape_interval: Option<DurationMs>,
    /// How long a scrape may take (default: the global timeout, at most the interval).
    pub scrape_timeout: Option<DurationMs>,
    /// HTTP path of the metrics.
    pub metrics_path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Keep the exposed labels when they clash with target labels (instead of renaming them
    /// `exported_<name>`).
    pub honor_labels: bool,
    /// Use timestamps the target exposes (instead of the scrape time).
    pub honor_timestamps: bool,
    /// Largest response body accepted, bytes (0: no limit).
    pub body_size_limit: usize,
    /// Most samples accepted per scrape; more fails the scrape (0: no limit).
    pub sample_limit: usize,
    /// Targets listed here.
    pub static_configs: Vec<StaticConfig>,
    /// Targets read from files.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Relabeling of targets before scraping.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of scraped series before storing.
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        Self {
            job_name: String::new(),
            scrape_interval: None,
            scrape_timeout: None,
            metrics_path: "/metrics".into(),
            scheme: "http".into(),
            honor_labels: false,
            honor_timestamps: true,
            body_size_limit: 0,
            sample_limit: 0,
            static_configs: Vec::new(),
            file_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
        }
    }
}

/// Defaults for every job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeGlobal {
    /// Default scrape interval.
    pub scrape_interval: DurationMs,
    /// Default scrape timeout.
    pub scrape_timeout: DurationMs,
}

impl Default for ScrapeGlobal {
    fn default() -> Self {
        Self {
            scrape_interval: DurationMs::secs(15),
            scrape_timeout: DurationMs::secs(10),
        }
    }
}

impl ScrapeConfig {
    /// Interval and timeout in effect.
    pub fn timing(&self, g: &ScrapeGlobal) -> (i64, i64) {
        let interval = self.scrape_interval.unwrap_or(g.scrape_interval).ms();
        let timeout = self
            .scrape_timeout
            .unwrap_or(g.scrape_timeout)
            .ms()
            .min(interval);
        (interval, timeout)
    }

    /// Checks the job; errors name the field.
    pub fn validate(&self, g: &ScrapeGlobal) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.job_name.is_empty() {
            return bad("job_name", "must not be empty".into());
        }
        if !matches!(self.scheme.as_str(), "http" | "https") {
            return bad("scheme", format!("{:?} is not http or https", self.scheme));
        }
        if !self.metrics_path.starts_with('/') {
            return bad(
                "metrics_path",
                format!("{:?} must start with /", self.metrics_path),
            );
        }
        let (interval, timeout) = self.timing(g);
        if interval < 1000 {
            return bad("scrape_interval", "must be at least 1s".into());
        }
        if timeout <= 0 {
            return bad("scrape_timeout", "must be positive".into());
        }
        for (i, r) in self.relabel_configs.iter().enumerate() {
            super::relabel::Relabel::new(r.clone())
                .map_err(|m| (format!("relabel_configs[{i}]"), m))?;
        }
        for (i, r) in self.metric_relabel_configs.iter().enumerate() {
            super::relabel::Relabel::new(r.clone())
                .map_err(|m| (format!("metric_relabel_configs[{i}]"), m))?;
        }
        for (i, s) in self.static_configs.iter().enumerate() {
            if let Some(t) = s.targets.iter().find(|t| t.is_empty() || t.contains('/')) {
                return bad(
                    &format!("static_configs[{i}].targets"),
                    format!("{t:?} is not host:port"),
                );
            }
        }
        Ok(())
    }
}
