//! References to Kubernetes objects and the normalised state KubePulse keeps of them over time.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of Kubernetes objects KubePulse models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    /// `v1/Pod`.
    Pod,
    /// `v1/Node`.
    Node,
    /// `v1/Namespace`.
    Namespace,
    /// `v1/Service`.
    Service,
    /// `apps/v1/Deployment`.
    Deployment,
    /// `apps/v1/ReplicaSet`.
    ReplicaSet,
    /// `apps/v1/StatefulSet`.
    StatefulSet,
    /// `apps/v1/DaemonSet`.
    DaemonSet,
    /// `batch/v1/Job`.
    Job,
    /// `v1/PersistentVolumeClaim`.
    PersistentVolumeClaim,
}

impl ObjectKind {
    /// The Kubernetes kind name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Node => "Node",
            Self::Namespace => "Namespace",
            Self::Service => "Service",
            Self::Deployment => "Deployment",
            Self::ReplicaSet => "ReplicaSet",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::Job => "Job",
            Self::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }

    /// The API version objects of this kind are served under.
    pub fn api_version(&self) -> &'static str {
        match self {
            Self::Deployment | Self::ReplicaSet | Self::StatefulSet | Self::DaemonSet => "apps/v1",
            Self::Job => "batch/v1",
            _ => "v1",
        }
    }

    /// Parses a Kubernetes kind name.
    pub fn parse(s: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }
}

const ALL_KINDS: [ObjectKind; 10] = [
    ObjectKind::Pod,
    ObjectKind::Node,
    ObjectKind::Namespace,
    ObjectKind::Service,
    ObjectKind::Deployment,
    ObjectKind::ReplicaSet,
    ObjectKind::StatefulSet,
    ObjectKind::DaemonSet,
    ObjectKind::Job,
    ObjectKind::PersistentVolumeClaim,
];

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to one Kubernetes object, shaped like `involvedObject` in an Event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// The kind, e.g. `Pod` (any Kubernetes kind is kept as written).
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects such as nodes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The object name.
    pub name: String,
    /// The object UID, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
}

impl ObjectRef {
    /// A reference by kind, namespace and name.
    pub fn new(kind: ObjectKind, namespace: &str, name: &str) -> Self {
        Self {
            kind: kind.as_str().into(),
            namespace: namespace.into(),
            name: name.into(),
            uid: String::new(),
        }
    }

    /// The same reference with a UID.
    pub fn with_uid(mut self, uid: &str) -> Self {
        self.uid = uid.into();
        self
    }

    /// The parsed kind, when it is one KubePulse models.
    pub fn object_kind(&self) -> Option<ObjectKind> {
        ObjectKind::parse(&self.kind)
    }

    /// True when both refer to the same object (UIDs are compared only when both are known).
    pub fn same_object(&self, other: &ObjectRef) -> bool {
        self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
            && (self.uid.is_empty() || other.uid.is_empty() || self.uid == other.uid)
    }
}

impl fmt::Display for ObjectRef {
    /// `namespace/Kind/name`, or `Kind/name` for cluster-scoped objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
        }
    }
}

/// The state of one object at one moment, normalised across kinds: what the object history
/// stores and what analyzers and the dashboard read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectState {
    /// The object.
    pub object: ObjectRef,
    /// When this state was observed, epoch milliseconds.
    pub t: i64,
    /// The controlling owner (ReplicaSet of a pod, Deployment of a ReplicaSet, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<ObjectRef>,
    /// The node a pod runs on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// Pod phase (`Pending`, `Running`, …), node readiness (`Ready`, `NotReady`) or workload
    /// status (`Available`, `Progressing`, `Degraded`, `Complete`, `Failed`).
    pub phase: String,
    /// Whether the object is ready (pod Ready condition, node Ready, workload fully available).
    pub ready: bool,
    /// Container restarts summed over the pod's containers.
    #[serde(default)]
    pub restarts: u32,
    /// The reason behind the current state (`CrashLoopBackOff`, `OOMKilled`, `Evicted`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Conditions by type, with status `True`, `False` or `Unknown`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, String>,
    /// Object labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Kind-specific facts: replicas, image, requests and limits, exit code, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// True when this record marks the deletion of the object.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_display() {
        for k in ALL_KINDS {
            assert_eq!(ObjectKind::parse(k.as_str()), Some(k));
        }
        let r = ObjectRef::new(ObjectKind::Pod, "shop", "web-1");
        assert_eq!(r.to_string(), "shop/Pod/web-1");
        assert_eq!(
            ObjectRef::new(ObjectKind::Node, "", "n1").to_string(),
            "Node/n1"
        );
        assert!(r.same_object(&r.clone().with_uid("u1")));
        assert!(
            !r.clone()
                .with_uid("u2")
                .same_object(&r.clone().with_uid("u1"))
        );
    }
}
