//! Failure prediction speed: scoring every pod of a large simulated cluster (the signals'
//! PromQL over its series, the window summaries, the forest with calibration, and whole
//! predictions with explanations), and training on a million windows, on one thread.

use std::path::Path;
use std::process::Command;

use kubepulse_intel::model::FailureModel;
use kubepulse_intel::predict::predict;
use kubepulse_intel::recommend::Subject;
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::features::live::Tracker;
use kubepulse_query::features::{ObjectKind, compute, signals, window_len};
use kubepulse_query::{Engine, EngineOptions, MemSource, QueryValue};
use kubepulse_sim::record::record;
use kubepulse_sim::{SimConfig, Simulator};

/// Scores `pods` pods with the model trained by `kubepulse train` (or the one in `model`).
pub fn scoring(
    bin: &Path,
    dir: &Path,
    model: Option<&Path>,
    pods: u32,
    reps: usize,
    store: bool,
) -> anyhow::Result<()> {
    let path = match model {
        Some(p) => p.to_path_buf(),
        None => {
            let p = dir.join("model.json");
            eprintln!(
                "training the model: kubepulse train --simulate --seed 1,2 --duration 3h --chaos-per-hour 12"
            );
            run(
                bin,
                &[
                    "train",
                    "--simulate",
                    "--quiet",
                    "--seed",
                    "1,2",
                    "--duration",
                    "3h",
                    "--chaos-per-hour",
                    "12",
                    "--out",
                    &p.display().to_string(),
                ],
            )?;
            p
        }
    };
    let m = FailureModel::from_json(&std::fs::read_to_string(&path)?)?;
    let nodes = (pods / 20).max(3);
    eprintln!("simulating {nodes} nodes, {pods} pods, 20 minutes");
    let (src, end) = simulate(nodes, pods, 20)?;
    let engine = Engine::new(EngineOptions::default());
    let spec = kubepulse_query::features::FeatureSpec {
        window: m.window_ms,
        step: m.step_ms,
        long_window: m.long_window_ms,
    };
    let mut best = [f64::MAX; 6];
    let mut rows = Vec::new();
    let mut slowest: Vec<(f64, &str)> = Vec::new();
    for _ in 0..reps {
        // 1. The signals' PromQL over the long window, alone.
        let w = Stopwatch::start();
        let from = end - (window_len(spec) as i64 - 1) * spec.step;
        slowest.clear();
        for s in signals(ObjectKind::Pod) {
            let one = Stopwatch::start();
            let v = engine.range(&src, s.expr, from, end, spec.step)?;
            if let QueryValue::Matrix(m) = v.value {
                std::hint::black_box(m.len());
            }
            slowest.push((one.elapsed_secs(), s.name));
        }
        best[0] = best[0].min(w.elapsed_secs());
        // 2. Signals and window summaries: the feature rows.
        let w = Stopwatch::start();
        rows = compute(&engine, &src, &[], ObjectKind::Pod, end, end, spec)?;
        best[1] = best[1].min(w.elapsed_secs());
        // 2b. Kept up to date: the windows held, one new step evaluated.
        let mut tracker = Tracker::new(ObjectKind::Pod, spec);
        tracker.advance(&engine, &src, &[], end - spec.step)?;
        let w = Stopwatch::start();
        let live = tracker.advance(&engine, &src, &[], end)?;
        best[4] = best[4].min(w.elapsed_secs());
        std::hint::black_box(live.len());
        // 2c. Of which the window summaries: rows again with no new step.
        let w = Stopwatch::start();
        std::hint::black_box(tracker.advance(&engine, &src, &[], end)?.len());
        best[5] = best[5].min(w.elapsed_secs());
        // 3. Inference: forest and calibration.
        let w = Stopwatch::start();
        let alarms = rows
            .iter()
            .filter(|r| m.pod.alarms(&m.pod.score(&r.values)))
            .count();
        best[2] = best[2].min(w.elapsed_secs());
        std::hint::black_box(alarms);
        // 4. Whole predictions: ETA, evidence, explanation, recommendation.
        let w = Stopwatch::start();
        for r in &rows {
            let subject = Subject {
                namespace: r.namespace.clone(),
                name: r.name.clone(),
            };
            std::hint::black_box(predict(&m.pod, &subject, &r.values));
        }
        best[3] = best[3].min(w.elapsed_secs());
    }
    println!("pods scored: {}", rows.len());
    if store {
        let ms = from_store(dir, &src, &engine, spec, end, reps)?;
        println!("kept up to date from the store: one new step {ms:.1} ms");
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (secs, name) in slowest.iter().take(5) {
        println!("  signal {name}: {:.1} ms", secs * 1e3);
    }
    println!(
        "signals (PromQL over the long window): {:.1} ms",
        best[0] * 1e3
    );
    println!(
        "feature rows (signals and summaries): {:.1} ms",
        best[1] * 1e3
    );
    println!(
        "kept up to date: one new step {:.1} ms, of which window summaries {:.1} ms",
        best[4] * 1e3,
        best[5] * 1e3
    );
    println!(
        "inference (forest, calibration, thresholds): {:.1} ms",
        best[2] * 1e3
    );
    println!(
        "predictions with explanations and recommendations: {:.1} ms",
        best[3] * 1e3
    );
    println!(
        "features and inference: from scratch {:.1} ms, kept up to date {:.1} ms; with explanations {:.1} ms (best of {reps})",
        (best[1] + best[2]) * 1e3,
        (best[4] + best[2]) * 1e3,
        (best[4] + best[3]) * 1e3
    );
    Ok(())
}

/// Trains with `kubepulse train` on simulated clusters and reports the forests' training time
/// from its log.
pub fn training(bin: &Path, dir: &Path, seeds: &str, hours: u32) -> anyhow::Result<()> {
    let out = dir.join("trained.json");
    let duration = format!("{hours}h");
    let log = run(
        bin,
        &[
            "--log-format",
            "json",
            "train",
            "--simulate",
            "--quiet",
            "--seed",
            seeds,
            "--duration",
            &duration,
            "--chaos-per-hour",
            "12",
            "--out",
            &out.display().to_string(),
        ],
    )?;
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let f = &v;
        if f["message"] == "forest trained" {
            println!(
                "{} forest: {} windows × {} features, {} trees, trained in {:.1} s",
                f["kind"].as_str().unwrap_or("?"),
                f["windows"],
                f["features"],
                f["trees"],
                f["seconds"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}

/// Streaming anomaly detection: point updates per second on this thread, over `series`
/// detectors fed `points` points each, and the state kept per series.
pub fn anomaly(series: usize, points: usize) -> anyhow::Result<()> {
    use kubepulse_intel::anomaly::{Detector, Settings};
    let mut detectors: Vec<Detector> = (0..series)
        .map(|_| Detector::new(Settings::default()))
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let w = Stopwatch::start();
    let mut sum = 0.0;
    for i in 0..points {
        let t = i as i64 * 15_000;
        for d in &mut detectors {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = 100.0 + (x >> 40) as f64 / (1u64 << 24) as f64;
            sum += d.update(t, v).score;
        }
    }
    let secs = w.elapsed_secs();
    std::hint::black_box(sum);
    let updates = (series * points) as f64;
    println!(
        "{} updates in {:.2} s: {:.2} M updates/s on one thread; {} bytes of state per series",
        series * points,
        secs,
        updates / secs / 1e6,
        detectors.first().map_or(0, Detector::state_bytes)
    );
    Ok(())
}

fn run(bin: &Path, args: &[&str]) -> anyhow::Result<String> {
    let o = Command::new(bin).args(args).output()?;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        anyhow::bail!("kubepulse {}: {err}", args.join(" "));
    }
    Ok(err + &String::from_utf8_lossy(&o.stdout))
}

/// A simulated cluster's series for `minutes`, and its last step.
/// A series' samples as the store takes them.
type Samples = Vec<(i64, f64)>;

/// Writes every series of `src` to an embedded store and times the features kept up to date
/// from it: the best of `reps` runs of one new step (ms).
fn from_store(
    dir: &Path,
    src: &MemSource,
    engine: &Engine,
    spec: kubepulse_query::features::FeatureSpec,
    end: i64,
    reps: usize,
) -> anyhow::Result<f64> {
    use kubepulse_store::{Append, Db, SeriesWrite, StoreConfig};
    let path = dir.join("scoring-store");
    let clock = kubepulse_model::ManualClock::new(end);
    let (db, _) = Db::open(&path, StoreConfig::default(), std::sync::Arc::new(clock))?;
    let all = kubepulse_query::Source::select(src, &[], i64::MIN, i64::MAX)?;
    eprintln!("writing {} series to the store", all.len());
    for chunk in all.chunks(1000) {
        let owned: Vec<(Vec<(&str, &str)>, Samples)> = chunk
            .iter()
            .map(|s| {
                let l = s.labels.iter().map(|x| (x.name.as_str(), x.value.as_str()));
                (l.collect(), s.samples.iter().map(|x| (x.t, x.v)).collect())
            })
            .collect();
        let batch: Vec<SeriesWrite<'_>> = owned
            .iter()
            .map(|(labels, samples)| SeriesWrite { labels, samples })
            .collect();
        db.append(&batch)?;
    }
    drop(all);
    let store = kubepulse_query::StoreSource(&db);
    // Planning the pod signals against the store's series: what a change of series costs.
    let exprs: Vec<&str> = signals(ObjectKind::Pod).iter().map(|s| s.expr).collect();
    let w = Stopwatch::start();
    let plan = kubepulse_query::plan::PlanSet::build(
        &store,
        &exprs,
        end - spec.long_window,
        i64::MAX,
        engine.options().lookback,
    )?;
    println!(
        "planning the pod signals from the store: {:.1} ms ({} nodes)",
        w.elapsed_secs() * 1e3,
        plan.len()
    );
    drop(plan);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let mut tracker = Tracker::new(ObjectKind::Pod, spec);
        tracker.advance(engine, &store, &[], end - spec.step)?;
        let w = Stopwatch::start();
        std::hint::black_box(tracker.advance(engine, &store, &[], end)?.len());
        best = best.min(w.elapsed_secs());
    }
    Ok(best * 1e3)
}

fn simulate(nodes: u32, pods: u32, minutes: i64) -> anyhow::Result<(MemSource, i64)> {
    let cfg = SimConfig {
        nodes,
        pods,
        chaos_per_hour: 0.0,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg, None, None)?;
    let r = record(&mut sim, minutes);
    Ok((r.series.into_iter().collect(), r.end))
}
