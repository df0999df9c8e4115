//! Scoring held-out windows with the model and its two baselines, and keeping what the report
//! needs: per-object score series for event-level scoring, the failures with their causes, the
//! model's confusion matrix and its calibration pairs.

use std::collections::{BTreeMap, HashMap};

use kubepulse_intel::baseline::{NODE_RULES, POD_RULES, RuleSet};
use kubepulse_intel::evaluate::{CLEAR, EventReport, EventScoring, Truth, score_events};
use kubepulse_intel::labels::{Failure, FailureClass, Horizon};
use kubepulse_intel::model::{FailureModel, KindModel};
use kubepulse_query::Engine;
use kubepulse_query::features::{ObjectKind, Silence, feature_names};
use kubepulse_sim::{FailureType, FaultKind};

use crate::training::{Episode, averted, baseline_rows, model_spec, windows_seen};

/// One predictor's alarm scores, by object in time order (for the forests, the calibrated
/// probability of the likeliest class over its class threshold).
pub struct Scores {
    /// What it is.
    pub name: &'static str,
    /// Object → `(t, score)`.
    pub by_object: BTreeMap<String, Vec<(i64, f64)>>,
    /// Its alarm threshold.
    pub threshold: f64,
}

/// Everything scored for one kind of object.
pub struct Scored {
    /// The model, the threshold rules, the CPU-and-node-count forest.
    pub predictors: [Scores; 3],
    /// Failures, keyed like the score series.
    pub failures: Vec<Failure>,
    /// `confusion[truth][predicted]`, window counts (labelled windows outside grace periods).
    pub confusion: Vec<Vec<usize>>,
    /// `(calibrated probability of the likeliest class, that class within the horizon)` of the
    /// same windows.
    pub calibration: Vec<(f64, bool)>,
    /// Event scoring settings.
    pub scoring: EventScoring,
    /// Nodes: seconds the scrape of node-exporter has failed, by object, window by window
    /// (every window, those of a failure's aftermath too).
    pub silence: BTreeMap<String, Vec<(i64, f64)>>,
    /// Nodes: when each node that failed crashed (its fault's start), keyed like the score
    /// series.
    pub crashes: Vec<(String, i64)>,
    /// Failure times, the times failures that were averted when their fault ended would have
    /// come (see [`averted`]) and the end of the data, by object, as event scoring takes them.
    pub truth: Truth,
    /// The model's windows at half its threshold or above, by object: `(t, class, calibrated
    /// probability)`.
    pub alarming: BTreeMap<String, Vec<(i64, FailureClass, f64)>>,
}

impl Scored {
    /// Event-level report of predictor `i` at `threshold`.
    pub fn events(&self, i: usize, threshold: f64) -> EventReport {
        score_events(
            &self.predictors[i].by_object,
            &self.truth,
            &EventScoring {
                threshold,
                ..self.scoring
            },
        )
    }

    /// Each failure with its lead time in `r` (scoring reports an object's failures in the
    /// order they were given, so the k-th outcome of an object is its k-th failure).
    pub fn paired<'a>(&'a self, r: &EventReport) -> Vec<(&'a Failure, Option<i64>)> {
        let mut by: HashMap<&str, Vec<&Failure>> = HashMap::new();
        for f in &self.failures {
            by.entry(f.object.as_str()).or_default().push(f);
        }
        let mut next: HashMap<&str, usize> = HashMap::new();
        r.outcomes
            .iter()
            .filter_map(|o| {
                let k = next.entry(o.object.as_str()).or_insert(0);
                let f = by.get(o.object.as_str())?.get(*k)?;
                *k += 1;
                Some((*f, o.lead))
            })
            .collect()
    }
}

/// Failure times by object, as event scoring takes them.
fn times(failures: &[Failure]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for f in failures {
        out.entry(f.object.clone()).or_default().push(f.t);
    }
    out
}

/// Objects the model gives at least this probability of a failure at some time are dumped.
const DUMP_PROBABILITY: f64 = 0.2;

/// Scores every window of `episodes` of `kind`; with `dump`, writes there (CSV) every window of
/// the objects that fail or that the model suspects, with its features, label and scores.
pub fn score(
    engine: &Engine,
    episodes: &[Episode],
    kind: ObjectKind,
    model: &FailureModel,
    mut dump: Option<&mut dyn std::io::Write>,
) -> anyhow::Result<Scored> {
    let (km, base): (&KindModel, &KindModel) = match kind {
        ObjectKind::Pod => (&model.pod, &model.baseline.pod),
        ObjectKind::Node => (&model.node, &model.baseline.node),
    };
    let rules = RuleSet::bind(
        match kind {
            ObjectKind::Pod => POD_RULES,
            ObjectKind::Node => NODE_RULES,
        },
        &feature_names(kind),
    );
    let spec = model_spec(model);
    let horizon = Horizon {
        ahead: model.horizon_ms,
        ..Horizon::default()
    };
    let n = FailureClass::ALL.len();
    let mut out = Scored {
        predictors: [
            scores("KubePulse model", 1.0),
            scores("threshold rules", 0.5),
            scores("forest on CPU and node count", 1.0),
        ],
        failures: Vec::new(),
        confusion: vec![vec![0; n]; n],
        calibration: Vec::new(),
        silence: BTreeMap::new(),
        crashes: Vec::new(),
        truth: Truth::default(),
        alarming: BTreeMap::new(),
        scoring: EventScoring {
            horizon: model.horizon_ms,
            step: model.step_ms,
            ..EventScoring::default()
        },
    };
    if let Some(d) = dump.as_mut() {
        writeln!(
            d,
            "object,t,label,to_failure_s,model,class,probability,rules,cpu_forest,{}",
            feature_names(kind).join(",")
        )?;
    }
    let silence = Silence::new(&feature_names(kind), &spec);
    let mut saved = Vec::new();
    for (i, ep) in episodes.iter().enumerate() {
        // The exporter's silence in every window, the aftermath of a failure included: a node
        // that crashes minutes after another failure is detected live all the same.
        let mut heard = |object: &str, t: i64, values: &[f64]| {
            if let Some(s) = &silence {
                out.silence
                    .entry(format!("{i}:{object}"))
                    .or_default()
                    .push((t, s.seconds(values)));
            }
        };
        let (w, episode_failures) = windows_seen(ep, engine, kind, spec, horizon, &mut heard)?;
        // Dumped: objects that fail, and objects the model gives a fair chance of failing.
        let mut dumped: std::collections::HashSet<String> =
            episode_failures.iter().map(|f| f.object.clone()).collect();
        if dump.is_some() {
            for r in 0..w.rows.len() {
                if km.score(&w.rows.row_f64(r)).probability >= DUMP_PROBABILITY {
                    dumped.insert(w.objects[r].clone());
                }
            }
        }
        (out.truth.data_end).extend(w.data_end.iter().map(|(o, end)| (format!("{i}:{o}"), *end)));
        let nodes = vec![ep.nodes as f64; w.rows.len()];
        let b = baseline_rows(kind, &w, &nodes)?;
        let first = w.times.iter().min().copied().unwrap_or(i64::MAX);
        for r in 0..w.rows.len() {
            let object = format!("{i}:{}", w.objects[r]);
            let t = w.times[r];
            let row = w.rows.row_f64(r);
            let sc = km.score(&row);
            let fail = sc.alarm_score;
            let base_fail = base.score(&b.rows.row_f64(r)).alarm_score;
            let rule = rules.fire(&row);
            if w.trainable[r] {
                let predicted = if km.alarms(&sc) {
                    sc.class.index() as usize
                } else {
                    0
                };
                let truth = w.labels[r] as usize;
                if let Some(cell) = out
                    .confusion
                    .get_mut(truth)
                    .and_then(|row| row.get_mut(predicted))
                {
                    *cell += 1;
                }
                out.calibration
                    .push((sc.probability, truth == sc.class.index() as usize));
            }
            if fail >= CLEAR {
                out.alarming
                    .entry(object.clone())
                    .or_default()
                    .push((t, sc.class, sc.probability));
            }
            let rule_score = if rule.is_some() { 1.0 } else { 0.0 };
            if let Some(d) = dump.as_mut()
                && dumped.contains(&w.objects[r])
            {
                let values: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
                writeln!(
                    d,
                    "{object},{t},{},{},{fail:.4},{},{:.4},{rule_score},{base_fail:.4},{}",
                    FailureClass::from_index(w.labels[r] as usize).name(),
                    w.to_failure[r] / 1000,
                    sc.class.name(),
                    sc.probability,
                    values.join(",")
                )?;
            }
            for (s, v) in out.predictors.iter_mut().zip([fail, rule_score, base_fail]) {
                s.by_object.entry(object.clone()).or_default().push((t, v));
            }
        }
        if kind == ObjectKind::Node {
            for f in &ep.truth.failures {
                let crash = f.fault.and_then(|id| ep.truth.fault(id));
                if f.failure_type == FailureType::NodeFailure
                    && f.t > first
                    && let Some(crash) = crash.filter(|c| c.kind == FaultKind::NodeFailure)
                {
                    out.crashes
                        .push((format!("{i}:{}", f.object.name), crash.start));
                }
            }
        }
        let scored = |mut f: Failure| {
            f.object = format!("{i}:{}", f.object);
            (f.t > first).then_some(f)
        };
        out.failures
            .extend(episode_failures.into_iter().filter_map(&scored));
        saved.extend(averted(ep, kind).into_iter().filter_map(&scored));
    }
    for s in &mut out.predictors {
        s.by_object
            .values_mut()
            .for_each(|v| v.sort_by_key(|x| x.0));
    }
    out.truth.failures = times(&out.failures);
    out.truth.averted = times(&saved);
    Ok(out)
}

fn scores(name: &'static str, threshold: f64) -> Scores {
    Scores {
        name,
        by_object: BTreeMap::new(),
        threshold,
    }
}

/// Seconds from each node crash (the fault's start) until its node is seen silent (its
/// exporter quiet for more than `silent_after` seconds), or `None` when it never is.
pub fn detections(s: &Scored, silent_after: f64) -> Vec<Option<f64>> {
    s.crashes
        .iter()
        .filter_map(|(node, crash)| {
            let seen = s
                .silence
                .get(node)?
                .iter()
                .find(|(t, secs)| t >= crash && *secs > silent_after)
                .map(|(t, _)| (t - crash) as f64 / 1000.0);
            Some(seen)
        })
        .collect()
}

/// Failures that ripen: the kinds a fault builds up to over minutes (a leak to an OOM kill, a
/// filling disk, a CPU hog to saturation, a bad rollout to a crash loop), whose cause had been
/// acting for at least [`RIPENING_RUNUP_MS`] when they came.
pub fn ripening(f: &Failure) -> bool {
    let kind = matches!(
        (f.class, f.cause.as_deref()),
        (FailureClass::Oom, Some("memory_leak"))
            | (FailureClass::DiskPressure, Some("disk_fill"))
            | (FailureClass::CpuSaturation, Some("cpu_hog"))
            | (FailureClass::CrashLoop, Some("bad_rollout"))
    );
    kind && f.runup.is_some_and(|r| r >= RIPENING_RUNUP_MS)
}

/// A failure ripens when its cause acted on the failing object at least this long before it
/// (ms; a pod is acted on from its creation at the earliest, any object from the end of its
/// previous failure's aftermath, whose windows are not scored): five minutes to
/// notice, five to announce.
pub const RIPENING_RUNUP_MS: i64 = 600_000;
