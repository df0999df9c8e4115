//! Structured logs through `tracing`, as text or JSON, filtered by level.

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. Logs go to stderr so that command output on stdout stays
/// clean.
pub fn init(level: Option<&str>, format: Option<LogFormat>) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(level.unwrap_or("info"))
        .with_context(|| format!("invalid log level {:?}", level.unwrap_or("")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format.unwrap_or(LogFormat::Text) {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    }
    .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
