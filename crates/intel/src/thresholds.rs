//! Alarm thresholds per failure class. Classes differ in how well the features announce them:
//! an OOM kill from a leak is plain minutes ahead, a dependency failure barely is. One threshold
//! for all would be set by the noisiest class; instead each class gets its own, chosen greedily
//! on honest (out-of-bag) scores: the class whose next step down announces the most failures per
//! false alarm added goes first, while the false alarms of all classes together stay within the
//! budget.
//!
//! A budget of one false alarm per 1,000 object-hours is a handful over a whole training set,
//! so where one choice lands turns on single alarms. The choice is made on many resamples of
//! the objects (half of them each time) and each class takes the median of its thresholds.

use std::collections::BTreeMap;

use crate::evaluate::{EventScoring, episodes, false_alarms, lead};
use crate::forest::rng::Rng;
use crate::labels::{Failure, FailureClass};
use crate::train::Windows;

/// The threshold of a class that never alarms (calibrated probabilities never reach it).
pub const NEVER: f64 = 2.0;
/// Candidate thresholds tried per class, at most.
const CANDIDATES: usize = 80;
/// Resamples of the objects the thresholds are chosen on.
const RESAMPLES: u64 = 25;

/// A candidate threshold of a class: per object, the false alarms it raises and its gain
/// (failures of the class announced at least 1 minute ahead, plus those announced at least 5
/// minutes ahead).
struct Candidate {
    threshold: f64,
    false_alarms: Vec<u32>,
    gain: Vec<u32>,
}

/// One step of a class's curve over some of the objects.
#[derive(Debug, Clone, Copy)]
struct Step {
    false_alarms: usize,
    gain: usize,
}

/// Per class (index 0 unused, [`NEVER`]), the threshold its calibrated probability alarms at.
/// `calibrated[r][k]` is row `r`'s honest calibrated probability of class `k`; an alarm that
/// `failures` or `averted` (failures that were coming when their cause ended) follow is not
/// false, nor is one closer than the horizon to the end of its object's data.
pub fn choose(
    w: &Windows,
    calibrated: &[Vec<f64>],
    failures: &[Failure],
    averted: &[Failure],
    scoring: &EventScoring,
    budget_per_1000h: f64,
) -> Vec<f64> {
    let n = FailureClass::ALL.len();
    // Objects in the order `Windows::by_object` gives them, and their rows.
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &w.objects {
        *rows.entry(o.as_str()).or_default() += 1;
    }
    let rows: Vec<usize> = rows.into_values().collect();
    let any = times(failures.iter().chain(averted));
    let candidates: Vec<Vec<Candidate>> = (0..n)
        .map(|k| {
            let own = times(failures.iter().filter(|f| f.class.index() as usize == k));
            if k == 0 || own.is_empty() {
                return Vec::new();
            }
            let scores: Vec<f64> = calibrated
                .iter()
                .map(|p| p.get(k).copied().unwrap_or(0.0))
                .collect();
            candidates(w, &scores, &own, &any, scoring)
        })
        .collect();
    let mut chosen: Vec<Vec<f64>> = vec![Vec::new(); n];
    for r in 0..RESAMPLES {
        let keep = Rng::new(r).sample(rows.len(), rows.len().div_ceil(2));
        let hours =
            keep.iter().map(|&i| rows[i]).sum::<usize>() as f64 * scoring.step as f64 / 3_600_000.0;
        // At least one false alarm may be spent, so that a small training set (a few hundred
        // node-hours) does not forbid alarms altogether.
        let budget = (budget_per_1000h * hours / 1000.0).round().max(1.0) as usize;
        let curves: Vec<Vec<Step>> = candidates
            .iter()
            .map(|c| {
                c.iter()
                    .map(|c| Step {
                        false_alarms: keep.iter().map(|&i| c.false_alarms[i] as usize).sum(),
                        gain: keep.iter().map(|&i| c.gain[i] as usize).sum(),
                    })
                    .collect()
            })
            .collect();
        for (k, at) in allocate(&curves, budget).into_iter().enumerate() {
            chosen[k].push(at.map_or(NEVER, |j| candidates[k][j].threshold));
        }
    }
    chosen
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t.get(t.len() / 2).copied().unwrap_or(NEVER)
        })
        .collect()
}

/// Failure times by object.
fn times<'a>(of: impl Iterator<Item = &'a Failure>) -> BTreeMap<&'a str, Vec<i64>> {
    let mut m: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for f in of {
        m.entry(f.object.as_str()).or_default().push(f.t);
    }
    m.values_mut().for_each(|v| v.sort_unstable());
    m
}

/// Greedily, per class, the step of its curve it alarms at (`None`: never), keeping the false
/// alarms of all classes together within `budget`.
fn allocate(curves: &[Vec<Step>], budget: usize) -> Vec<Option<usize>> {
    let mut at: Vec<Option<usize>> = vec![None; curves.len()];
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
    at
}

/// A class's candidate thresholds, from the highest down, with what each does per object (in
/// the order of `w.by_object`).
fn candidates(
    w: &Windows,
    scores: &[f64],
    own: &BTreeMap<&str, Vec<i64>>,
    any: &BTreeMap<&str, Vec<i64>>,
    scoring: &EventScoring,
) -> Vec<Candidate> {
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
            let mut c = Candidate {
                threshold,
                false_alarms: Vec::with_capacity(by_object.len()),
                gain: Vec::with_capacity(by_object.len()),
            };
            for (object, windows) in &by_object {
                let eps = episodes(windows, &s);
                let none = Vec::new();
                let fails = any.get(object.as_str()).unwrap_or(&none);
                let end = w.data_end.get(object.as_str()).copied();
                let end = end.unwrap_or(i64::MAX);
                // `any` holds the averted failures too: an alarm they follow is not false.
                c.false_alarms
                    .push(false_alarms(&eps, fails, &[], end, &s) as u32);
                let gain: usize = own
                    .get(object.as_str())
                    .unwrap_or(&none)
                    .iter()
                    .filter_map(|&f| lead(&eps, f, &s))
                    .map(|l| usize::from(l >= 60_000) + usize::from(l >= 300_000))
                    .sum();
                c.gain.push(gain as u32);
            }
            c
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
                    until: None,
                });
            }
            for i in 0..100i64 {
                let t = i * 15_000;
                let oom = if fails && i >= 60 { 0.9 } else { 0.05 };
                let crash = if !fails && i % 30 == 5 { 0.6 } else { 0.01 };
                w.objects.push(name.clone());
                w.times.push(t);
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
            until: None,
        });
        let scoring = EventScoring::default();
        let t = choose(&w, &calibrated, &failures, &[], &scoring, 1.0);
        assert_eq!(t[1], 0.9, "{t:?}");
        assert_eq!(t[2], NEVER, "{t:?}");
        assert_eq!(t[0], NEVER);
    }

    #[test]
    fn alarms_nothing_could_judge_or_before_an_averted_failure_cost_nothing() {
        // The odd objects crash-loop at step 50, which a 0.6 at step 45 announces. The even
        // ones score 0.6 at step `at`: in the data's last minutes, or just before a failure
        // that was averted.
        let crash = |o: i64| Failure {
            t: 50 * 15_000,
            object: format!("p{o}"),
            class: FailureClass::CrashLoop,
            cause: None,
            runup: None,
            until: None,
        };
        let case = |at: i64| {
            let mut w = Windows::default();
            let mut calibrated = Vec::new();
            for o in 0..20 {
                let name = format!("p{o}");
                let alarm_at = if o % 2 == 1 { 45 } else { at };
                for i in 0..100i64 {
                    w.objects.push(name.clone());
                    w.times.push(i * 15_000);
                    let mut p = vec![0.0; FailureClass::ALL.len()];
                    p[2] = if i == alarm_at { 0.6 } else { 0.0 };
                    calibrated.push(p);
                }
            }
            (w, calibrated)
        };
        let s = EventScoring::default();
        let crashes: Vec<Failure> = (1..20).step_by(2).map(crash).collect();
        let (mut w, calibrated) = case(90);
        assert_eq!(choose(&w, &calibrated, &crashes, &[], &s, 1.0)[2], NEVER);
        for o in 0..20 {
            w.data_end.insert(format!("p{o}"), 100 * 15_000);
        }
        assert_eq!(choose(&w, &calibrated, &crashes, &[], &s, 1.0)[2], 0.6);
        let (w, calibrated) = case(30);
        assert_eq!(choose(&w, &calibrated, &crashes, &[], &s, 1.0)[2], NEVER);
        let averted: Vec<Failure> = (0..20)
            .step_by(2)
            .map(|o| Failure {
                t: 35 * 15_000,
                ..crash(o)
            })
            .collect();
        assert_eq!(choose(&w, &calibrated, &crashes, &averted, &s, 1.0)[2], 0.6);
    }
}
