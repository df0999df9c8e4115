//! An alerting rule's state machine, as Prometheus runs it: each result sample becomes a
//! pending alert keyed by its labels, fires once it has been active for the rule's `for`, keeps
//! firing for `keep_firing_for` after its condition is gone, and is reported as resolved for 15
//! minutes before it is forgotten. The `ALERTS` and `ALERTS_FOR_STATE` series are its output.

use std::collections::{BTreeMap, HashSet};

use kubepulse_model::{Labels, LabelsBuilder, METRIC_NAME};
use kubepulse_query::{QueryValue, Sample};
use serde::{Deserialize, Serialize};

use crate::error::AlertError;
use crate::rulefile::{Rule, RuleKind};
use crate::template::{QueryContext, TemplateData, expand};

/// How long a resolved alert is kept (and re-sent as resolved).
pub const RESOLVED_RETENTION: i64 = 15 * 60_000;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Resolved, kept for a while.
    Inactive,
    /// Active for less than the rule's `for`.
    Pending,
    /// Firing.
    Firing,
}

impl AlertState {
    /// The word Prometheus uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Pending => "pending",
            Self::Firing => "firing",
        }
    }
}

/// One alert of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifying labels, `alertname` included.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// State.
    pub state: AlertState,
    /// The last value of the expression.
    pub value: f64,
    /// When it became active (ms).
    pub active_at: i64,
    /// When it started firing (ms), 0 when it has not.
    #[serde(default)]
    pub fired_at: i64,
    /// When it was resolved (ms), 0 while active.
    #[serde(default)]
    pub resolved_at: i64,
    /// When it was last handed to the notifier (ms), 0 when never.
    #[serde(default)]
    pub last_sent_at: i64,
    /// Until when the last notification holds (ms).
    #[serde(default)]
    pub valid_until: i64,
    /// Since when it keeps firing without its condition (ms), 0 when not.
    #[serde(default)]
    pub keep_firing_since: i64,
}

impl Alert {
    /// Whether the notifier should be given this alert at `t`: firing or resolved, and not
    /// sent since it was resolved or within the last `resend_delay`.
    pub fn needs_sending(&self, t: i64, resend_delay: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if self.last_sent_at == 0 || self.resolved_at > self.last_sent_at {
            return true;
        }
        self.last_sent_at + resend_delay < t
    }
}

/// What rules need around them when they evaluate.
pub struct RuleEnv<'a> {
    /// Labels of this KubePulse (`$externalLabels`).
    pub external_labels: &'a Labels,
    /// Where users reach KubePulse (`$externalURL`).
    pub external_url: &'a str,
    /// For the `query` template function.
    pub query: Option<&'a QueryContext>,
}

/// An alerting rule with its alerts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertingState {
    /// Alerts by the fingerprint of their labels.
    pub active: BTreeMap<u64, Alert>,
}

/// Samples that name the same series twice cannot be alerts.
const DUPLICATE: &str =
    "vector contains metrics with the same labelset after applying alert labels";

impl AlertingState {
    /// Evaluates `rule` with the expression's `result` at `t`; returns the `ALERTS` and
    /// `ALERTS_FOR_STATE` samples.
    pub fn eval(
        &mut self,
        rule: &Rule,
        result: QueryValue,
        t: i64,
        limit: usize,
        env: &RuleEnv<'_>,
    ) -> Result<Vec<Sample>, AlertError> {
        let RuleKind::Alerting {
            alert: name,
            hold,
            keep_firing_for,
            annotations,
        } = &rule.kind
        else {
            return Err(AlertError::Eval("not an alerting rule".into()));
        };
        let samples = crate::recording::vector(result, t)?;
        let mut fresh: BTreeMap<u64, Alert> = BTreeMap::new();
        for s in samples {
            let data = TemplateData {
                labels: &s.labels,
                external_labels: env.external_labels,
                external_url: env.external_url,
                value: s.v,
            };
            let mut b: LabelsBuilder = s.labels.to_builder();
            b.remove(METRIC_NAME);
            for (k, v) in &rule.labels {
                b.set(k.clone(), expand(name, v, &data, env.query));
            }
            b.set("alertname", name.clone());
            let labels = b.build();
            let ann = annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand(name, v, &data, env.query)))
                .collect();
            let fp = labels.fingerprint();
            let alert = Alert {
                labels,
                annotations: ann,
                state: AlertState::Pending,
                value: s.v,
                active_at: t,
                fired_at: 0,
                resolved_at: 0,
                last_sent_at: 0,
                valid_until: 0,
                keep_firing_since: 0,
            };
            if fresh.insert(fp, alert).is_some() {
                return Err(AlertError::Eval(DUPLICATE.into()));
            }
        }
        let seen: HashSet<u64> = fresh.keys().copied().collect();
        for (fp, a) in fresh {
            match self.active.get_mut(&fp) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(fp, a);
                }
            }
        }
        let mut out = Vec::new();
        let mut active_pending = 0usize;
        let mut gone = Vec::new();
        for (fp, a) in self.active.iter_mut() {
            if !seen.contains(fp) {
                let mut keep = false;
                if a.state == AlertState::Firing && *keep_firing_for > 0 {
                    if a.keep_firing_since == 0 {
                        a.keep_firing_since = t;
                    }
                    keep = t - a.keep_firing_since < *keep_firing_for;
                }
                if a.state == AlertState::Pending
                    || (a.resolved_at != 0 && t - a.resolved_at > RESOLVED_RETENTION)
                {
                    gone.push(*fp);
                }
                if a.state != AlertState::Inactive && !keep {
                    a.state = AlertState::Inactive;
                    a.resolved_at = t;
                }
                if !keep {
                    continue;
                }
            } else {
                a.keep_firing_since = 0;
            }
            active_pending += 1;
            if a.state == AlertState::Pending && t - a.active_at >= *hold {
                a.state = AlertState::Firing;
                a.fired_at = t;
            }
            out.push(alerts_sample(a, t));
            out.push(for_state_sample(a, t));
        }
        for fp in gone {
            self.active.remove(&fp);
        }
        if limit > 0 && active_pending > limit {
            self.active.clear();
            return Err(AlertError::Eval(format!(
                "exceeded limit of {limit} with {active_pending} alerts"
            )));
        }
        Ok(out)
    }

    /// Alerts that are pending or firing, and resolved ones still kept, sorted by labels.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// Marks the alerts that need sending at `t` as sent and returns copies of them.
    pub fn take_to_send(&mut self, t: i64, resend_delay: i64, interval: i64) -> Vec<Alert> {
        let mut out = Vec::new();
        for a in self.active.values_mut() {
            if a.needs_sending(t, resend_delay) {
                a.last_sent_at = t;
                a.valid_until = t + 4 * resend_delay.max(interval);
                out.push(a.clone());
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

fn with_name(labels: &Labels, name: &str, state: Option<AlertState>) -> Labels {
    let mut b = labels.to_builder();
    b.set(METRIC_NAME, name);
    if let Some(s) = state {
        b.set("alertstate", s.as_str());
    }
    b.build()
}

/// `ALERTS{alertstate="pending|firing", …} 1`.
fn alerts_sample(a: &Alert, t: i64) -> Sample {
    Sample {
        labels: with_name(&a.labels, "ALERTS", Some(a.state)),
        t,
        v: 1.0,
    }
}

/// `ALERTS_FOR_STATE{…}`: when the alert became active, in Unix seconds.
fn for_state_sample(a: &Alert, t: i64) -> Sample {
    Sample {
        labels: with_name(&a.labels, "ALERTS_FOR_STATE", None),
        t,
        v: (a.active_at / 1000) as f64,
    }
}

#[cfg(test)]
#[path = "alerting/tests.rs"]
mod tests;
