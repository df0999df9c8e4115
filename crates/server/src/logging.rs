//! Structured logs through `tracing`, as text or JSON, filtered by level (the storage
//! engine's crates at `warn` unless named in the filter).

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. Logs go to stderr so that command output on stdout stays
/// clean.
pub fn init(level: Option<&str>, format: Option<LogFormat>) -> anyhow::Result<()> {
    let mut spec = level.unwrap_or("info").to_string();
    // The storage engine's own progress messages are noise at `info`; its warnings are not.
    for engine in ["fjall", "lsm_tree"] {
        if !spec.contains(engine) {
            spec.push_str(&format!(",{engine}=warn"));
        }
    }
    let filter = EnvFilter::try_new(&spec)
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
