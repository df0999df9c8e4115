//! `kubepulse evaluate prediction`: a failure model scored on data it was not trained on, side by
//! side with two baselines on the same windows (the static threshold rules people run today,
//! and a forest on instantaneous CPU and the cluster's node count): failures announced 1, 5 and
//! 10 minutes ahead, lead times, false alarms per 1,000 object-hours, recall at the rules'
//! false-alarm rate, per class and per cause; per window precision, recall, F1, confusion and
//! calibration. Writes markdown, and SVG plots of the operating curves.

mod collect;
mod loghub;
mod nab;
mod plot;
mod report;
mod unfollowed;

use std::path::Path;
use std::process::ExitCode;

use kubepulse_intel::model::FailureModel;
use kubepulse_query::Engine;
use kubepulse_query::features::ObjectKind;

use super::train::{check_features, parse_horizon};
use crate::cli::{EpisodeArgs, EvaluateCommand};
use crate::config::Config;
use crate::training::load;
use collect::ripening;

/// Runs an evaluation.
pub fn run(cfg: &Config, cmd: EvaluateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvaluateCommand::Prediction {
            model,
            episodes,
            out,
            dump,
            horizon,
        } => {
            let horizon = horizon.as_deref().map(parse_horizon).transpose()?;
            prediction(
                cfg,
                &model,
                &episodes,
                out.as_deref(),
                dump.as_deref(),
                horizon,
            )
        }
        EvaluateCommand::Nab { dir, out } => super::out(&nab::run(&dir, out.as_deref())?),
        EvaluateCommand::Loghub { dir, out } => super::out(&loghub::run(&dir, out.as_deref())?),
    }
}

/// Reads a model file.
pub fn read_model(path: &Path) -> anyhow::Result<FailureModel> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let model =
        FailureModel::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    check_features(&model.pod, ObjectKind::Pod)
        .and_then(|()| check_features(&model.node, ObjectKind::Node))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(model)
}

fn prediction(
    cfg: &Config,
    model_path: &Path,
    args: &EpisodeArgs,
    out: Option<&Path>,
    dump: Option<&Path>,
    horizon_ms: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let mut model = read_model(model_path)?;
    let trained_for = model.horizon_ms;
    if let Some(h) = horizon_ms {
        model.horizon_ms = h;
    }
    let (episodes, what) = load(cfg, args)?;
    let engine = Engine::new(cfg.query.engine_options());
    let mut text = format!(
        "# Failure prediction: evaluation\n\nModel: `{}`, trained on {}.\nEvaluated on {what}.\n\nA window alarms when the calibrated probability of a failure class within {} s reaches that class's threshold (the tables' threshold scales them all; 1 is the model's own); consecutive alarms form an episode. A failure is announced L ahead when an episode started at least L before it and was still alarming within the horizon before it; an episode that no failure follows within the horizon is a false alarm. Windows in the 10 minutes after a failure are not scored (after the last crash of a crash loop: a pod still crash-looping is failing, not at risk). Ripening failures: an OOM kill from a memory leak, disk pressure from a filling disk, CPU saturation from a CPU hog and a crash loop after a bad rollout, whose fault acted on the failing object while it was watched (a pod from its creation at the earliest, any object from the end of the 10 minutes after its previous failure and its last crash in it) at least 10 minutes before the failure.\n",
        model_path.display(),
        model.trained_on,
        model.horizon_ms / 1000,
    );
    if trained_for != model.horizon_ms {
        text.push_str(&format!(
            "\nScored against a horizon of {} s; the model was trained to predict failures within {} s.\n",
            model.horizon_ms / 1000,
            trained_for / 1000
        ));
    }
    let mut plots = Vec::new();
    for (kind, title, slug) in [
        (ObjectKind::Pod, "Pods", "pods"),
        (ObjectKind::Node, "Nodes", "nodes"),
    ] {
        let mut file = match dump {
            Some(p) => {
                let name = format!("{}-{slug}.csv", p.with_extension("").display());
                let f = std::fs::File::create(&name).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
                Some(std::io::BufWriter::new(f))
            }
            None => None,
        };
        let s = collect::score(
            &engine,
            &episodes,
            kind,
            &model,
            file.as_mut().map(|f| f as &mut dyn std::io::Write),
        )?;
        let curves = [report::curve(&s, 0), report::curve(&s, 2)];
        report::write_kind(&mut text, title, &s, &curves);
        let rules = s.events(1, s.predictors[1].threshold);
        let rules_point = (
            rules.false_alarms_per_1000h(),
            report::recall(&s, &rules, ripening, 300_000),
        );
        let svg = plot::svg(
            &format!("{title}: ripening failures announced ≥ 5 min ahead"),
            &[
                (s.predictors[0].name, "steelblue", &curves[0]),
                (s.predictors[2].name, "darkorange", &curves[1]),
            ],
            (
                rules_point.0,
                rules_point.1.0 as f64 / rules_point.1.1.max(1) as f64,
            ),
        );
        plots.push((slug, svg));
    }
    super::out(&text)?;
    if let Some(p) = out {
        let stem = p.with_extension("");
        for (slug, svg) in &plots {
            let file = format!("{}-{slug}.svg", stem.display());
            std::fs::write(&file, svg).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            let name = Path::new(&file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            text.push_str(&format!("\n![{slug}]({name})\n"));
        }
        std::fs::write(p, &text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
