//! Alertmanager v2 JSON: alerts with their status and receivers, groups, silences, the status
//! document, and the bodies clients post (alerts and silences), validated field by field.

use std::collections::BTreeMap;

use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_alert::notify::silence::{ApiMatcher, Silence};
use kubepulse_model::{Labels, format_rfc3339, parse_rfc3339};
use kubepulse_store::Matcher;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A receiver reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceiverRef {
    /// Its name.
    pub name: String,
}

/// An alert's place in the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    /// Silences muting it.
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

/// An alert as `GET /api/v2/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Start.
    pub starts_at: String,
    /// End.
    pub ends_at: String,
    /// Last update.
    pub updated_at: String,
    /// Source link.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// 16 hex digits.
    pub fingerprint: String,
    /// Receivers its routes lead to.
    pub receivers: Vec<ReceiverRef>,
    /// Status.
    pub status: StatusView,
}

/// A group as `GET /api/v2/alerts/groups` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    /// Grouping labels.
    pub labels: BTreeMap<String, String>,
    /// The receiver.
    pub receiver: ReceiverRef,
    /// Its alerts.
    pub alerts: Vec<AlertView>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PostableAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
}

fn time(field: &str, v: &Option<String>) -> Result<i64, String> {
    match v.as_deref() {
        None | Some("") | Some("0001-01-01T00:00:00Z") => Ok(0),
        Some(s) => {
            parse_rfc3339(s).ok_or_else(|| format!("{field}: {s:?} is not an RFC 3339 time"))
        }
    }
}

/// The alerts of a `POST /api/v2/alerts` body.
pub fn postable_alerts(body: &[u8]) -> Result<Vec<PipelineAlert>, String> {
    let raw: Vec<PostableAlert> =
        serde_json::from_slice(body).map_err(|e| format!("bad alerts body: {e}"))?;
    raw.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if a.labels.is_empty() {
                return Err(format!("alerts[{i}]: at least one label pair required"));
            }
            let labels = Labels::from_pairs(a.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| format!("alerts[{i}]: {e}"))?;
            labels.validate().map_err(|e| format!("alerts[{i}]: {e}"))?;
            let (s, e) = (time("startsAt", &a.starts_at)?, time("endsAt", &a.ends_at)?);
            if s != 0 && e != 0 && e < s {
                return Err(format!("alerts[{i}]: start time must be before end time"));
            }
            Ok(PipelineAlert {
                labels,
                annotations: a.annotations,
                starts_at: s,
                ends_at: e,
                updated_at: 0,
                generator_url: a.generator_url,
            })
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PostableSilence {
    #[serde(default)]
    id: String,
    matchers: Vec<ApiMatcher>,
    starts_at: String,
    ends_at: String,
    created_by: String,
    comment: String,
}

/// The silence of a `POST /api/v2/silences` body.
pub fn postable_silence(body: &[u8]) -> Result<Silence, String> {
    let p: PostableSilence =
        serde_json::from_slice(body).map_err(|e| format!("bad silence body: {e}"))?;
    let s = Silence {
        id: p.id,
        matchers: p.matchers,
        starts_at: time("startsAt", &Some(p.starts_at))?,
        ends_at: time("endsAt", &Some(p.ends_at))?,
        updated_at: 0,
        created_by: p.created_by,
        comment: p.comment,
    };
    Ok(s)
}

/// A silence as the API lists it.
pub fn silence(s: &Silence, now: i64) -> Value {
    json!({
        "id": s.id,
        "status": { "state": s.state(now) },
        "updatedAt": format_rfc3339(s.updated_at),
        "matchers": s.matchers,
        "startsAt": format_rfc3339(s.starts_at),
        "endsAt": format_rfc3339(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
    })
}

/// Whether a silence's matchers satisfy a listing filter, as Alertmanager reads them.
pub fn silence_matches(s: &Silence, filter: &[Matcher]) -> bool {
    let by_name: BTreeMap<&str, &str> = s
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.value.as_str()))
        .collect();
    filter
        .iter()
        .all(|m| m.matches(by_name.get(m.name.as_str()).copied().unwrap_or("")))
}

/// `GET /api/v2/status`.
pub fn status(config_yaml: &str, started: i64, revision: &str) -> Value {
    json!({
        "cluster": { "name": "kubepulse", "status": "disabled", "peers": [] },
        "config": { "original": config_yaml },
        "uptime": format_rfc3339(started),
        "versionInfo": {
            "branch": "kubepulse",
            "buildDate": "",
            "buildUser": "kubepulse",
            "goVersion": "none",
            "revision": revision,
            "version": env!("CARGO_PKG_VERSION"),
        },
    })
}
