//! What a notification says, in Alertmanager's webhook JSON (version 4) and as the readable
//! text Slack and email show: status, the group, common labels and annotations, and each
//! alert with its times, link and fingerprint.

use std::collections::BTreeMap;

use kubepulse_model::{Labels, format_rfc3339};
use serde_json::{Value, json};

use super::alerts::PipelineAlert;
use super::dispatch::Notification;

/// Go's zero time as Alertmanager writes an unset end.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// Labels every alert of the notification carries with the same value.
pub fn common_labels(alerts: &[PipelineAlert]) -> BTreeMap<String, String> {
    let mut it = alerts.iter();
    let Some(first) = it.next() else {
        return BTreeMap::new();
    };
    let mut common = map(&first.labels);
    for a in it {
        common.retain(|k, v| a.labels.get(k) == Some(v.as_str()));
    }
    common
}

/// Annotations every alert carries with the same value.
pub fn common_annotations(alerts: &[PipelineAlert]) -> BTreeMap<String, String> {
    let mut it = alerts.iter();
    let Some(first) = it.next() else {
        return BTreeMap::new();
    };
    let mut common = first.annotations.clone();
    for a in it {
        common.retain(|k, v| a.annotations.get(k) == Some(v));
    }
    common
}

/// `firing` when any alert fires at `now`, else `resolved`.
pub fn status(alerts: &[PipelineAlert], now: i64) -> &'static str {
    if alerts.iter().any(|a| !a.resolved(now)) {
        "firing"
    } else {
        "resolved"
    }
}

/// Alertmanager's fingerprint notation: 16 hex digits.
pub fn fingerprint(a: &PipelineAlert) -> String {
    format!("{:016x}", a.fingerprint())
}

/// One alert as Alertmanager's webhook and API write it.
pub fn alert_json(a: &PipelineAlert, now: i64) -> Value {
    json!({
        "status": if a.resolved(now) { "resolved" } else { "firing" },
        "labels": map(&a.labels),
        "annotations": a.annotations,
        "startsAt": format_rfc3339(a.starts_at),
        "endsAt": if a.ends_at == 0 { ZERO_TIME.to_string() } else { format_rfc3339(a.ends_at) },
        "generatorURL": a.generator_url,
        "fingerprint": fingerprint(a),
    })
}

/// Alertmanager's webhook message, version 4, with at most `max_alerts` alerts (0: all).
pub fn webhook(n: &Notification, external_url: &str, max_alerts: usize) -> Value {
    let keep = if max_alerts == 0 {
        n.alerts.len()
    } else {
        max_alerts.min(n.alerts.len())
    };
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": n.alerts.len() - keep,
        "status": status(&n.alerts, n.at),
        "receiver": n.receiver,
        "groupLabels": map(&n.group_labels),
        "commonLabels": common_labels(&n.alerts),
        "commonAnnotations": common_annotations(&n.alerts),
        "externalURL": external_url,
        "alerts": n.alerts[..keep].iter().map(|a| alert_json(a, n.at)).collect::<Vec<_>>(),
    })
}

/// Labels naming the affected Kubernetes object, most specific first.
const OBJECT_LABELS: [&str; 8] = [
    "namespace",
    "pod",
    "container",
    "deployment",
    "statefulset",
    "node",
    "instance",
    "job",
];

/// The affected objects of an alert: `namespace=shop pod=cart-1`.
pub fn object(a: &PipelineAlert) -> String {
    OBJECT_LABELS
        .iter()
        .filter_map(|k| a.labels.get(k).map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The subject line: `[FIRING:2] KubePodCrashLooping (shop warning)`.
pub fn title(n: &Notification) -> String {
    let firing = n.alerts.iter().filter(|a| !a.resolved(n.at)).count();
    let head = if firing > 0 {
        format!("[FIRING:{firing}]")
    } else {
        "[RESOLVED]".to_string()
    };
    let common = common_labels(&n.alerts);
    let name = common.get("alertname").cloned().unwrap_or_default();
    let rest: Vec<&str> = common
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(_, v)| v.as_str())
        .collect();
    if rest.is_empty() {
        format!("{head} {name}")
    } else {
        format!("{head} {name} ({})", rest.join(" "))
    }
}

/// One line per alert: state, severity, summary, objects.
pub fn lines(n: &Notification) -> Vec<String> {
    n.alerts
        .iter()
        .map(|a| {
            let state = if a.resolved(n.at) {
                "RESOLVED"
            } else {
                "FIRING"
            };
            let severity = a.labels.get("severity").unwrap_or("none");
            let summary = a
                .annotations
                .get("summary")
                .or_else(|| a.annotations.get("description"))
                .cloned()
                .unwrap_or_else(|| a.labels.get("alertname").unwrap_or("").to_string());
            format!("{state} [{severity}] {summary} — {}", object(a))
        })
        .collect()
}

/// The dashboard page of the alerts, when KubePulse's URL is known.
pub fn dashboard_link(external_url: &str) -> Option<String> {
    (!external_url.is_empty()).then(|| format!("{}/alerts", external_url.trim_end_matches('/')))
}
