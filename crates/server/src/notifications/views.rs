//! The pipeline seen through Alertmanager's API.

use std::collections::BTreeMap;

use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_alert::notify::dispatch::Dispatcher;
use kubepulse_alert::notify::payload::fingerprint;
use kubepulse_alert::notify::silence::Silence;
use kubepulse_api::alertmanager::json::{ReceiverRef, StatusView};
use kubepulse_api::alertmanager::{
    AlertView, AlertmanagerService, Feedback, FeedbackRequest, GroupView,
};
use kubepulse_model::format_rfc3339;
use serde_json::json;

use super::Notifications;

fn view(d: &Dispatcher, a: &PipelineAlert, now: i64) -> AlertView {
    let st = d.status(&a.labels, now);
    let mut receivers: Vec<String> = d
        .route
        .matching(&a.labels)
        .iter()
        .map(|r| r.receiver.clone())
        .collect();
    receivers.dedup();
    let suppressed = !st.silenced_by.is_empty() || !st.inhibited_by.is_empty();
    AlertView {
        labels: a
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect(),
        annotations: a.annotations.clone(),
        starts_at: format_rfc3339(a.starts_at),
        ends_at: format_rfc3339(a.ends_at),
        updated_at: format_rfc3339(a.updated_at),
        generator_url: a.generator_url.clone(),
        fingerprint: fingerprint(a),
        receivers: receivers
            .into_iter()
            .map(|name| ReceiverRef { name })
            .collect(),
        status: StatusView {
            state: if suppressed { "suppressed" } else { "active" }.into(),
            silenced_by: st.silenced_by,
            inhibited_by: st
                .inhibited_by
                .iter()
                .map(|f| format!("{f:016x}"))
                .collect(),
        },
    }
}

impl AlertmanagerService for Notifications {
    fn alerts(&self) -> Vec<AlertView> {
        let now = self.clock.now_ms();
        let Ok(d) = self.dispatcher.lock() else {
            return Vec::new();
        };
        d.state
            .alerts
            .alerts
            .values()
            .filter(|a| !a.resolved(now))
            .map(|a| view(&d, a, now))
            .collect()
    }

    fn groups(&self) -> Vec<GroupView> {
        let now = self.clock.now_ms();
        let Ok(d) = self.dispatcher.lock() else {
            return Vec::new();
        };
        d.state
            .groups
            .values()
            .map(|g| GroupView {
                labels: g
                    .labels
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect(),
                receiver: ReceiverRef {
                    name: g.receiver.clone(),
                },
                alerts: g
                    .alerts
                    .iter()
                    .filter_map(|fp| d.state.alerts.alerts.get(fp))
                    .filter(|a| !a.resolved(now))
                    .map(|a| view(&d, a, now))
                    .collect(),
            })
            .filter(|g| !g.alerts.is_empty())
            .collect()
    }

    fn post_alerts(&self, alerts: Vec<PipelineAlert>) -> Result<(), String> {
        let now = self.clock.now_ms();
        let mut d = self
            .dispatcher
            .lock()
            .map_err(|_| "notification state poisoned")?;
        for a in alerts {
            d.receive(a, now);
        }
        Ok(())
    }

    fn silences(&self) -> Vec<Silence> {
        self.dispatcher
            .lock()
            .map(|d| d.state.silences.by_id.values().cloned().collect())
            .unwrap_or_default()
    }

    fn upsert_silence(&self, s: Silence) -> Result<String, String> {
        let now = self.clock.now_ms();
        let mut d = self
            .dispatcher
            .lock()
            .map_err(|_| "notification state poisoned")?;
        d.state.silences.upsert(s, now)
    }

    fn expire_silence(&self, id: &str) -> Result<(), String> {
        let now = self.clock.now_ms();
        let mut d = self
            .dispatcher
            .lock()
            .map_err(|_| "notification state poisoned")?;
        d.state.silences.expire(id, now)
    }

    fn status(&self) -> (String, i64) {
        let yaml = self
            .loaded
            .read()
            .map(|l| l.yaml.clone())
            .unwrap_or_default();
        (yaml, self.started)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn feedback(&self, f: FeedbackRequest) -> Result<Feedback, String> {
        let now = self.clock.now_ms();
        let found = {
            let d = self
                .dispatcher
                .lock()
                .map_err(|_| "notification state poisoned")?;
            d.state
                .alerts
                .alerts
                .values()
                .find(|a| {
                    f.fingerprint.as_deref() == Some(fingerprint(a).as_str())
                        || f.labels.as_ref().is_some_and(|l| {
                            let have: BTreeMap<String, String> = a
                                .labels
                                .iter()
                                .map(|x| (x.name.clone(), x.value.clone()))
                                .collect();
                            &have == l
                        })
                })
                .cloned()
        };
        let a = found.ok_or("no alert with that fingerprint or labels")?;
        let rec = Feedback {
            verdict: f.verdict,
            comment: f.comment,
            author: f.author,
            labels: a
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
            context: json!({
                "annotations": a.annotations,
                "startsAt": format_rfc3339(a.starts_at),
                "endsAt": format_rfc3339(a.ends_at),
                "resolved": a.resolved(now),
                "fingerprint": fingerprint(&a),
            }),
            at: format_rfc3339(now),
        };
        self.feedback.append(&rec)?;
        Ok(rec)
    }

    fn feedback_list(&self) -> Vec<Feedback> {
        self.feedback.all()
    }
}
