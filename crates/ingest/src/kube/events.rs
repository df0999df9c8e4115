//! Kubernetes Events as KubePulse stores them (shaped like `core/v1` Event JSON), from either
//! API: `events.k8s.io/v1`, which clusters serve since 1.19, and `core/v1`, the fallback.

use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use kubepulse_model::event::EventMeta;
use kubepulse_model::{EventSource, EventType, K8sEvent, ObjectRef};

fn regarding(r: Option<&ObjectReference>) -> ObjectRef {
    let r = r.cloned().unwrap_or_default();
    ObjectRef {
        kind: r.kind.unwrap_or_default(),
        namespace: r.namespace.unwrap_or_default(),
        name: r.name.unwrap_or_default(),
        uid: r.uid.unwrap_or_default(),
    }
}

fn event_type(t: Option<&String>) -> EventType {
    if t.is_some_and(|t| t == "Warning") {
        EventType::Warning
    } else {
        EventType::Normal
    }
}

fn meta(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> EventMeta {
    EventMeta {
        name: m.name.clone().unwrap_or_default(),
        namespace: m.namespace.clone().unwrap_or_default(),
        uid: m.uid.clone().unwrap_or_default(),
    }
}

/// What both APIs' events carry, in milliseconds, before defaults.
struct Times {
    event_time: Option<i64>,
    first: Option<i64>,
    last: Option<i64>,
    count: Option<i32>,
}

/// The first and last occurrence and the count: the event's own times where it has them, its
/// `eventTime` otherwise, `now` as the last resort; at least one occurrence.
fn times(t: Times, now: i64) -> (i64, i64, u32) {
    let first = t.first.or(t.event_time).unwrap_or(now);
    let last = t.last.or(t.event_time).unwrap_or(first).max(first);
    (first, last, t.count.unwrap_or(1).max(1) as u32)
}

/// An `events.k8s.io/v1` Event; `now` stands in for times the event lacks.
pub fn from_events_v1(e: &Event, now: i64) -> K8sEvent {
    let ms = |t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time| t.0.as_millisecond();
    let (first, last, count) = times(
        Times {
            event_time: e.event_time.as_ref().map(|t| t.0.as_millisecond()),
            first: e.deprecated_first_timestamp.as_ref().map(ms),
            last: e
                .series
                .as_ref()
                .map(|s| s.last_observed_time.0.as_millisecond())
                .or_else(|| e.deprecated_last_timestamp.as_ref().map(ms)),
            count: e.series.as_ref().map(|s| s.count).or(e.deprecated_count),
        },
        now,
    );
    let source = e.deprecated_source.clone().unwrap_or_default();
    K8sEvent {
        api_version: "v1".into(),
        kind: "Event".into(),
        metadata: meta(&e.metadata),
        involved_object: regarding(e.regarding.as_ref()),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.note.clone().unwrap_or_default(),
        event_type: event_type(e.type_.as_ref()),
        source: EventSource {
            component: source
                .component
                .or_else(|| e.reporting_controller.clone())
                .unwrap_or_default(),
            host: source.host.unwrap_or_default(),
        },
        first_timestamp: first,
        last_timestamp: last,
        count,
        reporting_component: e.reporting_controller.clone().unwrap_or_default(),
        reporting_instance: e.reporting_instance.clone().unwrap_or_default(),
    }
}

/// A `core/v1` Event; `now` stands in for times the event lacks.
pub fn from_core_v1(e: &CoreEvent, now: i64) -> K8sEvent {
    let ms = |t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time| t.0.as_millisecond();
    let series = e.series.as_ref();
    let (first, last, count) = times(
        Times {
            event_time: e.event_time.as_ref().map(|t| t.0.as_millisecond()),
            first: e.first_timestamp.as_ref().map(ms),
            last: series
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0.as_millisecond())
                .or_else(|| e.last_timestamp.as_ref().map(ms)),
            count: series.and_then(|s| s.count).or(e.count),
        },
        now,
    );
    let source = e.source.clone().unwrap_or_default();
    K8sEvent {
        api_version: "v1".into(),
        kind: "Event".into(),
        metadata: meta(&e.metadata),
        involved_object: regarding(Some(&e.involved_object)),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        event_type: event_type(e.type_.as_ref()),
        source: EventSource {
            component: source.component.unwrap_or_default(),
            host: source.host.unwrap_or_default(),
        },
        first_timestamp: first,
        last_timestamp: last,
        count,
        reporting_component: e.reporting_component.clone().unwrap_or_default(),
        reporting_instance: e.reporting_instance.clone().unwrap_or_default(),
    }
}
