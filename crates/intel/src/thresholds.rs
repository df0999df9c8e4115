//! Alarm thresholds per failure class. Classes differ in how well the features announce them:
//! an OOM kill from a leak is plain minutes ahead, a dependency failure barely is. One threshold
//! for all would be set by the noisiest class; instead each class gets its own, chosen greedily
//! on honest (out-of-bag) scores: the class whose next step down announces the most failures per
//! false alarm added goes first, while the false alarms of all classes together stay within the
//! budget.

use std::collections::BTreeMap;

use crate::evaluate::{EventScoring, score_events};
use crate::labels::{Failure, FailureClass};
use crate::train::Windows;

/// The threshold of a class that never alarms (calibrated probabilities never reach it).
pub const NEVER: f64 = 2.0;
/// Candidate thresholds tried per class, at most.
const CANDIDATES: usize = 80;

/// One step of a class's curve: at `threshold`, `false_alarms` and `gain` (failures of the class
/// announced at least 1 minute ahead, plus those announced at least 5 minutes ahead).
#[derive(Debug, Clone, Copy)]
struct Step {
    threshold: f64,
    false_alarms: usize,
    gain: usize,
}

/// Per class (index 0 unused, [`NEVER`]), the threshold its calibrated probability alarms at.
/// `calibrated[r][k]` is row `r`'s honest calibrated probability of class `k`.
pub fn choose(
    w: &Windows,
    calibrated: &[Vec<f64>],
    failures: &[Failure],
    scoring: &EventScoring,
    budget_per_1000h: f64,
) -> Vec<f64> {
    let n = FailureClass::ALL.len();
    let object_hours = w.rows.len() as f64 * scoring.step as f64 / 3_600_000.0;
    // At least one false alarm may be spent, so that a small training set (a few hundred
    // node-hours) does not forbid alarms altogether.
    let budget = (budget_per_1000h * object_hours / 1000.0).ceil().max(0.0) as usize;
    let mut any: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for f in failures {
        any.entry(f.object.clone()).or_default().push(f.t);
    }
    any.values_mut().for_each(|v| v.sort_unstable());
    let curves: Vec<Vec<Step>> = (0..n)
        .map(|k| {
            if k == 0 {
                return Vec::new();
            }
            let own: BTreeMap<String, Vec<i64>> = failures
                .iter()
                .filter(|f| f.class.index() as usize == k)
                .fold(BTreeMap::new(), |mut m, f| {
                    m.entry(f.object.clone()).or_default().push(f.t);
                    m
                });
            if own.is_empty() {
                return Vec::new();
            }
            let scores: Vec<f64> = calibrated
                .iter()
                .map(|p| p.get(k).copied().unwrap_or(0.0))
                .collect();
            curve(w, &scores, &own, &any, scoring)
        })
        .collect();
    let mut at: Vec<Option<usize>> = vec![None; n];
    let mut spent = 0usize;
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for (k, c) in curves.iter().enumerate() {
            let (fa0, gain0) = at[k].map_or((0, 0), |j| (c[j].false_alarms, c[j].gain));
            let from = at[k].map_or(0, |j| j + 1);
            for (j, s) in c.iter().enumerate().skip(from) {
                let more = s.false_alarms.saturating_sub(fa0);
                if s.gain <= gain0 || spent + more > budget {
                    continue;
                }
                let ratio = (s.gain - gain0) as f64 / (more as f64 + 0.5);
                if best.is_none_or(|b| ratio > b.0) {
                    best = Some((ratio, k, j));
                }
            }
        }
        let Some((_, k, j)) = best else { break };
        let before = at[k].map_or(0, |i| curves[k][i].false_alarms);
        spent += curves[k][j].false_alarms.saturating_sub(before);
        at[k] = Some(j);
    }
    (0..n)
        .map(|k| at[k].map_or(NEVER, |j| curves[k][j].threshold))
        .collect()
}

/// A class's steps, from its highest candidate threshold down.
fn curve(
    w: &Windows,
    scores: &[f64],
    own: &BTreeMap<String, Vec<i64>>,
    any: &BTreeMap<String, Vec<i64>>,
    scoring: &EventScoring,
) -> Vec<Step> {
    let mut values: Vec<f64> = scores
        .iter()
        .copied()
        .filter(|p| p.is_finite() && *p > 0.0)
        .collect();
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    let stride = (values.len() / CANDIDATES).max(1);
    let by_object = w.by_object(scores);
    values
        .into_iter()
        .step_by(stride)
        .map(|threshold| {
            let s = EventScoring {
                threshold,
                ..*scoring
            };
            let false_alarms = score_events(&by_object, any, &s).false_alarms;
            let hits = score_events(&by_object, own, &s);
            let gain = hits
                .outcomes
                .iter()
                .filter_map(|o| o.lead)
                .map(|l| usize::from(l >= 60_000) + usize::from(l >= 300_000))
                .sum();
            Step {
                threshold,
                false_alarms,
                gain,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_class_gets_a_low_threshold_and_a_noisy_one_none() {
        // Class 1 (oom): rows climb to 0.9 ten minutes before each failure and healthy rows
        // stay at 0.05. Class 2 (crash_loop): scores of 0.6 come and go with no failure.
        let mut w = Windows::default();
        let mut calibrated = Vec::new();
        let mut failures = Vec::new();
        for o in 0..20 {
            let name = format!("p{o}");
            let fails = o % 2 == 0;
            if fails {
                failures.push(Failure {
                    t: 100 * 15_000,
                    object: name.clone(),
                    class: FailureClass::Oom,
                    cause: None,
                    runup: None,
                });
            }
            for i in 0..100i64 {
                let t = i * 15_000;
                let oom = if fails && i >= 60 { 0.9 } else { 0.05 };
                let crash = if !fails && i % 30 == 5 { 0.6 } else { 0.01 };
                w.objects.push(name.clone());
                w.times.push(t);
                w.rows.push(Vec::new());
                let mut p = vec![0.0; FailureClass::ALL.len()];
                p[1] = oom;
                p[2] = crash;
                calibrated.push(p);
            }
        }
        // One crash loop that a 0.6 announces: not worth the false alarms of the others.
        failures.push(Failure {
            t: 50 * 15_000,
            object: "p1".into(),
            class: FailureClass::CrashLoop,
            cause: None,
            runup: None,
        });
        let scoring = EventScoring::default();
        let t = choose(&w, &calibrated, &failures, &scoring, 1.0);
        assert_eq!(t[1], 0.9, "{t:?}");
        assert_eq!(t[2], NEVER, "{t:?}");
        assert_eq!(t[0], NEVER);
    }
}
