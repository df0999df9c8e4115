//! The live loop: every interval, every pod and node is scored from the store (their signal
//! windows kept between intervals, so only the newest step is evaluated); nodes that stopped
//! reporting are flagged at once (a node crash gives no warning, so it is detected instead of
//! predicted); the results are kept for the API and written back to the store as
//! `kubepulse_failure_probability`, `kubepulse_failure_eta_seconds` and `kubepulse_failure_alarm`.

use std::sync::Arc;

use kubepulse_api::predict::ObjectPrediction;
use kubepulse_intel::evaluate::CLEAR;
use kubepulse_intel::labels::FailureClass;
use kubepulse_intel::predict::{EtaSource, Prediction};
use kubepulse_intel::recommend::{Subject, recommend};
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::StoreSource;
use kubepulse_query::features::live::Tracker;
use kubepulse_query::features::silence::SILENT_STEPS;
use kubepulse_query::features::{ObjectKind, Silence, feature_names};
use kubepulse_store::events::EventQuery;
use kubepulse_store::{Append, Read, SeriesWrite};
use tracing::{debug, trace};

use super::{Predictor, score_rows};
use crate::training::model_spec;

/// Series written for each scored object.
pub const PROBABILITY: &str = "kubepulse_failure_probability";
/// Seconds until the expected failure.
pub const ETA: &str = "kubepulse_failure_eta_seconds";
/// 1 while the model alarms for the object.
pub const ALARM: &str = "kubepulse_failure_alarm";
/// 1, with the explanation and the recommendation as labels, for objects at risk (what alert
/// annotations quote).
pub const INFO: &str = "kubepulse_failure_info";
/// Failure probability from which the info series is written (its labels change as the
/// evidence does, so it is kept to objects at risk).
const INFO_FROM: f64 = 0.5;

/// The predictor with the store it reads and writes, as a periodic job.
pub struct Scoring {
    /// The predictor.
    pub predictor: Arc<Predictor>,
    /// Where signals are read.
    pub read: Arc<dyn Read>,
    /// Where scores are written.
    pub append: Arc<dyn Append>,
}

impl crate::periodic::Job for Scoring {
    fn name(&self) -> &'static str {
        "failure scoring"
    }

    fn run(&self) -> anyhow::Result<()> {
        score_once(&self.predictor, self.read.as_ref(), self.append.as_ref())
    }
}

/// Scores every object once, at the clock's now.
pub fn score_once(p: &Predictor, read: &dyn Read, append: &dyn Append) -> anyhow::Result<()> {
    let Some(model) = p.model() else {
        return Ok(());
    };
    let watch = Stopwatch::start();
    let now = p.clock.now_ms();
    let spec = model_spec(&model);
    let events = read.events(&EventQuery {
        start: now - spec.long_window,
        end: now,
        limit: 200_000,
        ..EventQuery::default()
    })?;
    let src = StoreSource(read);
    let mut scored = Vec::new();
    let silence = Silence::new(&feature_names(ObjectKind::Node), &spec);
    let silent_after = SILENT_STEPS * spec.step as f64 / 1000.0;
    let mut silent = std::collections::HashMap::new();
    {
        let mut guard = p
            .trackers
            .lock()
            .map_err(|_| anyhow::anyhow!("prediction state poisoned"))?;
        let trackers = guard.get_or_insert_with(|| {
            [
                Tracker::new(ObjectKind::Pod, spec),
                Tracker::new(ObjectKind::Node, spec),
            ]
        });
        for t in trackers.iter_mut() {
            let rows = t.advance(&p.engine, &src, &events, now)?;
            for r in rows.iter().filter(|r| r.kind == ObjectKind::Node) {
                let secs = silence.as_ref().map_or(0.0, |s| s.seconds(&r.values));
                if secs > silent_after {
                    silent.insert(r.name.clone(), secs);
                }
            }
            scored.extend(score_rows(&model, rows, &p.cluster));
        }
    }
    hold_alarms(p, &mut scored);
    for s in scored.iter_mut().filter(|s| s.subject.kind == "node") {
        if let Some(secs) = silent.get(&s.subject.name) {
            s.prediction = detected_down(&s.subject.name, *secs);
        }
    }
    scored.sort_by(|a, b| {
        b.prediction
            .alarm_score
            .total_cmp(&a.prediction.alarm_score)
    });
    write(append, &scored, now)?;
    for s in &scored {
        trace!(
            object = %format_args!("{}/{}", s.subject.namespace, s.subject.name),
            class = s.prediction.class.name(),
            probability = s.prediction.probability,
            signals = ?s.metrics,
            "scored object"
        );
    }
    debug!(
        objects = scored.len(),
        alarms = scored.iter().filter(|s| s.prediction.alarm).count(),
        seconds = watch.elapsed_secs(),
        "scored"
    );
    if let Ok(mut g) = p.latest.write() {
        *g = (now, Arc::new(scored));
    }
    Ok(())
}

/// Alarms hold while the score stays above the clear level, as in evaluation.
fn hold_alarms(p: &Predictor, scored: &mut [ObjectPrediction]) {
    let Ok(mut alarming) = p.alarming.lock() else {
        return;
    };
    let mut now = std::collections::HashSet::new();
    for s in scored.iter_mut() {
        let key = format!(
            "{}/{}/{}",
            s.subject.kind, s.subject.namespace, s.subject.name
        );
        let x = &mut s.prediction;
        x.alarm = x.alarm_score >= 1.0 || (alarming.contains(&key) && x.alarm_score >= CLEAR);
        if x.alarm {
            now.insert(key);
        }
    }
    *alarming = now;
}

/// A node failure seen happening: its exporter went silent.
fn detected_down(node: &str, silent_secs: f64) -> Prediction {
    let subject = Subject {
        namespace: String::new(),
        name: node.to_string(),
    };
    Prediction {
        class: FailureClass::NodeFailure,
        probability: 1.0,
        alarm: true,
        alarm_score: f64::MAX,
        eta_seconds: Some(0.0),
        eta_source: Some(EtaSource::Forecast),
        evidence: Vec::new(),
        explanation: format!(
            "{node} stopped reporting {silent_secs:.0} s ago: node-exporter is silent (detected, not predicted: a crash gives no warning)"
        ),
        recommendation: recommend(
            FailureClass::NodeFailure,
            &subject,
            &kubepulse_intel::explain::Row {
                names: &[],
                values: &[],
            },
            1.0,
        ),
    }
}

/// A series' labels, borrowed.
type Labels<'a> = Vec<(&'a str, &'a str)>;

/// Writes each object's probability, ETA and alarm at `t`.
fn write(append: &dyn Append, scored: &[ObjectPrediction], t: i64) -> anyhow::Result<()> {
    let mut owned: Vec<(Labels<'_>, [(i64, f64); 1])> = Vec::new();
    for s in scored {
        let x = &s.prediction;
        let class = x.class.name();
        let mut ids: Vec<(&str, &str)> = match s.subject.kind.as_str() {
            "pod" => vec![
                ("namespace", s.subject.namespace.as_str()),
                ("pod", s.subject.name.as_str()),
            ],
            _ => vec![("node", s.subject.name.as_str())],
        };
        ids.push(("type", class));
        let mut series = |name: &'static str, v: f64| {
            let mut labels = vec![("__name__", name)];
            labels.extend(ids.iter().copied());
            labels.sort_unstable();
            owned.push((labels, [(t, v)]));
        };
        series(PROBABILITY, x.probability);
        series(ALARM, f64::from(u8::from(x.alarm)));
        if let Some(eta) = x.eta_seconds {
            series(ETA, eta);
        }
        if x.probability >= INFO_FROM || x.alarm {
            let mut labels = vec![
                ("__name__", INFO),
                ("explanation", x.explanation.as_str()),
                ("recommendation", x.recommendation.description.as_str()),
            ];
            labels.extend(ids.iter().copied());
            labels.sort_unstable();
            owned.push((labels, [(t, 1.0)]));
        }
    }
    let batch: Vec<SeriesWrite<'_>> = owned
        .iter()
        .map(|(labels, samples)| SeriesWrite { labels, samples })
        .collect();
    append.append(&batch)?;
    Ok(())
}
