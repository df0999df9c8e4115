//! `kubepulse evaluate prediction`: a failure model scored on data it was not trained on, per
//! window (precision, recall and F1 per class, confusion matrix) and per failure (announced 1, 5
//! and 10 minutes ahead, median lead time, false alarms per 1,000 object-hours).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use kubepulse_intel::evaluate::{EventReport, EventScoring, score_events};
use kubepulse_intel::labels::{FailureClass, Horizon};
use kubepulse_intel::model::{FailureModel, KindModel};
use kubepulse_query::Engine;
use kubepulse_query::features::{FeatureSpec, ObjectKind, feature_names};

use crate::cli::{EpisodeArgs, EvaluateCommand};
use crate::config::Config;
use crate::training::{Episode, failures, load, windows};

/// Runs an evaluation.
pub fn run(cfg: &Config, cmd: EvaluateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvaluateCommand::Prediction {
            model,
            episodes,
            out,
        } => prediction(cfg, &model, &episodes, out.as_deref()),
    }
}

/// What one kind of object scored.
struct KindScore {
    /// `confusion[truth][predicted]`, window counts.
    confusion: Vec<Vec<usize>>,
    events: EventReport,
}

fn prediction(
    cfg: &Config,
    model_path: &Path,
    args: &EpisodeArgs,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(model_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    let model = FailureModel::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    let (episodes, what) = load(cfg, args)?;
    let engine = Engine::new(cfg.query.engine_options());
    let mut report = format!(
        "# Failure prediction: evaluation\n\nModel: `{}`, trained on {}.\nEvaluated on {what}.\nA window alarms when the calibrated probability of a failure within {} s reaches the model's threshold (pods {:.2}, nodes {:.2}).\n",
        model_path.display(),
        model.trained_on,
        model.horizon_ms / 1000,
        model.pod.threshold,
        model.node.threshold
    );
    for (kind, km, title) in [
        (ObjectKind::Pod, &model.pod, "Pods"),
        (ObjectKind::Node, &model.node, "Nodes"),
    ] {
        if km.features != feature_names(kind) {
            anyhow::bail!(
                "{}: the model was trained on other {} features than this build computes; train it again",
                model_path.display(),
                title.to_lowercase()
            );
        }
        let s = score_kind(&engine, &episodes, kind, km, &model)?;
        write_kind(&mut report, title, &s);
    }
    super::out(&report)?;
    if let Some(p) = out {
        std::fs::write(p, &report).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn score_kind(
    engine: &Engine,
    episodes: &[Episode],
    kind: ObjectKind,
    km: &KindModel,
    model: &FailureModel,
) -> anyhow::Result<KindScore> {
    let n = FailureClass::ALL.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut scores: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    let mut fails: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let spec = FeatureSpec {
        window: model.window_ms,
        step: model.step_ms,
    };
    let horizon = Horizon {
        ahead: model.horizon_ms,
        ..Horizon::default()
    };
    for (i, ep) in episodes.iter().enumerate() {
        let w = windows(ep, engine, kind, spec, horizon)?;
        let first = w.times.iter().min().copied().unwrap_or(i64::MAX);
        for ((object, t), (row, label)) in w
            .objects
            .iter()
            .zip(&w.times)
            .zip(w.rows.iter().zip(&w.labels))
        {
            let (p, fail) = km.score(row);
            let predicted = if fail >= km.threshold {
                (1..p.len())
                    .max_by(|a, b| p[*a].total_cmp(&p[*b]))
                    .unwrap_or(0)
            } else {
                0
            };
            if let Some(row) = confusion.get_mut(*label as usize) {
                row[predicted.min(n - 1)] += 1;
            }
            scores
                .entry(format!("{i}:{object}"))
                .or_default()
                .push((*t, fail));
        }
        for f in failures(ep, engine, kind)? {
            if f.t > first {
                fails
                    .entry(format!("{i}:{}", f.object))
                    .or_default()
                    .push(f.t);
            }
        }
    }
    let events = score_events(
        &scores,
        &fails,
        &EventScoring {
            threshold: km.threshold,
            horizon: model.horizon_ms,
            step: model.step_ms,
            ..EventScoring::default()
        },
    );
    Ok(KindScore { confusion, events })
}

fn write_kind(out: &mut String, title: &str, s: &KindScore) {
    let _ = writeln!(out, "\n## {title}\n");
    let _ = writeln!(
        out,
        "| class | precision | recall | F1 | windows |\n|---|---|---|---|---|"
    );
    let n = FailureClass::ALL.len();
    for (k, class) in FailureClass::ALL.iter().enumerate().skip(1) {
        let support: usize = s.confusion[k].iter().sum();
        let predicted: usize = (0..n).map(|t| s.confusion[t][k]).sum();
        if support == 0 && predicted == 0 {
            continue;
        }
        let tp = s.confusion[k][k] as f64;
        let p = if predicted > 0 {
            tp / predicted as f64
        } else {
            0.0
        };
        let r = if support > 0 {
            tp / support as f64
        } else {
            0.0
        };
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "| {} | {p:.2} | {r:.2} | {f1:.2} | {support} |",
            class.name()
        );
    }
    let e = &s.events;
    let [a1, a5, a10] = e.recall_ahead();
    let _ = writeln!(
        out,
        "\n| failures | announced ≥ 1 min | ≥ 5 min | ≥ 10 min | median lead | false alarms | per 1,000 object-hours |\n|---|---|---|---|---|---|---|\n| {} | {:.0}% | {:.0}% | {:.0}% | {} | {} | {:.2} |",
        e.failures,
        a1 * 100.0,
        a5 * 100.0,
        a10 * 100.0,
        if e.median_lead_secs.is_nan() {
            "–".to_string()
        } else {
            format!("{:.0} s", e.median_lead_secs)
        },
        e.false_alarms,
        e.false_alarms_per_1000h()
    );
    let _ = writeln!(out, "\nConfusion (rows: truth, columns: predicted):\n");
    let names: Vec<&str> = FailureClass::ALL.iter().map(|c| c.name()).collect();
    let _ = writeln!(out, "| | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(n));
    for (k, row) in s.confusion.iter().enumerate() {
        if row.iter().sum::<usize>() == 0 {
            continue;
        }
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "| {} | {} |", names[k], cells.join(" | "));
    }
}
