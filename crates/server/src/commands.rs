//! Dispatch of subcommands.

mod config;
pub mod evaluate;
mod promql_test;
mod rules;
mod serve;
mod simulate;
mod store;
pub mod train;
mod version;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Runs the command with the loaded configuration.
pub fn run(cli: Cli, cfg: Config) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(cfg, args),
        Command::Simulate(args) => simulate::run(&cfg, args),
        Command::Config(cmd) => config::run(&cfg, cmd),
        Command::Store(cmd) => store::run(&cfg, cmd),
        Command::PromqlTest(args) => promql_test::run(&args),
        Command::Train(args) => train::run(&cfg, &args),
        Command::Evaluate(cmd) => evaluate::run(&cfg, cmd),
        Command::Test(cmd) => rules::test(cmd),
        Command::Check(cmd) => rules::check(cmd),
        Command::Version => version::run(),
    }
}

/// Writes `text` to stdout.
pub fn out(text: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    Ok(ExitCode::SUCCESS)
}
