//! A rule group at run time: its rules evaluated in order at one timestamp, each seeing what
//! the rules before it recorded; series a rule stops producing are marked stale; alerts that
//! need notifying are handed out.

use std::collections::BTreeMap;
use std::sync::Arc;

use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Labels, STALE_NAN};
use kubepulse_query::{Engine, Sample, Source};
use serde::{Deserialize, Serialize};

use crate::alerting::{Alert, AlertingState, RuleEnv};
use crate::error::AlertError;
use crate::recording;
use crate::rulefile::{Rule, RuleGroup, RuleKind};
use crate::template::QueryContext;

/// A rule's health after its last evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not evaluated yet.
    #[default]
    Unknown,
    /// Evaluated without error.
    Ok,
    /// The last evaluation failed.
    Err,
}

impl Health {
    /// Prometheus' word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Ok => "ok",
            Self::Err => "err",
        }
    }
}

/// A rule with what its evaluations left.
#[derive(Debug, Clone)]
pub struct RuleRun {
    /// The rule.
    pub rule: Rule,
    /// Its alerts (alerting rules).
    pub alerts: AlertingState,
    /// Health.
    pub health: Health,
    /// The last error.
    pub last_error: Option<String>,
    /// The last evaluation's time (ms), 0 before the first.
    pub last_eval: i64,
    /// How long the last evaluation took (s).
    pub eval_seconds: f64,
    /// Series written by the last successful evaluation, by fingerprint.
    written: BTreeMap<u64, Labels>,
}

/// A group and its rules' state.
#[derive(Debug, Clone)]
pub struct Group {
    /// The group as loaded.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Evaluation interval (ms).
    pub interval: i64,
    /// Limit on alerts or series per rule; 0 for none.
    pub limit: usize,
    /// The rules.
    pub rules: Vec<RuleRun>,
    /// The last evaluation's time (ms).
    pub last_eval: i64,
    /// How long the last evaluation took (s).
    pub eval_seconds: f64,
}

/// Everything a group's evaluation reads.
pub struct EvalContext<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The samples, rule outputs included as soon as they are written.
    pub source: Arc<dyn Source + Send + Sync>,
    /// `$externalLabels`.
    pub external_labels: &'a Labels,
    /// `$externalURL`.
    pub external_url: &'a str,
    /// Least time between two notifications of the same firing alert (ms).
    pub resend_delay: i64,
}

/// Appends rule outputs to a store, one sample per series.
pub fn append_samples(
    append: &dyn kubepulse_store::Append,
    samples: &[Sample],
) -> Result<(), String> {
    let labels: Vec<Vec<(&str, &str)>> = samples
        .iter()
        .map(|s| {
            s.labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect()
        })
        .collect();
    let values: Vec<[(i64, f64); 1]> = samples.iter().map(|s| [(s.t, s.v)]).collect();
    let batch: Vec<kubepulse_store::SeriesWrite<'_>> = labels
        .iter()
        .zip(&values)
        .map(|(l, v)| kubepulse_store::SeriesWrite {
            labels: l,
            samples: v,
        })
        .collect();
    append.append(&batch).map(|_| ()).map_err(|e| e.to_string())
}

/// Where a group's outputs go: recorded samples, then alerts to notify.
pub trait Sink {
    /// Stores samples; later rules of the group read them.
    fn write(&mut self, samples: &[Sample]) -> Result<(), String>;
    /// Alerts of rule `rule` (its expression) that need notifying.
    fn notify(&mut self, rule: &Rule, alerts: Vec<Alert>);
}

impl Group {
    /// A group ready to run; `default_interval` (ms) applies when the group sets none.
    pub fn new(def: RuleGroup, default_interval: i64) -> Self {
        Self {
            interval: def.interval.unwrap_or(default_interval),
            name: def.name,
            file: def.file,
            limit: def.limit,
            rules: def
                .rules
                .into_iter()
                .map(|rule| RuleRun {
                    rule,
                    alerts: AlertingState::default(),
                    health: Health::Unknown,
                    last_error: None,
                    last_eval: 0,
                    eval_seconds: 0.0,
                    written: BTreeMap::new(),
                })
                .collect(),
            last_eval: 0,
            eval_seconds: 0.0,
        }
    }

    /// A key naming the group across reloads.
    pub fn key(&self) -> String {
        format!("{};{}", self.file, self.name)
    }

    /// Takes over the alert state of the same rules in `old` (a reload keeps firing alerts).
    pub fn adopt(&mut self, old: &mut Group) {
        for r in &mut self.rules {
            if let Some(o) = old
                .rules
                .iter_mut()
                .find(|o| o.rule.name() == r.rule.name() && o.rule.expr == r.rule.expr)
            {
                r.alerts = std::mem::take(&mut o.alerts);
                r.written = std::mem::take(&mut o.written);
                r.health = o.health;
                r.last_error = o.last_error.take();
                r.last_eval = o.last_eval;
            }
        }
        self.last_eval = old.last_eval;
    }

    /// Evaluates every rule at `t` (ms).
    pub fn eval(&mut self, t: i64, ctx: &EvalContext<'_>, sink: &mut dyn Sink) {
        let group_watch = Stopwatch::start();
        let query = QueryContext {
            engine: ctx.engine.clone(),
            source: ctx.source.clone(),
            t,
        };
        let env = RuleEnv {
            external_labels: ctx.external_labels,
            external_url: ctx.external_url,
            query: Some(&query),
        };
        for run in &mut self.rules {
            let watch = Stopwatch::start();
            let result = eval_rule(run, t, ctx, &env, self.limit);
            run.last_eval = t;
            let result = result.and_then(|samples| {
                let mut out = samples;
                let now: BTreeMap<u64, Labels> = out
                    .iter()
                    .map(|s| (s.labels.fingerprint(), s.labels.clone()))
                    .collect();
                for (fp, l) in &run.written {
                    if !now.contains_key(fp) {
                        out.push(Sample {
                            labels: l.clone(),
                            t,
                            v: STALE_NAN,
                        });
                    }
                }
                sink.write(&out).map_err(AlertError::Eval)?;
                run.written = now;
                Ok(())
            });
            match result {
                Ok(()) => {
                    run.health = Health::Ok;
                    run.last_error = None;
                }
                Err(e) => {
                    tracing::warn!(group = %self.name, rule = %run.rule.name(), error = %e, "rule evaluation failed");
                    run.health = Health::Err;
                    run.last_error = Some(e.to_string());
                }
            }
            if matches!(run.rule.kind, RuleKind::Alerting { .. }) {
                let to_send = run.alerts.take_to_send(t, ctx.resend_delay, self.interval);
                if !to_send.is_empty() {
                    sink.notify(&run.rule, to_send);
                }
            }
            run.eval_seconds = watch.elapsed_secs();
        }
        self.last_eval = t;
        self.eval_seconds = group_watch.elapsed_secs();
    }

    /// Every alert of the group's alerting rules that is pending or firing.
    pub fn active_alerts(&self) -> impl Iterator<Item = (&RuleRun, &Alert)> {
        self.rules.iter().flat_map(|r| {
            r.alerts
                .alerts()
                .into_iter()
                .filter(|a| a.state != crate::alerting::AlertState::Inactive)
                .map(move |a| (r, a))
        })
    }
}

fn eval_rule(
    run: &mut RuleRun,
    t: i64,
    ctx: &EvalContext<'_>,
    env: &RuleEnv<'_>,
    limit: usize,
) -> Result<Vec<Sample>, AlertError> {
    let result = ctx
        .engine
        .instant_expr(ctx.source.as_ref(), &run.rule.parsed, t)
        .map_err(|e| AlertError::Eval(e.to_string()))?;
    match &run.rule.kind {
        RuleKind::Recording { record } => {
            recording::eval(record, &run.rule.labels, result.value, t, limit)
        }
        RuleKind::Alerting { .. } => run.alerts.eval(&run.rule, result.value, t, limit, env),
    }
}
