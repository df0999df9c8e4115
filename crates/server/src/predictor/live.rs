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
use kubepulse_model::STALE_NAN;
use kubepulse_model::clock::Stopwatch;
use kubepulse_query::StoreSource;
use kubepulse_query::features::live::Tracker;
use kubepulse_query::features::silence::Down;
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
    let mut down = std::collections::HashMap::new();
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
                if let Some(why) = silence.as_ref().and_then(|s| s.down(&r.values)) {
                    down.insert(r.name.clone(), why);
                }
            }
            scored.extend(score_rows(&model, rows, &p.cluster));
        }
    }
    hold_alarms(p, &mut scored);
    for s in scored.iter_mut().filter(|s| s.subject.kind == "node") {
        if let Some(why) = down.get(&s.subject.name) {
            s.prediction = detected_down(&s.subject.name, *why);
        }
    }
    scored.sort_by(|a, b| {
        b.prediction
            .alarm_score
            .total_cmp(&a.prediction.alarm_score)
    });
    {
        let mut written = p
            .written
            .lock()
            .map_err(|_| anyhow::anyhow!("prediction state poisoned"))?;
        write(append, &scored, now, &mut written)?;
    }
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
fn detected_down(node: &str, why: Down) -> Prediction {
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
        explanation: match why {
            Down::Silent(secs) => format!(
                "{node} stopped reporting {secs:.0} s ago: node-exporter is silent (detected, not predicted: a crash gives no warning)"
            ),
            Down::NotReady => format!(
                "{node} is NotReady: its kubelet stopped posting status (detected, not predicted: a crash gives no warning)"
            ),
        },
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
fn write(
    append: &dyn Append,
    scored: &[ObjectPrediction],
    t: i64,
    written: &mut Written,
) -> anyhow::Result<()> {
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
    let now: Written = owned
        .iter()
        .map(|(labels, _)| {
            labels
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect()
        })
        .collect();
    let gone: Vec<Vec<(&str, &str)>> = written
        .difference(&now)
        .map(|l| l.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
        .collect();
    let stale = [(t, STALE_NAN)];
    let batch: Vec<SeriesWrite<'_>> = owned
        .iter()
        .map(|(labels, samples)| SeriesWrite { labels, samples })
        .chain(gone.iter().map(|labels| SeriesWrite {
            labels,
            samples: &stale,
        }))
        .collect();
    append.append(&batch)?;
    *written = now;
    Ok(())
}

/// Label sets of series written by a scoring.
pub type Written = std::collections::HashSet<Vec<(String, String)>>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use kubepulse_api::predict::Subject as ApiSubject;
    use kubepulse_model::ManualClock;
    use kubepulse_query::{Engine, QueryValue};
    use kubepulse_store::{Db, StoreConfig};

    use super::*;

    const T0: i64 = 1_767_225_600_000;

    fn scored(node: &str, class: FailureClass) -> ObjectPrediction {
        let mut prediction = detected_down(node, Down::Silent(30.0));
        prediction.class = class;
        ObjectPrediction {
            t: T0,
            cluster_id: "sim".into(),
            subject: ApiSubject {
                kind: "node".into(),
                namespace: String::new(),
                name: node.into(),
            },
            prediction,
            metrics: BTreeMap::new(),
        }
    }

    fn types(db: &Db, t: i64) -> Vec<String> {
        let q = Engine::default()
            .instant(
                &kubepulse_query::StoreSource(db),
                "kubepulse_failure_alarm",
                t,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let QueryValue::Vector(v) = q.value else {
            panic!("{:?}", q.value);
        };
        let mut out: Vec<String> = v
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    s.labels.get("node").unwrap_or(""),
                    s.labels.get("type").unwrap_or("")
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn series_not_written_again_are_marked_stale() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(ManualClock::new(T0));
        let (db, _) = Db::open(&dir.path().join("data"), StoreConfig::default(), clock)?;
        let mut written = Written::default();
        let first = [
            scored("node-1", FailureClass::DiskPressure),
            scored("node-2", FailureClass::DiskPressure),
        ];
        write(&db, &first, T0, &mut written)?;
        assert_eq!(
            types(&db, T0),
            ["node-1/disk_pressure", "node-2/disk_pressure"]
        );
        // node-1's likeliest failure changes; node-2 is gone.
        let second = [scored("node-1", FailureClass::NodeFailure)];
        write(&db, &second, T0 + 15_000, &mut written)?;
        assert_eq!(types(&db, T0 + 15_000), ["node-1/node_failure"]);
        assert_eq!(types(&db, T0 + 60_000), ["node-1/node_failure"]);
        Ok(())
    }
}
