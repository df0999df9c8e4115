//! `kubepulse train`: labelled feature windows from datasets or simulated clusters, a forest per
//! kind of object (and the CPU-and-node-count baseline beside it), written as a versioned model
//! file.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use kubepulse_intel::evaluate::EventScoring;
use kubepulse_intel::forest::ForestParams;
use kubepulse_intel::labels::{Failure, Horizon};
use kubepulse_intel::model::{Baseline, FORMAT, FailureModel, KindModel, VERSION};
use kubepulse_intel::train::{Fit, Windows, fit};
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::Engine;
use kubepulse_query::features::{FeatureSpec, ObjectKind, context_mask, feature_names};
use tracing::info;

use crate::cli::TrainArgs;
use crate::config::Config;
use crate::training::{Episode, averted, baseline_cpu_feature, baseline_rows, load, windows};

/// Trains and writes the model.
pub fn run(cfg: &Config, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let clock = Stopwatch::start();
    let settings = Settings {
        params: ForestParams {
            trees: args.trees,
            max_depth: args.max_depth,
            min_leaf: args.min_leaf,
            ..ForestParams::default()
        },
        false_alarm_budget: args.false_alarm_budget,
        horizon_ms: parse_horizon(&args.horizon)?,
    };
    let bar = progress(args.quiet);
    bar.set_message("simulating and reading");
    let (episodes, trained_on) = load(cfg, &args.episodes)?;
    let model = train(cfg, episodes, trained_on, &settings, &bar)?;
    bar.finish_and_clear();
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

/// A progress bar on standard error, hidden when `quiet`.
fn progress(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar
}

/// How a model is trained.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Forest settings.
    pub params: ForestParams,
    /// False alarms per 1,000 object-hours the thresholds stay within.
    pub false_alarm_budget: f64,
    /// A window is labelled with a failure of its object this soon after it (ms).
    pub horizon_ms: i64,
}

/// The `--horizon` of `train` and `evaluate`: a duration from a minute to an hour (ms).
pub fn parse_horizon(text: &str) -> anyhow::Result<i64> {
    let ms =
        kubepulse_model::parse_duration(text).map_err(|e| anyhow::anyhow!("--horizon: {e}"))?;
    if !(60_000..=3_600_000).contains(&ms) {
        anyhow::bail!("--horizon: {text}: must be from 1m to 1h");
    }
    Ok(ms)
}

/// Trains a model on `episodes`, advancing `bar` over features and trees. Each episode is
/// dropped once its windows are computed, so that the clusters do not stay in memory while
/// the forests grow.
pub fn train(
    cfg: &Config,
    episodes: Vec<Episode>,
    trained_on: String,
    s: &Settings,
    bar: &ProgressBar,
) -> anyhow::Result<FailureModel> {
    let engine = Engine::new(cfg.query.engine_options());
    let spec = FeatureSpec::default();
    let horizon = Horizon {
        ahead: s.horizon_ms,
        ..Horizon::default()
    };
    let params = s.params.clone();
    let settings = Fit {
        params: params.clone(),
        scoring: EventScoring {
            horizon: horizon.ahead,
            step: spec.step,
            ..EventScoring::default()
        },
        false_alarm_budget: s.false_alarm_budget,
    };
    // Features of both kinds, then 2 models per kind.
    bar.set_length((2 * episodes.len() + 4 * params.trees) as u64);
    const KINDS: [ObjectKind; 2] = [ObjectKind::Pod, ObjectKind::Node];
    let mut gathered: [Gathered; 2] = Default::default();
    for (i, ep) in episodes.into_iter().enumerate() {
        for (kind, g) in KINDS.into_iter().zip(&mut gathered) {
            bar.set_message(format!("{} features, episode {}", name(kind), i + 1));
            let (w, episode_failures) = windows(&ep, &engine, kind, spec, horizon)?;
            g.nodes
                .extend(std::iter::repeat_n(ep.nodes as f64, w.rows.len()));
            g.parts.push((w, format!("{i}:")));
            for mut f in episode_failures {
                f.object = format!("{i}:{}", f.object);
                g.fails.push(f);
            }
            for mut f in averted(&ep, kind) {
                f.object = format!("{i}:{}", f.object);
                g.averted.push(f);
            }
            bar.inc(1);
        }
    }
    let mut kinds = Vec::new();
    for (kind, g) in KINDS.into_iter().zip(gathered) {
        let mut all = Windows::concat(g.parts)?;
        info!(
            kind = name(kind),
            windows = all.rows.len(),
            positives = all.positives(),
            "training"
        );
        // Context features are hidden from the forest: it never splits on a missing column.
        let mask = context_mask(kind);
        for row in all.rows.iter_mut() {
            for (v, hide) in row.iter_mut().zip(&mask) {
                if *hide {
                    *v = f32::NAN;
                }
            }
        }
        bar.set_message(format!("{} forest", name(kind)));
        let watch = Stopwatch::start();
        let model = fit(
            &all,
            feature_names(kind),
            &g.fails,
            &g.averted,
            &settings,
            &mut || bar.inc(1),
        )?;
        info!(
            kind = name(kind),
            windows = all.rows.len(),
            features = model.features.len(),
            trees = params.trees,
            seconds = watch.elapsed_secs(),
            "forest trained"
        );
        bar.set_message(format!("{} baseline", name(kind)));
        let base = baseline_rows(kind, &all, &g.nodes)?;
        let baseline = fit(
            &base,
            base_names(kind),
            &g.fails,
            &g.averted,
            &settings,
            &mut || bar.inc(1),
        )?;
        info!(
            kind = name(kind),
            thresholds = ?model.thresholds,
            baseline_thresholds = ?baseline.thresholds,
            "calibrated"
        );
        kinds.push((model, baseline));
    }
    let (node, node_base) = kinds
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no node model"))?;
    let (pod, pod_base) = kinds.pop().ok_or_else(|| anyhow::anyhow!("no pod model"))?;
    Ok(FailureModel {
        format: FORMAT.into(),
        version: VERSION,
        horizon_ms: horizon.ahead,
        window_ms: spec.window,
        step_ms: spec.step,
        long_window_ms: spec.long_window,
        pod,
        node,
        trained_on,
        baseline: Baseline {
            pod: pod_base,
            node: node_base,
        },
    })
}

/// One kind's windows from every episode, the node count of each row's cluster, and the
/// failures.
#[derive(Default)]
struct Gathered {
    parts: Vec<(Windows, String)>,
    nodes: Vec<f64>,
    fails: Vec<Failure>,
    averted: Vec<Failure>,
}

fn name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Pod => "pod",
        ObjectKind::Node => "node",
    }
}

/// Feature names of the baseline.
pub fn base_names(kind: ObjectKind) -> Vec<String> {
    vec![
        baseline_cpu_feature(kind).to_string(),
        "cluster_nodes".to_string(),
    ]
}

/// Whether a model's features are those this build computes.
pub fn check_features(km: &KindModel, kind: ObjectKind) -> anyhow::Result<()> {
    if km.features != feature_names(kind) {
        anyhow::bail!(
            "the model was trained on other {} features than this build computes; train it again",
            name(kind)
        );
    }
    Ok(())
}
