//! `kubepulse train`: labelled feature windows from datasets or a simulated cluster, a forest per
//! kind of object, written as a versioned model file.

use std::process::ExitCode;

use kubepulse_intel::forest::{Forest, ForestParams};
use kubepulse_intel::labels::{FailureClass, Horizon};
use kubepulse_intel::model::{FORMAT, FailureModel, KindModel, VERSION};
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::Engine;
use kubepulse_query::features::{FeatureSpec, ObjectKind, feature_names};
use tracing::info;

use crate::cli::TrainArgs;
use crate::config::Config;
use crate::training::{Windows, load, windows};

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
        for ep in &episodes {
            let w = windows(ep, &engine, kind, spec, horizon)?;
            all.rows.extend(w.rows);
            all.labels.extend(w.labels);
        }
        let positives = all.labels.iter().filter(|l| **l != 0).count();
        info!(kind = ?kind, windows = all.rows.len(), positives, "training");
        let forest = Forest::train(
            &all.rows,
            &all.labels,
            FailureClass::ALL.len(),
            &ForestParams::default(),
        )?;
        kinds.push(KindModel {
            features: feature_names(kind),
            forest,
            windows: all.rows.len(),
            positives,
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
