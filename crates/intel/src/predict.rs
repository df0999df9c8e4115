//! A whole prediction for one object's window: the likeliest failure and its calibrated
//! probability, when it is expected (a forecast of the signal that fails, or the time such
//! failures took in training), the evidence and a sentence explaining it, and a recommendation.

use serde::Serialize;

use crate::explain::{Evidence, Row, evidence, sentence, unlikely};
use crate::labels::FailureClass;
use crate::model::KindModel;
use crate::recommend::{Recommendation, Subject, recommend};

/// Evidence items kept per prediction.
pub const EVIDENCE: usize = 4;
/// Smallest contribution kept as evidence.
pub const MIN_WEIGHT: f64 = 0.005;

/// Where an ETA comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EtaSource {
    /// The trend of the signal that fails, extrapolated to its limit.
    Forecast,
    /// The median time such failures took in training.
    Typical,
}

/// A prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The likeliest failure (`none` when no class is likely at all).
    pub class: FailureClass,
    /// Its calibrated probability within the model's horizon.
    pub probability: f64,
    /// Whether it reaches the model's alarm threshold.
    pub alarm: bool,
    /// Its probability over its class's alarm threshold (1 or more alarms): what risks are
    /// ranked by.
    pub alarm_score: f64,
    /// Expected seconds until the failure.
    pub eta_seconds: Option<f64>,
    /// Where the ETA comes from.
    pub eta_source: Option<EtaSource>,
    /// The features that moved the prediction most.
    pub evidence: Vec<Evidence>,
    /// Why, in a sentence.
    pub explanation: String,
    /// What to do.
    pub recommendation: Recommendation,
}

/// Features forecasting when each class's signal reaches its limit, best first.
fn forecasts(class: FailureClass) -> &'static [&'static str] {
    match class {
        FailureClass::Oom => &[
            "memory_limit_ratio.trend_seconds_to_limit",
            "memory_limit_ratio.recent_seconds_to_limit",
            "memory_limit_ratio.seconds_to_limit",
        ],
        FailureClass::DiskPressure => &[
            "fs_used_ratio.trend_seconds_to_limit",
            "node_fs_used_ratio.trend_seconds_to_limit",
            "fs_used_ratio.recent_seconds_to_limit",
            "node_fs_used_ratio.recent_seconds_to_limit",
        ],
        FailureClass::CpuSaturation => &[
            "cpu_limit_ratio.trend_seconds_to_limit",
            "cpu_limit_ratio.recent_seconds_to_limit",
        ],
        FailureClass::CrashLoop => &["run_left_seconds.last"],
        _ => &[],
    }
}

/// Below this probability (and without an alarm) no failure is expected: the prediction has
/// no ETA and its explanation says so.
pub const UNLIKELY: f64 = 0.1;

/// A forecast is believed when it is this close (seconds).
const FORECAST_MAX_SECS: f64 = 3000.0;

/// The first believable forecast of when `class` comes (seconds): none past
/// [`FORECAST_MAX_SECS`], and none from a container that has outlived its earlier runs.
fn forecast(class: FailureClass, row: &Row<'_>) -> Option<f64> {
    forecasts(class)
        .iter()
        .filter_map(|f| row.get(f))
        .find(|s| (0.0..FORECAST_MAX_SECS).contains(s))
}

/// Predicts for `subject` from its window `values` (named as `km.features`).
pub fn predict(km: &KindModel, subject: &Subject, values: &[f64]) -> Prediction {
    let score = km.score(values);
    let row = Row {
        names: &km.features,
        values,
    };
    let (weights, _) = km.forest.contributions(values);
    let class = score.class;
    let alarm = km.alarms(&score);
    let likely = alarm || score.probability >= UNLIKELY;
    let forecast = forecast(class, &row);
    let (eta_seconds, eta_source) = match forecast {
        _ if !likely => (None, None),
        Some(s) => (Some(s), Some(EtaSource::Forecast)),
        None => match km.typical_eta_ms.get(class.index() as usize) {
            Some(&ms) if ms > 0 && class != FailureClass::None => {
                (Some(ms as f64 / 1000.0), Some(EtaSource::Typical))
            }
            _ => (None, None),
        },
    };
    Prediction {
        class,
        probability: score.probability,
        alarm,
        alarm_score: score.alarm_score,
        eta_seconds,
        eta_source,
        evidence: evidence(&row, &weights, EVIDENCE, MIN_WEIGHT),
        explanation: if likely {
            sentence(class, &row, eta_seconds)
        } else {
            unlikely(class, &row, score.probability)
        },
        recommendation: recommend(class, subject, &row, score.probability),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::tests::windows;
    use crate::train::{Fit, fit};

    #[test]
    fn a_climbing_window_is_predicted_explained_and_given_an_eta() {
        let (w, failures) = windows();
        let names = vec![
            "memory_limit_ratio.last".to_string(),
            "memory_limit_ratio.trend_seconds_to_limit".to_string(),
        ];
        let km = fit(&w, names, &failures, &[], &Fit::default(), &mut || {})
            .unwrap_or_else(|e| panic!("{e}"));
        let subject = Subject {
            namespace: "shop".into(),
            name: "cart-7d4b9c8f6d-x2x9z".into(),
        };
        let p = predict(&km, &subject, &[0.98, 120.0]);
        assert!(p.alarm && p.class == FailureClass::Oom, "{p:?}");
        assert_eq!(p.eta_seconds, Some(120.0));
        assert_eq!(p.eta_source, Some(EtaSource::Forecast));
        assert_eq!(p.evidence[0].feature, "memory_limit_ratio.last");
        assert!(
            p.explanation.contains("98% of its memory limit"),
            "{}",
            p.explanation
        );
        assert!(!p.recommendation.actions.is_empty());
        let calm = predict(&km, &subject, &[0.3, 3600.0]);
        assert!(!calm.alarm, "{calm:?}");
    }

    #[test]
    fn a_crash_loop_comes_when_the_earlier_runs_ended() {
        let names = vec!["run_left_seconds.last".to_string()];
        let at = |v: f64| {
            let values = [v];
            forecast(
                FailureClass::CrashLoop,
                &Row {
                    names: &names,
                    values: &values,
                },
            )
        };
        assert_eq!(at(280.0), Some(280.0));
        assert_eq!(at(-60.0), None);
        assert_eq!(at(f64::NAN), None);
        let values = [280.0];
        let row = Row {
            names: &names,
            values: &values,
        };
        assert_eq!(forecast(FailureClass::Oom, &row), None);
    }
}
