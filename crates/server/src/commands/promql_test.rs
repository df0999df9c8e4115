//! `kubepulse promql-test`: Prometheus' PromQL test scripts against the query engine.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use kubepulse_query::Engine;
use kubepulse_query::promqltest::run as run_script;

use crate::cli::PromqlTestArgs;

/// Runs every script and prints what failed.
pub fn run(args: &PromqlTestArgs) -> anyhow::Result<ExitCode> {
    let files = if args.path.is_dir() {
        let mut f: Vec<_> = std::fs::read_dir(&args.path)
            .with_context(|| format!("cannot read {}", args.path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "test"))
            .collect();
        f.sort();
        f
    } else {
        vec![args.path.clone()]
    };
    if files.is_empty() {
        anyhow::bail!("no *.test files in {}", args.path.display());
    }
    let engine = Engine::default();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut text = String::new();
    for f in &files {
        let name = f
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        let script =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let r = run_script(&script, &engine).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let status = if r.failures.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        writeln!(
            text,
            "{status} {name}: {} passed, {} failed, {} skipped",
            r.passed,
            r.failures.len(),
            r.skipped
        )?;
        for (line, why) in &r.failures {
            writeln!(text, "     {name}:{line}: {why}")?;
        }
        passed += r.passed;
        failed += r.failures.len();
        skipped += r.skipped;
    }
    writeln!(text, "{passed} passed, {failed} failed, {skipped} skipped")?;
    super::out(&text)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
