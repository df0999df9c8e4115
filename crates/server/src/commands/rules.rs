//! `kubepulse test rules` and `kubepulse check rules`: rule files checked and unit-tested as
//! promtool does it, with the same output layout.

use std::io::Write;
use std::process::ExitCode;

use kubepulse_alert::{rulefile, unittest};

use crate::cli::{CheckCommand, TestCommand};

/// Runs rule unit tests.
pub fn test(cmd: TestCommand) -> anyhow::Result<ExitCode> {
    let TestCommand::Rules { files } = cmd;
    let ok = unittest::run_files(
        &files,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Validates rule files.
pub fn check(cmd: CheckCommand) -> anyhow::Result<ExitCode> {
    let CheckCommand::Rules { files } = cmd;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let mut ok = true;
    for f in &files {
        writeln!(out, "Checking {}", f.display())?;
        match rulefile::load(f) {
            Ok(groups) => {
                let n: usize = groups.iter().map(|g| g.rules.len()).sum();
                writeln!(out, "  SUCCESS: {n} rules found")?;
            }
            Err(e) => {
                ok = false;
                writeln!(err, "  FAILED:")?;
                writeln!(err, "{e}")?;
            }
        }
        writeln!(out)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
