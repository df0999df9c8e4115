//! The model `kubepulse serve` uses: the configured file; else the one it trained before, kept
//! in the data directory; else a default trained from the simulator at start-up.

use std::path::Path;

use indicatif::ProgressBar;
use kubepulse_intel::forest::ForestParams;
use kubepulse_intel::model::FailureModel;
use tracing::{info, warn};

use crate::cli::EpisodeArgs;
use crate::commands::evaluate::read_model;
use crate::commands::train::{Settings, train};
use crate::config::Config;
use crate::training::load;

/// File name of the default model in the data directory.
pub const DEFAULT_FILE: &str = "model.json";

/// The model to serve with (blocking: training takes seconds).
pub fn load_or_train(cfg: &Config) -> anyhow::Result<FailureModel> {
    if let Some(p) = &cfg.prediction.model {
        let m = read_model(p)?;
        info!(model = %p.display(), trained_on = %m.trained_on, "failure model loaded");
        return Ok(m);
    }
    let kept = cfg.server.data_dir.join(DEFAULT_FILE);
    if kept.is_file() {
        // A model of another build (other features) is refused like an unreadable one.
        match read_model(&kept) {
            Ok(m) => {
                info!(model = %kept.display(), "failure model loaded");
                return Ok(m);
            }
            Err(e) => {
                warn!(model = %kept.display(), error = %e, "kept model unusable; training again")
            }
        }
    }
    info!("no failure model configured: training a default one from the simulator");
    let m = train_default(cfg)?;
    if let Err(e) = write(&kept, &m) {
        warn!(model = %kept.display(), error = %e, "cannot keep the default model");
    }
    Ok(m)
}

/// Trains the default model: two simulated clusters of three hours with frequent faults.
pub fn train_default(cfg: &Config) -> anyhow::Result<FailureModel> {
    let started = kubepulse_model::clock::Stopwatch::start();
    let args = EpisodeArgs {
        data: Vec::new(),
        simulate: true,
        seed: vec![1, 2],
        nodes: vec![6],
        pods: vec![120],
        duration: "3h".into(),
        chaos_per_hour: 12.0,
        chaos_kinds: Vec::new(),
        rollouts_per_day: None,
    };
    let (episodes, trained_on) = load(cfg, &args)?;
    let settings = Settings {
        params: ForestParams {
            trees: 40,
            ..ForestParams::default()
        },
        false_alarm_budget: 1.0,
        horizon_ms: kubepulse_intel::labels::Horizon::default().ahead,
    };
    let m = train(cfg, episodes, trained_on, &settings, &ProgressBar::hidden())?;
    info!(
        seconds = format!("{:.1}", started.elapsed_secs()),
        pod_windows = m.pod.windows,
        "default failure model trained"
    );
    Ok(m)
}

fn write(path: &Path, m: &FailureModel) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, m.to_json()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
