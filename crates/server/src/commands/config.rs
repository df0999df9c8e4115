//! `kubepulse config check|show|example`.

use std::process::ExitCode;

use crate::cli::ConfigCommand;
use crate::config::{Config, EXAMPLE};

/// Runs a `config` subcommand.
pub fn run(cfg: &Config, cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Check { file } => {
            Config::load(&file)?;
            super::out(&format!("{}: ok", file.display()))
        }
        ConfigCommand::Show => super::out(&serde_saphyr::to_string(cfg)?),
        ConfigCommand::Example => super::out(EXAMPLE),
        ConfigCommand::Rules => super::out(&kubepulse_alert::builtin::text(
            cfg.rules.prediction_threshold,
        )),
    }
}
