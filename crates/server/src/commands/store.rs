//! `kubepulse store inspect`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use kubepulse_model::SystemClock;
use kubepulse_store::Db;
use kubepulse_store::chunk::PCO;

use crate::cli::StoreCommand;
use crate::config::Config;

/// Runs a `store` subcommand.
pub fn run(cfg: &Config, cmd: StoreCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        StoreCommand::Inspect { data_dir } => {
            let (db, _) = Db::open(&data_dir, cfg.store.clone(), Arc::new(SystemClock))?;
            let stats = db.chunk_stats()?;
            let mut out = format!(
                "series: {}\n\nday         encoding  chunks      samples        bytes  bytes/sample\n",
                db.series_count()
            );
            let (mut samples, mut bytes) = (0u64, 0u64);
            for s in &stats {
                let day = kubepulse_model::format_rfc3339(s.day * kubepulse_store::DAY_MS);
                let enc = if s.encoding == PCO { "pco" } else { "gorilla" };
                let _ = writeln!(
                    out,
                    "{}  {enc:<8} {:>7} {:>12} {:>12}  {:>12.3}",
                    &day[..10],
                    s.chunks,
                    s.samples,
                    s.bytes,
                    s.bytes as f64 / s.samples.max(1) as f64
                );
                samples += s.samples;
                bytes += s.bytes;
            }
            let _ = writeln!(
                out,
                "\nchunks hold {samples} samples in {bytes} bytes: {:.3} bytes per sample",
                bytes as f64 / samples.max(1) as f64
            );
            super::out(&out)
        }
    }
}
