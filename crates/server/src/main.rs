//! The `kubepulse` binary: parses the command line, loads the configuration, sets up logging and
//! runs the chosen command. Nothing imports this crate; it only wires the others together.

mod anomalies;
mod cli;
mod cluster;
mod commands;
mod config;
mod logging;
mod logmine;
mod notifications;
mod periodic;
mod predictor;
mod rules;
mod state_file;
mod training;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: queries and ingestion allocate and free many small vectors; glibc's allocator
/// spends a fifth of a large query's time consolidating them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let file = match &cli.config {
        Some(path) => match config::Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln_err(&format!("error: {e}"));
                return ExitCode::from(2);
            }
        },
        None => config::Config::default(),
    };
    let level = cli
        .log_level
        .clone()
        .unwrap_or_else(|| file.log.level.clone());
    if let Err(e) = logging::init(Some(&level), cli.log_format.or(Some(file.log.format))) {
        let _ = writeln_err(&format!("error: {e:#}"));
        return ExitCode::from(2);
    }
    match commands::run(cli, file) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "command failed");
            let _ = writeln_err(&format!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn writeln_err(msg: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{msg}")
}
