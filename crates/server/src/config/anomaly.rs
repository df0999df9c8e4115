//! The `anomaly` section: which series the live anomaly detector watches, and how often.

use kubepulse_model::DurationMs;
use serde::{Deserialize, Serialize};

/// Live anomaly detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Watch series while serving.
    pub enabled: bool,
    /// How often every watched series is evaluated and scored.
    pub interval: DurationMs,
    /// Watch the built-in signals: every series the failure features use, and every service's
    /// request rate, error ratio and latency.
    pub builtin: bool,
    /// Most series watched at once (each costs about 5 KB); series beyond are skipped and
    /// counted.
    pub max_series: usize,
    /// More series to watch, by PromQL expression.
    pub watch: Vec<WatchConfig>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: DurationMs(15_000),
            builtin: true,
            max_series: 50_000,
            watch: Vec::new(),
        }
    }
}

/// One more thing to watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// The name its scores carry as the `signal` label (a metric-name-like word).
    pub name: String,
    /// A PromQL expression; every series of its result is watched.
    pub expr: String,
    /// The expression yields counters: the detector scores their rate and reads a drop as a
    /// reset. Defaults to true for a bare selector of a metric named `*_total`.
    #[serde(default)]
    pub counter: Option<bool>,
}

impl WatchConfig {
    /// Whether the series are counters.
    pub fn is_counter(&self) -> bool {
        self.counter.unwrap_or_else(|| {
            let name = self.expr.split('{').next().unwrap_or("").trim();
            name.ends_with("_total")
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        })
    }
}

impl AnomalyConfig {
    /// Checks the section; errors name the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.interval.ms() < 1000 {
            return Err(("interval".into(), "must be at least 1s".into()));
        }
        if self.max_series == 0 {
            return Err(("max_series".into(), "must be at least 1".into()));
        }
        let mut names = std::collections::HashSet::new();
        for (i, w) in self.watch.iter().enumerate() {
            let valid_name = w.name.chars().enumerate().all(|(j, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (j > 0 && c.is_ascii_digit())
            });
            if w.name.is_empty() || !valid_name {
                return Err((
                    format!("watch[{i}].name"),
                    format!(
                        "{:?} is not a valid name (letters, digits, '_' and ':')",
                        w.name
                    ),
                ));
            }
            if !names.insert(w.name.as_str()) {
                return Err((
                    format!("watch[{i}].name"),
                    format!("{:?} is watched twice", w.name),
                ));
            }
            if let Err(e) = kubepulse_query::parse::parse(&w.expr) {
                return Err((format!("watch[{i}].expr"), e.render(&w.expr)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(name: &str, expr: &str) -> WatchConfig {
        WatchConfig {
            name: name.into(),
            expr: expr.into(),
            counter: None,
        }
    }

    #[test]
    fn counters_are_recognised_by_name_unless_told() {
        assert!(watch("a", r#"http_requests_total{job="x"}"#).is_counter());
        assert!(!watch("a", "rate(http_requests_total[1m])").is_counter());
        assert!(!watch("a", "node_load1").is_counter());
        let mut w = watch("a", "node_load1");
        w.counter = Some(true);
        assert!(w.is_counter());
    }

    #[test]
    fn bad_watches_are_named() {
        let mut c = AnomalyConfig::default();
        c.watch.push(watch("ok", "up"));
        assert!(c.validate().is_ok());
        c.watch.push(watch("ok", "up"));
        assert_eq!(c.validate().map_err(|e| e.0), Err("watch[1].name".into()));
        c.watch[1] = watch("9lives", "up");
        assert_eq!(c.validate().map_err(|e| e.0), Err("watch[1].name".into()));
        c.watch[1] = watch("broken", "sum(");
        assert_eq!(c.validate().map_err(|e| e.0), Err("watch[1].expr".into()));
        c.watch.pop();
        c.interval = DurationMs(10);
        assert_eq!(c.validate().map_err(|e| e.0), Err("interval".into()));
    }
}
