//! The configuration file: typed, every key optional with a default, validated after parsing
//! with errors that name the key (and the line, for syntax and type errors).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kubepulse_ingest::scrape::ScrapeSettings;
use kubepulse_model::DurationMs;
use kubepulse_model::yaml::describe_error;
use kubepulse_sim::{SimConfig, SimError};
use kubepulse_store::{StoreConfig, StoreError};
use serde::{Deserialize, Serialize};

use crate::cli::LogFormat;

pub mod alerting;
pub mod anomaly;
pub mod kubernetes;
pub mod rules;

pub use alerting::AlertingConfig;
pub use anomaly::AnomalyConfig;
pub use kubernetes::KubernetesConfig;
pub use rules::RulesConfig;

/// The documented example configuration, also printed by `kubepulse config example`.
pub const EXAMPLE: &str = include_str!("../../../examples/kubepulse.yaml");

/// A configuration error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Syntax or type error at a place in the file.
    #[error("{file}:{line}:{column}: `{key}`: {message}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// Key path at fault.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: `{key}`: {message}")]
    Invalid {
        /// Key path at fault.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Logging.
    pub log: LogConfig,
    /// The HTTP server and where data is kept.
    pub server: ServerConfig,
    /// The embedded store.
    pub store: StoreConfig,
    /// Limits of the ingestion endpoints.
    pub ingest: IngestConfig,
    /// PromQL evaluation.
    pub query: QueryConfig,
    /// Prometheus-style scraping.
    pub scrape: ScrapeSettings,
    /// A real cluster watched through its API server.
    pub kubernetes: KubernetesConfig,
    /// The built-in simulated cluster.
    pub simulator: SimulatorConfig,
    /// Live failure prediction.
    pub prediction: PredictionConfig,
    /// Live anomaly detection.
    pub anomaly: AnomalyConfig,
    /// Recording and alerting rules.
    pub rules: RulesConfig,
    /// Notifications and forwarding to Alertmanagers.
    pub alerting: AlertingConfig,
}

/// Live failure prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictionConfig {
    /// Score every pod and node while serving.
    pub enabled: bool,
    /// A model file from `kubepulse train`; without one, a default model is trained from the
    /// simulator at start-up (and kept in the data directory as `model.json`).
    pub model: Option<PathBuf>,
    /// How often every pod and node is scored.
    pub interval: DurationMs,
    /// Most objects `GET /api/v1/simulate/{count}` simulates at once.
    pub max_simulate: usize,
}

impl Default for PredictionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            model: None,
            interval: DurationMs(15_000),
            max_simulate: 20,
        }
    }
}

/// Limits of the ingestion endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest request body accepted (remote_write, OTLP), bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Largest decompressed message accepted, bytes.
    pub max_message_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let l = kubepulse_ingest::remote_write::Limits::default();
        Self {
            max_body_bytes: l.max_body,
            max_message_bytes: l.max_message,
        }
    }
}

/// PromQL evaluation settings (Prometheus' `--query.*` flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryConfig {
    /// How far back an instant selector looks for a sample.
    pub lookback_delta: DurationMs,
    /// Longest a query may run (a request's `timeout` can only shorten it).
    pub timeout: DurationMs,
    /// Most samples one query may hold in memory.
    pub max_samples: usize,
    /// Step of subqueries written without one (`x[1h:]`).
    pub default_subquery_step: DurationMs,
}

impl Default for QueryConfig {
    fn default() -> Self {
        let d = kubepulse_query::EngineOptions::default();
        Self {
            lookback_delta: DurationMs(d.lookback),
            timeout: DurationMs(d.timeout.as_millis() as i64),
            max_samples: d.max_samples,
            default_subquery_step: DurationMs(d.subquery_step),
        }
    }
}

impl QueryConfig {
    /// The engine options these settings give.
    pub fn engine_options(&self) -> kubepulse_query::EngineOptions {
        kubepulse_query::EngineOptions {
            lookback: self.lookback_delta.ms(),
            timeout: std::time::Duration::from_millis(self.timeout.ms().max(0) as u64),
            max_samples: self.max_samples,
            subquery_step: self.default_subquery_step.ms(),
            cancel: kubepulse_query::Cancel::default(),
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Level or filter: `error`, `warn`, `info`, `debug`, `trace`, or directives such as
    /// `kubepulse=debug,warn`.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// HTTP server and storage settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on for the HTTP API, the dashboard and ingestion.
    pub listen: String,
    /// Directory for the embedded store.
    pub data_dir: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9800".into(),
            data_dir: PathBuf::from("data"),
        }
    }
}

/// When the simulated cluster runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimulatorMode {
    /// Run it when no real cluster and no scrape targets are configured.
    #[default]
    Auto,
    /// Always run it.
    On,
    /// Never run it.
    Off,
}

/// The built-in simulated cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// `auto`, `on` or `off`.
    pub mode: SimulatorMode,
    /// Scenario file of faults to inject while serving.
    pub scenario: Option<PathBuf>,
    /// The simulated cluster's shape and behaviour.
    pub cluster: SimConfig,
}

impl Config {
    /// Reads, parses and validates `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&file, &src)
    }

    /// Parses and validates YAML text; `file` names the source in errors.
    pub fn parse(file: &str, src: &str) -> Result<Self, ConfigError> {
        let cfg: Config = serde_saphyr::from_str(src).map_err(|e| parse_error(file, src, &e))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every value; the error names the key at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| invalid("log.level", e.to_string()))?;
        self.server.listen.parse::<SocketAddr>().map_err(|e| {
            invalid(
                "server.listen",
                format!("{:?} is not host:port ({e})", self.server.listen),
            )
        })?;
        if self.server.data_dir.as_os_str().is_empty() {
            return Err(invalid("server.data_dir", "must not be empty"));
        }
        if let Some(s) = &self.simulator.scenario
            && !s.is_file()
        {
            return Err(invalid(
                "simulator.scenario",
                format!("{} is not a readable file", s.display()),
            ));
        }
        self.store.validate().map_err(|e| match e {
            StoreError::Config { key, message } => invalid(&format!("store.{key}"), message),
            other => invalid("store", other.to_string()),
        })?;
        if !(1024..=1 << 30).contains(&self.ingest.max_body_bytes) {
            return Err(invalid(
                "ingest.max_body_bytes",
                "must be between 1 KiB and 1 GiB",
            ));
        }
        if self.ingest.max_message_bytes < self.ingest.max_body_bytes
            || self.ingest.max_message_bytes > 1 << 31
        {
            return Err(invalid(
                "ingest.max_message_bytes",
                "must be at least max_body_bytes and at most 2 GiB",
            ));
        }
        for (key, d) in [
            ("query.lookback_delta", self.query.lookback_delta),
            ("query.timeout", self.query.timeout),
            (
                "query.default_subquery_step",
                self.query.default_subquery_step,
            ),
        ] {
            if d.ms() <= 0 {
                return Err(invalid(key, format!("{d} must be greater than 0s")));
            }
        }
        if self.query.max_samples == 0 {
            return Err(invalid("query.max_samples", "must be at least 1"));
        }
        if self.prediction.interval.ms() < 1000 {
            return Err(invalid("prediction.interval", "must be at least 1s"));
        }
        if !(1..=1000).contains(&self.prediction.max_simulate) {
            return Err(invalid(
                "prediction.max_simulate",
                "must be between 1 and 1000",
            ));
        }
        if let Some(m) = &self.prediction.model
            && !m.is_file()
        {
            return Err(invalid(
                "prediction.model",
                format!("{} is not a readable file", m.display()),
            ));
        }
        self.kubernetes
            .validate()
            .map_err(|(k, m)| invalid(&format!("kubernetes.{k}"), m))?;
        self.anomaly
            .validate()
            .map_err(|(k, m)| invalid(&format!("anomaly.{k}"), m))?;
        self.rules
            .validate()
            .map_err(|(k, m)| invalid(&format!("rules.{k}"), m))?;
        self.alerting
            .validate()
            .map_err(|(k, m)| invalid(&format!("alerting.{k}"), m))?;
        self.scrape
            .validate()
            .map_err(|(k, m)| invalid(&format!("scrape.{k}"), m))?;
        self.simulator.cluster.validate().map_err(|e| match e {
            SimError::Config { key, message } => {
                invalid(&format!("simulator.cluster.{key}"), message)
            }
            other => invalid("simulator.cluster", other.to_string()),
        })
    }
}

fn parse_error(file: &str, src: &str, e: &serde_saphyr::Error) -> ConfigError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let (key, message) = describe_error(src, line as usize, &e.to_string());
    ConfigError::Parse {
        file: file.into(),
        line,
        column,
        key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_and_documents_every_key() {
        let cfg = Config::parse("examples/kubepulse.yaml", EXAMPLE).unwrap();
        assert_eq!(cfg, Config::default(), "the example shows the defaults");
        let json = serde_json::to_value(Config::default()).unwrap();
        let mut keys = Vec::new();
        collect_keys(&json, &mut keys);
        for k in keys {
            let needle = format!("{k}:");
            assert!(
                EXAMPLE.contains(&needle),
                "example configuration does not document `{k}`"
            );
        }
    }

    fn collect_keys(v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, child) in m {
                out.push(k.clone());
                collect_keys(child, out);
            }
        }
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("server:\n  listen: nowhere\n", "server.listen"),
            ("log:\n  level: \"=[\"\n", "log.level"),
            (
                "simulator:\n  cluster:\n    nodes: 0\n",
                "simulator.cluster.nodes",
            ),
            (
                "simulator:\n  cluster:\n    step: 1500ms\n",
                "simulator.cluster.step",
            ),
            (
                "simulator:\n  scenario: /does/not/exist.yaml\n",
                "simulator.scenario",
            ),
        ];
        for (src, key) in cases {
            match Config::parse("t.yaml", src) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{src}"),
                other => panic!("{src}: {other:?}"),
            }
        }
    }

    #[test]
    fn parse_errors_carry_line_and_key() {
        let src = "server:\n  listen: 127.0.0.1:1\n  data_dri: x\n";
        match Config::parse("t.yaml", src) {
            Err(ConfigError::Parse {
                line, key, message, ..
            }) => {
                assert_eq!(line, 3);
                assert_eq!(key, "server.data_dri");
                assert!(message.contains("unknown field"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let src = "simulator:\n  cluster:\n    nodes: many\n";
        match Config::parse("t.yaml", src) {
            Err(ConfigError::Parse { line, key, .. }) => {
                assert_eq!(line, 3);
                assert_eq!(key, "simulator.cluster.nodes");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(Config::parse("t.yaml", "").unwrap(), Config::default());
    }
}
