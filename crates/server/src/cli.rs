//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kubepulse_intel::forest::ForestParams;

/// KubePulse keeps Kubernetes clusters healthy: it collects metrics, logs, events and traces,
/// stores them, answers PromQL, predicts failures minutes ahead, and alerts only on what matters.
#[derive(Debug, Parser)]
#[command(
    name = "kubepulse",
    version,
    after_help = "Examples:\n  kubepulse serve                                  run with the built-in simulated cluster\n  kubepulse simulate --nodes 50 --pods 1000 --duration 24h --out data/day1\n  kubepulse config check kubepulse.yaml            validate a configuration file\n  kubepulse version"
)]
pub struct Cli {
    /// Configuration file (YAML). Every key is optional; see `kubepulse config example`.
    #[arg(long, short = 'c', global = true, env = "KUBEPULSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log level or filter, e.g. `info`, `debug`, `kubepulse=debug,warn` (overrides the config).
    #[arg(long, global = true, env = "KUBEPULSE_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Log format (overrides the config).
    #[arg(long, global = true, value_enum, env = "KUBEPULSE_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run KubePulse: ingestion, storage and the HTTP API on one port. With no cluster and no
    /// scrape jobs configured, it runs the built-in simulated cluster.
    #[command(
        after_help = "Examples:\n  kubepulse serve                                   the simulated cluster on 127.0.0.1:9800\n  kubepulse serve --listen 0.0.0.0:9800 --data-dir /var/lib/kubepulse\n  kubepulse --config kubepulse.yaml serve           scrape the jobs of the configuration\n  kubepulse serve --simulate                        the simulated cluster even when other sources are configured\n\nEndpoints: POST /api/v1/write (remote_write), POST /v1/metrics (OTLP/HTTP), OTLP/gRPC on the same\nport, the Prometheus HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels, …),\nGET /metrics, /-/healthy, /-/ready."
    )]
    Serve(ServeArgs),
    /// Write a labelled dataset from the simulated cluster.
    #[command(
        after_help = "Examples:\n  kubepulse simulate --out data/quick                       6 nodes, 120 pods, 1 hour\n  kubepulse simulate --seed 7 --nodes 50 --pods 1000 --duration 24h --out data/day\n  kubepulse simulate --scenario examples/scenarios/memory-leak.yaml --duration 2h --out data/leak\n  kubepulse simulate --chaos-per-hour 0 --no-lookalikes --duration 30m --out data/quiet"
    )]
    Simulate(SimulateArgs),
    /// Train the failure model on datasets from `kubepulse simulate`, or on a cluster simulated
    /// for the purpose.
    #[command(
        after_help = "Examples:\n  kubepulse train --simulate --out model.json                  2 hours of a simulated cluster\n  kubepulse train --simulate --seed 4 --duration 6h --chaos-per-hour 6 --out model.json\n  kubepulse train --data data/day1 --data data/day2 --out model.json"
    )]
    Train(TrainArgs),
    /// Evaluate models on held-out data.
    #[command(subcommand)]
    Evaluate(EvaluateCommand),
    /// Inspect a data directory.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Run Prometheus' PromQL test scripts (`*.test`) against KubePulse's query engine.
    #[command(
        after_help = "Example:\n  kubepulse promql-test ../shared/data/promqltest\n\nPrints a line per file, each failing eval with its line, and `N passed, M failed, K skipped`\n(skipped: evals over native histograms). Exits with 1 when an eval fails."
    )]
    PromqlTest(PromqlTestArgs),
    /// Check or print configuration files.
    #[command(
        subcommand,
        after_help = "Examples:\n  kubepulse config example > kubepulse.yaml       start from the documented defaults\n  kubepulse config check kubepulse.yaml           validate; errors name the key and line\n  kubepulse --config kubepulse.yaml config show   print the effective configuration"
    )]
    Config(ConfigCommand),
    /// Run rule unit tests in promtool's format.
    #[command(subcommand)]
    Test(TestCommand),
    /// Validate rule files.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Print version and build information.
    Version,
}

/// `kubepulse test …`.
#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run the unit tests of rule files, written as for `promtool test rules`.
    #[command(
        after_help = "Example:\n  kubepulse test rules tests/alerts_test.yml\n\nPrints `Unit Testing:  FILE` and `SUCCESS` or `FAILED:` with each failure, as promtool does;\nexits with 1 when a test fails."
    )]
    Rules {
        /// Test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `kubepulse check …`.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Validate Prometheus rule files as KubePulse loads them; errors name the file, line,
    /// group and rule.
    #[command(after_help = "Example:\n  kubepulse check rules rules/*.yml")]
    Rules {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Where training or evaluation data comes from.
#[derive(Debug, Args)]
pub struct EpisodeArgs {
    /// A dataset directory written by `kubepulse simulate` (repeatable).
    #[arg(long = "data", conflicts_with = "simulate")]
    pub data: Vec<PathBuf>,
    /// Simulate clusters instead: one per seed and size.
    #[arg(long)]
    pub simulate: bool,
    /// Simulator seeds, comma-separated (one simulated cluster per seed and size).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub seed: Vec<u64>,
    /// Simulated nodes, comma-separated: one size per value, paired with `--pods`.
    #[arg(long, value_delimiter = ',', default_value = "6")]
    pub nodes: Vec<u32>,
    /// Simulated pods, comma-separated, paired with `--nodes`.
    #[arg(long, value_delimiter = ',', default_value = "120")]
    pub pods: Vec<u32>,
    /// Simulated time of each cluster.
    #[arg(long, default_value = "2h")]
    pub duration: String,
    /// Random faults per simulated hour.
    #[arg(long, default_value_t = 4.0)]
    pub chaos_per_hour: f64,
    /// Kinds of random faults, comma-separated (default: every kind).
    #[arg(long, value_delimiter = ',')]
    pub chaos_kinds: Vec<String>,
    /// Routine rollouts (a new version that works) per Deployment per simulated day (default:
    /// the configuration's, 1).
    #[arg(long)]
    pub rollouts_per_day: Option<f64>,
}

/// `kubepulse train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The data.
    #[command(flatten)]
    pub episodes: EpisodeArgs,
    /// Where to write the model.
    #[arg(long, default_value = "model.json")]
    pub out: PathBuf,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Trees per forest.
    #[arg(long, default_value_t = ForestParams::default().trees)]
    pub trees: usize,
    /// Deepest level of a tree.
    #[arg(long, default_value_t = ForestParams::default().max_depth)]
    pub max_depth: usize,
    /// Fewest training windows in a leaf.
    #[arg(long, default_value_t = ForestParams::default().min_leaf)]
    pub min_leaf: usize,
    /// False alarms per 1,000 object-hours the alarm thresholds are chosen to stay within (on
    /// out-of-bag scores of the training data).
    #[arg(long, default_value_t = 1.0)]
    pub false_alarm_budget: f64,
    /// What the model predicts: a failure of the object within this long after a window.
    #[arg(long, default_value = "5m")]
    pub horizon: String,
}

/// `kubepulse evaluate …`.
// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum EvaluateCommand {
    /// Run the streaming anomaly detector over the Numenta Anomaly Benchmark and score it
    /// (NAB v1.1: standard, low-false-positive and low-false-negative profiles, a table per
    /// file).
    #[command(
        after_help = "Examples:\n  kubepulse evaluate nab ../shared/data/nab\n  kubepulse evaluate nab ../shared/data/nab --out nab-results"
    )]
    Nab {
        /// The benchmark: `data/`, `labels/combined_windows.json`.
        dir: PathBuf,
        /// Also write the detector's per-point scores in NAB's results layout here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Parse the LogHub benchmark's logs into templates and score the parse against the
    /// original and the corrected labels: grouping and parsing accuracy, group- and
    /// template-level F1, per system and on average.
    #[command(
        after_help = "Examples:\n  kubepulse evaluate loghub ../shared/data/loghub\n  kubepulse evaluate loghub ../shared/data/loghub --out loghub-results"
    )]
    Loghub {
        /// The benchmark: `formats.json` and one folder per system with `<System>_2k.log` and
        /// its `_structured.csv` and `_structured_corrected.csv` labels.
        dir: PathBuf,
        /// Also write each system's parse (`<System>_2k.log_parsed.csv`: line, template id,
        /// template) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Score a failure model on data it was not trained on: per-type precision, recall and F1
    /// of windows, and failures announced 1, 5 and 10 minutes ahead, lead time and false alarms.
    #[command(
        after_help = "Examples:\n  kubepulse evaluate prediction --model model.json --simulate --seed 2\n  kubepulse evaluate prediction --model model.json --data data/held-out --out report.md"
    )]
    Prediction {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// The data.
        #[command(flatten)]
        episodes: EpisodeArgs,
        /// Also write the report (markdown) here, and its plots (SVG) beside it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write every scored window of the objects that fail or that the model suspects (a
        /// probability of 0.2 or more), with features, label and scores, to `<dump>-pods.csv`
        /// and `<dump>-nodes.csv`.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Score against this horizon (labels, announcements and false alarms) instead of the
        /// one the model was trained for.
        #[arg(long)]
        horizon: Option<String>,
    },
}

/// `kubepulse promql-test`.
#[derive(Debug, Args)]
pub struct PromqlTestArgs {
    /// A directory of `*.test` files, or one file.
    pub path: PathBuf,
}

/// `kubepulse serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `server.listen`).
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory (overrides `server.data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run the built-in simulated cluster even when other sources are configured.
    #[arg(long)]
    pub simulate: bool,
    /// Watch the cluster this pod runs in, with its service account.
    #[arg(long, conflicts_with = "kubeconfig")]
    pub in_cluster: bool,
    /// Watch the cluster of this kubeconfig file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// `kubepulse simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Seed of every random choice (same seed and scenario: byte-identical dataset).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker nodes.
    #[arg(long)]
    pub nodes: Option<u32>,
    /// Pods to aim for, DaemonSet pods included.
    #[arg(long)]
    pub pods: Option<u32>,
    /// Simulated time to cover, e.g. `30m`, `24h`, `7d`.
    #[arg(long, default_value = "1h")]
    pub duration: String,
    /// Step between samples (the scrape interval), e.g. `15s`.
    #[arg(long)]
    pub step: Option<String>,
    /// Start of simulated time (RFC 3339).
    #[arg(long)]
    pub start: Option<String>,
    /// Scenario file listing faults to inject.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Random chaos: mean faults per hour (0: none).
    #[arg(long)]
    pub chaos_per_hour: Option<f64>,
    /// Turn off harmless look-alikes.
    #[arg(long)]
    pub no_lookalikes: bool,
    /// Kinds of random faults, comma-separated (default: the configuration's, every kind).
    #[arg(long, value_delimiter = ',')]
    pub chaos_kinds: Vec<String>,
    /// Routine rollouts (a new version that works) per Deployment per day.
    #[arg(long)]
    pub rollouts_per_day: Option<f64>,
    /// Output directory (must be empty or absent).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `kubepulse store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Series, days, chunks by encoding, samples and bytes per sample of a data directory (the
    /// server must not be running on it).
    #[command(after_help = "Example:\n  kubepulse store inspect --data-dir data")]
    Inspect {
        /// The data directory.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
}

/// `kubepulse config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse and validate a configuration file; errors name the key at fault.
    #[command(after_help = "Example:\n  kubepulse config check /etc/kubepulse/kubepulse.yaml")]
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the effective configuration with every default filled in.
    Show,
    /// Print the documented example configuration.
    Example,
    /// Print the built-in rule pack with the configured prediction threshold.
    Rules,
}
