//! Kubernetes Events, shaped exactly like `core/v1` Event objects in the API's JSON.

use serde::{Deserialize, Serialize};

use crate::ObjectRef;
use crate::time::rfc3339;

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// Routine events.
    Normal,
    /// Something may be wrong.
    Warning,
}

/// The component that reported an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EventSource {
    /// For example `kubelet`, `default-scheduler`, `deployment-controller`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub component: String,
    /// The node, for node-local components.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

/// Event metadata (the Event object's own name and namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventMeta {
    /// `<involved object name>.<hex suffix>`.
    pub name: String,
    /// Namespace of the event (that of the involved object, `default` for nodes).
    #[serde(default)]
    pub namespace: String,
    /// The event's UID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
}

/// One Kubernetes Event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sEvent {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Event`.
    pub kind: String,
    /// The event's own metadata.
    pub metadata: EventMeta,
    /// The object the event is about.
    pub involved_object: ObjectRef,
    /// Machine-readable reason: `BackOff`, `OOMKilling`, `FailedScheduling`, …
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Who reported it.
    #[serde(default)]
    pub source: EventSource,
    /// First occurrence, epoch milliseconds (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub first_timestamp: i64,
    /// Last occurrence, epoch milliseconds (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub last_timestamp: i64,
    /// How many times it occurred between the two timestamps.
    pub count: u32,
    /// The reporting controller, e.g. `kubelet`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_component: String,
    /// The reporting instance, e.g. the node name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

impl K8sEvent {
    /// A new event with `count` 1 at `t`.
    pub fn new(
        involved: ObjectRef,
        event_type: EventType,
        reason: &str,
        message: String,
        source: EventSource,
        t: i64,
        name_suffix: u64,
    ) -> Self {
        Self {
            api_version: "v1".into(),
            kind: "Event".into(),
            metadata: EventMeta {
                name: format!("{}.{:016x}", involved.name, name_suffix),
                namespace: if involved.namespace.is_empty() {
                    "default".into()
                } else {
                    involved.namespace.clone()
                },
                uid: String::new(),
            },
            reporting_component: source.component.clone(),
            reporting_instance: source.host.clone(),
            involved_object: involved,
            reason: reason.into(),
            message,
            event_type,
            source,
            first_timestamp: t,
            last_timestamp: t,
            count: 1,
        }
    }

    /// True for `Warning` events.
    pub fn is_warning(&self) -> bool {
        self.event_type == EventType::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectKind;

    #[test]
    fn serializes_like_the_kubernetes_api() {
        let e = K8sEvent::new(
            ObjectRef::new(ObjectKind::Pod, "shop", "cart-1").with_uid("u-1"),
            EventType::Warning,
            "BackOff",
            "Back-off restarting failed container".into(),
            EventSource {
                component: "kubelet".into(),
                host: "node-1".into(),
            },
            1_767_605_400_000,
            0xabc,
        );
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "Event");
        assert_eq!(v["involvedObject"]["kind"], "Pod");
        assert_eq!(v["involvedObject"]["uid"], "u-1");
        assert_eq!(v["type"], "Warning");
        assert_eq!(v["firstTimestamp"], "2026-01-05T09:30:00Z");
        assert_eq!(v["metadata"]["name"], "cart-1.0000000000000abc");
        assert_eq!(v["source"]["host"], "node-1");
        let back: K8sEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
