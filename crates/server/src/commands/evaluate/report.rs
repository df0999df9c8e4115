//! The prediction evaluation as markdown: the model beside its baselines at event level, recall
//! at the rules' false-alarm rate, per class and per cause, window-level precision and recall,
//! the confusion matrix and calibration.

use std::fmt::Write as _;

use kubepulse_intel::evaluate::EventReport;
use kubepulse_intel::labels::{Failure, FailureClass};
use kubepulse_query::features::silence::down_after_secs;

use super::collect::{Scored, detections, ripening};
use super::unfollowed::unfollowed;

/// A point of an operating curve.
#[derive(Debug, Clone, Copy)]
pub struct CurvePoint {
    /// Threshold.
    pub threshold: f64,
    /// False alarms per 1,000 object-hours.
    pub false_alarms: f64,
    /// Ripening failures announced at least 5 minutes ahead (share).
    pub ripening_5m: f64,
    /// Failures announced at least 1 minute ahead (share).
    pub all_1m: f64,
}

/// Share (hits, total) of failures selected by `keep` announced at least `lead_ms` ahead.
pub fn recall(
    s: &Scored,
    r: &EventReport,
    keep: impl Fn(&Failure) -> bool,
    lead_ms: i64,
) -> (usize, usize) {
    let mut hits = 0;
    let mut total = 0;
    for (f, lead) in s.paired(r) {
        if keep(f) {
            total += 1;
            hits += usize::from(lead.is_some_and(|l| l >= lead_ms));
        }
    }
    (hits, total)
}

fn share((hits, total): (usize, usize)) -> f64 {
    hits as f64 / total.max(1) as f64
}

/// The operating curve of predictor `i` over thresholds spread by rank of its scores.
pub fn curve(s: &Scored, i: usize) -> Vec<CurvePoint> {
    let mut values: Vec<f64> = s.predictors[i]
        .by_object
        .values()
        .flatten()
        .map(|x| x.1)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let stride = (values.len() / 40).max(1);
    let mut thresholds: Vec<f64> = values.iter().step_by(stride).copied().collect();
    // The highest scores, one by one: low false-alarm rates are decided among them.
    thresholds.extend(values.iter().rev().take(40));
    thresholds.push(s.predictors[i].threshold);
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    thresholds
        .into_iter()
        .map(|threshold| {
            let r = s.events(i, threshold);
            CurvePoint {
                threshold,
                false_alarms: r.false_alarms_per_1000h(),
                ripening_5m: share(recall(s, &r, ripening, 300_000)),
                all_1m: share(recall(s, &r, |_| true, 60_000)),
            }
        })
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn frac((hits, total): (usize, usize)) -> String {
    if total == 0 {
        return "–".into();
    }
    format!("{} ({hits}/{total})", pct(share((hits, total))))
}

fn lead(secs: f64) -> String {
    if secs.is_nan() {
        "–".into()
    } else {
        format!("{secs:.0} s")
    }
}

/// Writes one kind's section.
pub fn write_kind(out: &mut String, title: &str, s: &Scored, curves: &[Vec<CurvePoint>; 2]) {
    let _ = writeln!(out, "\n## {title}\n");
    let reports: Vec<EventReport> = (0..3)
        .map(|i| s.events(i, s.predictors[i].threshold))
        .collect();
    let ripe_total = s.failures.iter().filter(|f| ripening(f)).count();
    let _ = writeln!(
        out,
        "{} failures, {ripe_total} of them ripening; {:.0} object-hours scored.\n",
        s.failures.len(),
        reports[0].object_hours
    );
    let _ = writeln!(
        out,
        "| predictor | threshold | announced ≥ 1 min | ≥ 5 min | ≥ 10 min | median lead | ripening ≥ 5 min | false alarms | per 1,000 object-hours |\n|---|---|---|---|---|---|---|---|---|"
    );
    for (p, r) in s.predictors.iter().zip(&reports) {
        let [a1, a5, a10] = r.recall_ahead();
        let _ = writeln!(
            out,
            "| {} | {:.3} | {} | {} | {} | {} | {} | {} | {:.2} |",
            p.name,
            p.threshold,
            pct(a1),
            pct(a5),
            pct(a10),
            lead(r.median_lead_secs),
            frac(recall(s, r, ripening, 300_000)),
            r.false_alarms,
            r.false_alarms_per_1000h()
        );
    }
    let model = &reports[0];
    if model.unjudged > 0 {
        let _ = writeln!(
            out,
            "\n{} of the model's alarms no failure followed began less than the horizon before the data ends: whether they came true is not known, and they are not judged.",
            model.unjudged
        );
    }
    if model.averted > 0 {
        let counted = model.false_alarms + model.averted;
        let _ = writeln!(
            out,
            "\n{} more of the model's alarms were followed by no failure but by one that was averted: its fault ended (fixed, rolled back, its pod deleted) while the failure was coming, projected from the fault's state at its end to come within the horizon after the alarm. They are not counted as false alarms above; counted, the model would have {counted} false alarms, {:.2} per 1,000 object-hours.",
            model.averted,
            counted as f64 * 1000.0 / model.object_hours.max(f64::MIN_POSITIVE)
        );
    }
    unfollowed(out, s, &reports[0]);
    same_rate(out, s, &reports[1], curves);
    sudden(out, s);
    per_class(out, s, &reports);
    per_cause(out, s, &reports);
    windows(out, s);
    calibration(out, s);
}

/// The model's and the CPU forest's best recall at no more false alarms than the rules raise.
fn same_rate(out: &mut String, s: &Scored, rules: &EventReport, curves: &[Vec<CurvePoint>; 2]) {
    let rate = rules.false_alarms_per_1000h();
    let rules_ripe = share(recall(s, rules, ripening, 300_000));
    let rules_all = share(recall(s, rules, |_| true, 60_000));
    let _ = writeln!(
        out,
        "\nAt the threshold rules' false-alarm rate ({rate:.2} per 1,000 object-hours), the best each graded predictor reaches on its operating curve:\n\n| predictor | ripening ≥ 5 min | all ≥ 1 min | false alarms per 1,000 object-hours |\n|---|---|---|---|\n| threshold rules | {} | {} | {rate:.2} |",
        pct(rules_ripe),
        pct(rules_all)
    );
    best_at(out, s, rate, curves);
    let _ = writeln!(
        out,
        "\nAt the goal's rate ({GOAL_RATE:.0} per 1,000 object-hours), the best each graded predictor reaches on its operating curve (its thresholds scaled with hindsight, on this data):\n\n| predictor | ripening ≥ 5 min | all ≥ 1 min | false alarms per 1,000 object-hours |\n|---|---|---|---|"
    );
    best_at(out, s, GOAL_RATE, curves);
}

/// False alarms per 1,000 object-hours the goal allows.
const GOAL_RATE: f64 = 1.0;

/// A table row per graded predictor: its best ripening recall at no more than `rate`.
fn best_at(out: &mut String, s: &Scored, rate: f64, curves: &[Vec<CurvePoint>; 2]) {
    for (curve, name) in curves
        .iter()
        .zip([s.predictors[0].name, s.predictors[2].name])
    {
        let best = curve
            .iter()
            .filter(|p| p.false_alarms <= rate)
            .max_by(|a, b| a.ripening_5m.total_cmp(&b.ripening_5m));
        match best {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "| {name} (threshold {:.3}) | {} | {} | {:.2} |",
                    p.threshold,
                    pct(p.ripening_5m),
                    pct(p.all_1m),
                    p.false_alarms
                );
            }
            None => {
                let _ = writeln!(out, "| {name} | no threshold this quiet | | |");
            }
        }
    }
}

/// Node crashes give no warning: how soon the silence of their exporter shows them.
fn sudden(out: &mut String, s: &Scored) {
    let silent_after = down_after_secs(s.scoring.step);
    let d = detections(s, silent_after);
    if d.is_empty() {
        return;
    }
    let mut seen: Vec<f64> = d.iter().flatten().copied().collect();
    seen.sort_by(f64::total_cmp);
    let within = seen.iter().filter(|x| **x <= 30.0).count();
    let _ = writeln!(
        out,
        "\nNode crashes (sudden, detected rather than predicted: a node is down once its exporter has been silent for more than {silent_after:.1} s): {} of {} detected, {within} within 30 s of the crash; median delay {}, longest {}.",
        seen.len(),
        d.len(),
        seen.get(seen.len() / 2)
            .map_or("–".into(), |x| format!("{x:.0} s")),
        seen.last().map_or("–".into(), |x| format!("{x:.0} s")),
    );
}

fn per_class(out: &mut String, s: &Scored, reports: &[EventReport]) {
    let _ = writeln!(
        out,
        "\nBy class (announced ≥ 1 min / ≥ 5 min; model, then rules):\n\n| class | failures | model ≥ 1 min | model ≥ 5 min | median lead | rules ≥ 1 min | rules ≥ 5 min |\n|---|---|---|---|---|---|---|"
    );
    for class in FailureClass::ALL.iter().skip(1) {
        let keep = |f: &Failure| f.class == *class;
        let total = s.failures.iter().filter(|f| keep(f)).count();
        if total == 0 {
            continue;
        }
        let mut leads: Vec<f64> = s
            .paired(&reports[0])
            .into_iter()
            .filter(|(f, _)| keep(f))
            .filter_map(|(_, lead)| lead.map(|l| l as f64 / 1000.0))
            .collect();
        leads.sort_by(f64::total_cmp);
        let median = leads.get(leads.len() / 2).copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "| {} | {total} | {} | {} | {} | {} | {} |",
            class.name(),
            frac(recall(s, &reports[0], keep, 60_000)),
            frac(recall(s, &reports[0], keep, 300_000)),
            lead(median),
            frac(recall(s, &reports[1], keep, 60_000)),
            frac(recall(s, &reports[1], keep, 300_000)),
        );
    }
}

fn per_cause(out: &mut String, s: &Scored, reports: &[EventReport]) {
    let _ = writeln!(
        out,
        "\nBy cause and run-up (how long the fault acted on the object before the failure while it was watched), announced ≥ 5 min:\n\n| cause | run-up | failures | model | rules | CPU forest |\n|---|---|---|---|---|---|"
    );
    let mut causes: Vec<String> = s
        .failures
        .iter()
        .map(|f| f.cause.clone().unwrap_or_else(|| "none".into()))
        .collect();
    causes.sort();
    causes.dedup();
    let buckets: [(&str, i64, i64); 3] = [
        ("< 10 min", 0, 600_000),
        ("10–30 min", 600_000, 1_800_000),
        ("≥ 30 min", 1_800_000, i64::MAX),
    ];
    for cause in &causes {
        for (label, lo, hi) in buckets {
            let keep = |f: &Failure| {
                f.cause.as_deref().unwrap_or("none") == cause
                    && f.runup.is_some_and(|r| r >= lo && r < hi)
            };
            let total = s.failures.iter().filter(|f| keep(f)).count();
            if total == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "| {cause} | {label} | {total} | {} | {} | {} |",
                frac(recall(s, &reports[0], keep, 300_000)),
                frac(recall(s, &reports[1], keep, 300_000)),
                frac(recall(s, &reports[2], keep, 300_000)),
            );
        }
    }
}

fn windows(out: &mut String, s: &Scored) {
    let _ = writeln!(
        out,
        "\nWindows (model at its threshold; a window's truth is its object's failure within the horizon):\n\n| class | precision | recall | F1 | windows |\n|---|---|---|---|---|"
    );
    let c = &s.confusion;
    let n = FailureClass::ALL.len();
    for (k, class) in FailureClass::ALL.iter().enumerate().skip(1) {
        let support: usize = c[k].iter().sum();
        let predicted: usize = (0..n).map(|t| c[t][k]).sum();
        if support == 0 && predicted == 0 {
            continue;
        }
        let tp = c[k][k] as f64;
        let p = tp / predicted.max(1) as f64;
        let r = tp / support.max(1) as f64;
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
    let names: Vec<&str> = FailureClass::ALL.iter().map(|c| c.name()).collect();
    let _ = writeln!(
        out,
        "\nConfusion (rows: truth, columns: predicted):\n\n| | {} |\n|---|{}",
        names.join(" | "),
        "---|".repeat(n)
    );
    for (k, row) in c.iter().enumerate() {
        if row.iter().sum::<usize>() == 0 {
            continue;
        }
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "| {} | {} |", names[k], cells.join(" | "));
    }
}

fn calibration(out: &mut String, s: &Scored) {
    let _ = writeln!(
        out,
        "\nCalibration (windows by the calibrated probability of their likeliest failure class; observed: that class came within the horizon):\n\n| probability | windows | mean predicted | observed |\n|---|---|---|---|"
    );
    let edges = [0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0001];
    for w in edges.windows(2) {
        let bin: Vec<&(f64, bool)> = s
            .calibration
            .iter()
            .filter(|(p, _)| *p >= w[0] && *p < w[1])
            .collect();
        if bin.is_empty() {
            continue;
        }
        let n = bin.len() as f64;
        let mean = bin.iter().map(|x| x.0).sum::<f64>() / n;
        let observed = bin.iter().filter(|x| x.1).count() as f64 / n;
        let _ = writeln!(
            out,
            "| {:.2}–{:.2} | {} | {mean:.3} | {observed:.3} |",
            w[0],
            w[1].min(1.0),
            bin.len()
        );
    }
}
