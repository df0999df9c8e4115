//! `kubepulse simulate`: runs the simulated cluster as fast as the CPU allows and writes a
//! labelled dataset.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{DurationMs, format_duration, parse_duration};
use kubepulse_sim::dataset::DatasetWriter;
use kubepulse_sim::{Scenario, Simulator};
use tracing::info;

use crate::cli::SimulateArgs;
use crate::config::Config;

/// Runs the simulation and writes the dataset.
pub fn run(cfg: &Config, args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let mut sc = cfg.simulator.cluster.clone();
    if let Some(v) = args.seed {
        sc.seed = v;
    }
    if let Some(v) = args.nodes {
        sc.nodes = v;
    }
    if let Some(v) = args.pods {
        sc.pods = v;
    }
    if let Some(v) = &args.step {
        sc.step = v
            .parse::<DurationMs>()
            .map_err(|e| anyhow::anyhow!("--step: {e}"))?;
    }
    if let Some(v) = &args.start {
        sc.start = v.clone();
    }
    if let Some(v) = args.chaos_per_hour {
        sc.chaos_per_hour = v;
    }
    if args.no_lookalikes {
        sc.lookalikes = false;
    }
    if let Some(v) = args.rollouts_per_day {
        sc.rollouts_per_day = v;
    }
    if !args.chaos_kinds.is_empty() {
        sc.chaos_kinds = crate::training::chaos_kinds(&args.chaos_kinds)?;
    }
    sc.validate()?;
    let duration =
        parse_duration(&args.duration).map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
    if duration <= 0 {
        anyhow::bail!("--duration: must be positive");
    }
    let scenario_path = args.scenario.as_ref().or(cfg.simulator.scenario.as_ref());
    let scenario = scenario_path.map(|p| Scenario::load(p)).transpose()?;
    let steps = duration / sc.step.ms();
    let mut sim = Simulator::new(sc.clone(), scenario.as_ref(), None)?;
    let mut writer = DatasetWriter::create(&args.out, sc.step.ms())?;
    info!(seed = sc.seed, nodes = sc.nodes, pods = sc.pods, duration = %format_duration(duration), step = %sc.step, out = %args.out.display(), "simulating");
    let bar = progress(steps as u64, args.quiet);
    let clock = Stopwatch::start();
    let start = sim.now();
    let mut samples = 0u64;
    for i in 0..steps {
        let batch = sim.step();
        samples += batch.samples.len() as u64;
        writer
            .write(&batch)
            .with_context(|| format!("writing {}", args.out.display()))?;
        if i % 40 == 0 {
            let rate = samples as f64 / clock.elapsed_secs().max(1e-9);
            bar.set_message(format!(
                "{} simulated · {:.1}M samples/s",
                format_duration(sim.now() - start + sc.step.ms()),
                rate / 1e6
            ));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let counts = writer.finish(
        &sc,
        scenario_path.map(|p| p.display().to_string()).as_deref(),
        sim.truth(),
    )?;
    let secs = clock.elapsed_secs();
    let bytes = dir_size(&args.out)?;
    let truth = sim.truth();
    info!(
        seconds = format!("{secs:.1}"),
        samples = counts.samples,
        series = counts.series,
        samples_per_second = format!("{:.0}", counts.samples as f64 / secs),
        bytes,
        bytes_per_sample = format!("{:.3}", bytes as f64 / counts.samples.max(1) as f64),
        events = counts.events,
        logs = counts.logs,
        spans = counts.spans,
        faults = truth.faults.len(),
        failures = truth.failures.len(),
        lookalikes = truth.lookalikes.len(),
        "dataset written"
    );
    for (spec, why) in sim.rejected() {
        tracing::warn!(kind = spec.kind.as_str(), reason = %why, "fault could not start");
    }
    Ok(ExitCode::SUCCESS)
}

fn progress(steps: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps · {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
