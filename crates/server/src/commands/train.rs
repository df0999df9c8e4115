//! `kubepulse train`: labelled feature windows from datasets or a simulated cluster, a forest per
//! kind of object, written as a versioned model file.

use std::collections::BTreeMap;
use std::process::ExitCode;

use kubepulse_intel::calibrate::Isotonic;
use kubepulse_intel::evaluate::{EventScoring, score_events};
use kubepulse_intel::forest::{Forest, ForestParams};
use kubepulse_intel::labels::{FailureClass, Horizon};
use kubepulse_intel::model::{FORMAT, FailureModel, KindModel, VERSION};
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::Engine;
use kubepulse_query::features::{FeatureSpec, ObjectKind, feature_names};
use tracing::info;

use crate::cli::TrainArgs;
use crate::config::Config;
use crate::training::{Windows, failures, load, windows};

/// False alarms per 1,000 object-hours the alarm threshold is chosen to stay within.
const FALSE_ALARM_BUDGET: f64 = 1.0;

/// The lowest threshold whose alarms on `scores` stay within [`FALSE_ALARM_BUDGET`].
fn choose_threshold(
    w: &Windows,
    scores: &[f64],
    fails: &BTreeMap<String, Vec<i64>>,
    horizon: Horizon,
    spec: FeatureSpec,
) -> f64 {
    let mut by_object: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for ((o, t), p) in w.objects.iter().zip(&w.times).zip(scores) {
        by_object
            .entry(o.clone())
            .or_default()
            .push((*t, if p.is_nan() { 0.0 } else { *p }));
    }
    for v in by_object.values_mut() {
        v.sort_by_key(|x| x.0);
    }
    (1..20)
        .map(|i| f64::from(i) * 0.05)
        .find(|&threshold| {
            let r = score_events(
                &by_object,
                fails,
                &EventScoring {
                    threshold,
                    horizon: horizon.ahead,
                    step: spec.step,
                    ..EventScoring::default()
                },
            );
            r.false_alarms_per_1000h() <= FALSE_ALARM_BUDGET
        })
        .unwrap_or(0.95)
}

/// Trains and writes the model.
pub fn run(cfg: &Config, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let clock = Stopwatch::start();
    let (episodes, trained_on) = load(cfg, &args.episodes)?;
    let engine = Engine::new(cfg.query.engine_options());
    let spec = FeatureSpec::default();
    let horizon = Horizon::default();
    let mut kinds = Vec::new();
    for kind in [ObjectKind::Pod, ObjectKind::Node] {
        let mut all = Windows::default();
        let mut fails: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (i, ep) in episodes.iter().enumerate() {
            let w = windows(ep, &engine, kind, spec, horizon)?;
            all.objects
                .extend(w.objects.iter().map(|o| format!("{i}:{o}")));
            all.times.extend(w.times);
            all.rows.extend(w.rows);
            all.labels.extend(w.labels);
            for f in failures(ep, &engine, kind)? {
                fails
                    .entry(format!("{i}:{}", f.object))
                    .or_default()
                    .push(f.t);
            }
        }
        let positives = all.labels.iter().filter(|l| **l != 0).count();
        info!(kind = ?kind, windows = all.rows.len(), positives, "training");
        let (forest, oob) = Forest::train_oob(
            &all.rows,
            &all.labels,
            FailureClass::ALL.len(),
            &ForestParams::default(),
        )?;
        // Calibrated on out-of-bag scores; the alarm threshold is the lowest that keeps false
        // alarms on them within budget.
        let fail: Vec<f64> = oob.iter().map(|p| 1.0 - p[0]).collect();
        let pairs: Vec<(f64, bool)> = fail
            .iter()
            .zip(&all.labels)
            .map(|(p, l)| (*p, *l != 0))
            .collect();
        let calibration = Isotonic::fit(&pairs);
        let calibrated: Vec<f64> = fail.iter().map(|p| calibration.apply(*p)).collect();
        let threshold = choose_threshold(&all, &calibrated, &fails, horizon, spec);
        info!(kind = ?kind, threshold, "calibrated");
        kinds.push(KindModel {
            features: feature_names(kind),
            forest,
            windows: all.rows.len(),
            positives,
            calibration,
            threshold,
        });
    }
    let node = kinds
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no node model"))?;
    let pod = kinds.pop().ok_or_else(|| anyhow::anyhow!("no pod model"))?;
    let model = FailureModel {
        format: FORMAT.into(),
        version: VERSION,
        horizon_ms: horizon.ahead,
        window_ms: spec.window,
        step_ms: spec.step,
        pod,
        node,
        trained_on,
    };
    std::fs::write(&args.out, model.to_json()?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    info!(
        out = %args.out.display(),
        seconds = clock.elapsed_secs(),
        pod_windows = model.pod.windows,
        node_windows = model.node.windows,
        "model written"
    );
    Ok(ExitCode::SUCCESS)
}
