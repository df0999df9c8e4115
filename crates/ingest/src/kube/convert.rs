//! Kubernetes objects as KubePulse keeps them: one normalised [`ObjectState`] per observation,
//! with the facts analyzers and the dashboard read (and the same field names the simulated
//! cluster writes): phase, readiness, restarts, the reason behind the state, conditions, and
//! kind-specific fields such as the last termination's reason and exit code.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, Namespace, Node, PersistentVolumeClaim, Pod, PodSpec, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kubepulse_model::{ObjectKind, ObjectRef, ObjectState};

use super::quantity;

mod workloads;

/// A Kubernetes object KubePulse keeps the state of.
pub trait Observed {
    /// The kind.
    const KIND: ObjectKind;
    /// Its state as observed at `t` (epoch milliseconds).
    fn state(&self, t: i64) -> ObjectState;
}

/// The reference to the object `meta` describes.
pub fn object_ref(kind: ObjectKind, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.as_str().into(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
    }
}

/// A state with the metadata filled in and everything else empty.
fn base(kind: ObjectKind, meta: &ObjectMeta, t: i64) -> ObjectState {
    let owners = meta.owner_references.as_deref().unwrap_or_default();
    let owner = owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or(owners.first())
        .map(|o| ObjectRef {
            kind: o.kind.clone(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: o.name.clone(),
            uid: o.uid.clone(),
        });
    let mut fields = BTreeMap::new();
    if let Some(c) = &meta.creation_timestamp {
        fields.insert("created".into(), c.0.as_millisecond().to_string());
    }
    ObjectState {
        object: object_ref(kind, meta),
        t,
        owner,
        node: String::new(),
        phase: String::new(),
        ready: false,
        restarts: 0,
        reason: String::new(),
        conditions: BTreeMap::new(),
        labels: meta.labels.clone().unwrap_or_default(),
        fields,
        deleted: false,
    }
}

fn set(fields: &mut BTreeMap<String, String>, key: &str, v: Option<impl ToString>) {
    if let Some(v) = v {
        fields.insert(key.into(), v.to_string());
    }
}

/// `k=v,k2=v2`, sorted (the form selectors are compared in).
pub fn selector_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn match_labels(s: &LabelSelector) -> Option<String> {
    s.match_labels.as_ref().map(selector_text)
}

/// Requests and limits of the first container, CPU in cores and memory in bytes.
fn resources(c: &Container, fields: &mut BTreeMap<String, String>) {
    let Some(r) = &c.resources else { return };
    for (what, map) in [("requests", &r.requests), ("limits", &r.limits)] {
        for (res, q) in map.iter().flatten() {
            if let Some(v) = quantity::parse(&q.0) {
                fields.insert(format!("{what}.{res}"), v.to_string());
            }
        }
    }
}

fn template_fields(spec: Option<&PodSpec>, fields: &mut BTreeMap<String, String>) {
    if let Some(c) = spec.and_then(|s| s.containers.first()) {
        set(fields, "image", c.image.as_ref());
        resources(c, fields);
    }
}

/// The reason and message of a container state that is not plain running.
fn state_reason(s: Option<&ContainerState>) -> Option<(String, String)> {
    let s = s?;
    if let Some(w) = &s.waiting {
        return Some((
            w.reason.clone().unwrap_or_default(),
            w.message.clone().unwrap_or_default(),
        ));
    }
    s.terminated.as_ref().map(|t| {
        (
            t.reason.clone().unwrap_or_default(),
            t.message.clone().unwrap_or_default(),
        )
    })
}

/// The `prometheus.io/*` annotations that say how to scrape the object.
fn scrape_annotations(meta: &ObjectMeta, s: &mut ObjectState) {
    if let Some(a) = &meta.annotations {
        for key in [
            "prometheus.io/scrape",
            "prometheus.io/port",
            "prometheus.io/path",
        ] {
            set(&mut s.fields, key, a.get(key));
        }
    }
}

impl Observed for Pod {
    const KIND: ObjectKind = ObjectKind::Pod;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        let spec = self.spec.as_ref();
        s.node = spec.and_then(|x| x.node_name.clone()).unwrap_or_default();
        template_fields(spec, &mut s.fields);
        let claims: Vec<&str> = spec
            .and_then(|x| x.volumes.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|c| c.claim_name.as_str())
            .collect();
        if !claims.is_empty() {
            s.fields.insert("claims".into(), claims.join(","));
        }
        scrape_annotations(&self.metadata, &mut s);
        let Some(st) = &self.status else { return s };
        s.phase = st.phase.clone().unwrap_or_else(|| "Unknown".into());
        set(&mut s.fields, "podIP", st.pod_ip.as_ref());
        if let Some(start) = &st.start_time {
            s.fields
                .insert("startTime".into(), start.0.as_millisecond().to_string());
        }
        for c in st.conditions.iter().flatten() {
            s.conditions.insert(c.type_.clone(), c.status.clone());
            if c.type_ == "PodScheduled" && c.status == "False" {
                set(&mut s.fields, "scheduling.reason", c.reason.as_ref());
                set(&mut s.fields, "scheduling.message", c.message.as_ref());
            }
        }
        s.ready = s.conditions.get("Ready").is_some_and(|v| v == "True");
        let statuses = st.container_statuses.as_deref().unwrap_or_default();
        s.restarts = statuses.iter().map(|c| c.restart_count.max(0) as u32).sum();
        // The container in the worst state speaks for the pod: one not running, else the one
        // restarted most.
        let worst = statuses
            .iter()
            .filter(|c| c.state.as_ref().is_some_and(|x| x.running.is_none()))
            .max_by_key(|c| c.restart_count)
            .or_else(|| statuses.iter().max_by_key(|c| c.restart_count));
        if let Some(c) = worst {
            s.fields.insert("container".into(), c.name.clone());
            if let Some((reason, message)) = state_reason(c.state.as_ref()) {
                s.reason = reason;
                if !message.is_empty() {
                    s.fields.insert("message".into(), message);
                }
            }
            if let Some(started) = c
                .state
                .as_ref()
                .and_then(|x| x.running.as_ref())
                .and_then(|r| r.started_at.as_ref())
            {
                s.fields.insert(
                    "state.running.startedAt".into(),
                    started.0.as_millisecond().to_string(),
                );
            }
            if let Some(term) = c.last_state.as_ref().and_then(|l| l.terminated.as_ref()) {
                set(
                    &mut s.fields,
                    "lastState.terminated.reason",
                    term.reason.as_ref(),
                );
                s.fields.insert(
                    "lastState.terminated.exitCode".into(),
                    term.exit_code.to_string(),
                );
                if let Some(f) = &term.finished_at {
                    s.fields.insert(
                        "lastState.terminated.finishedAt".into(),
                        f.0.as_millisecond().to_string(),
                    );
                }
            }
        }
        // A pod-level reason (Evicted, NodeLost, …) outranks a container's.
        if let Some(r) = st.reason.as_ref().filter(|r| !r.is_empty()) {
            s.reason = r.clone();
            set(&mut s.fields, "message", st.message.as_ref());
        }
        if s.reason.is_empty()
            && let Some(r) = s.fields.get("scheduling.reason")
        {
            s.reason = r.clone();
        }
        s
    }
}

impl Observed for Node {
    const KIND: ObjectKind = ObjectKind::Node;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        if self
            .spec
            .as_ref()
            .and_then(|x| x.unschedulable)
            .unwrap_or(false)
        {
            s.fields.insert("unschedulable".into(), "true".into());
        }
        let Some(st) = &self.status else {
            s.phase = "Unknown".into();
            return s;
        };
        for c in st.conditions.iter().flatten() {
            s.conditions.insert(c.type_.clone(), c.status.clone());
            let bad = if c.type_ == "Ready" {
                c.status != "True"
            } else {
                c.status == "True"
            };
            if bad {
                set(
                    &mut s.fields,
                    &format!("condition.{}.reason", c.type_),
                    c.reason.as_ref(),
                );
                set(
                    &mut s.fields,
                    &format!("condition.{}.message", c.type_),
                    c.message.as_ref(),
                );
                if c.type_ == "Ready" {
                    s.reason = c.reason.clone().unwrap_or_default();
                }
            }
        }
        s.ready = s.conditions.get("Ready").is_some_and(|v| v == "True");
        s.phase = if s.ready { "Ready" } else { "NotReady" }.into();
        for (what, map) in [("capacity", &st.capacity), ("allocatable", &st.allocatable)] {
            for (res, q) in map.iter().flatten() {
                if let Some(v) = quantity::parse(&q.0) {
                    s.fields.insert(format!("{what}.{res}"), v.to_string());
                }
            }
        }
        let internal = st
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == "InternalIP");
        set(&mut s.fields, "internalIP", internal.map(|a| &a.address));
        let info = st.node_info.as_ref();
        set(
            &mut s.fields,
            "kubeletVersion",
            info.map(|i| &i.kubelet_version),
        );
        let port = st
            .daemon_endpoints
            .as_ref()
            .and_then(|d| d.kubelet_endpoint.as_ref())
            .map(|k| k.port);
        set(&mut s.fields, "kubeletPort", port);
        s
    }
}

impl Observed for Service {
    const KIND: ObjectKind = ObjectKind::Service;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        s.phase = "Active".into();
        s.ready = true;
        scrape_annotations(&self.metadata, &mut s);
        if let Some(spec) = &self.spec {
            set(
                &mut s.fields,
                "selector",
                spec.selector.as_ref().map(selector_text),
            );
            set(&mut s.fields, "clusterIP", spec.cluster_ip.as_ref());
            set(&mut s.fields, "type", spec.type_.as_ref());
            set(
                &mut s.fields,
                "port",
                spec.ports.as_ref().and_then(|p| p.first()).map(|p| p.port),
            );
        }
        s
    }
}

impl Observed for PersistentVolumeClaim {
    const KIND: ObjectKind = ObjectKind::PersistentVolumeClaim;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        if let Some(spec) = &self.spec {
            set(
                &mut s.fields,
                "storageClass",
                spec.storage_class_name.as_ref(),
            );
            set(&mut s.fields, "volumeName", spec.volume_name.as_ref());
            let requested = spec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .and_then(|q| quantity::parse(&q.0));
            set(&mut s.fields, "requests.storage", requested);
        }
        s.phase = self
            .status
            .as_ref()
            .and_then(|x| x.phase.clone())
            .unwrap_or_else(|| "Pending".into());
        s.ready = s.phase == "Bound";
        s
    }
}

impl Observed for Namespace {
    const KIND: ObjectKind = ObjectKind::Namespace;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        s.phase = self
            .status
            .as_ref()
            .and_then(|x| x.phase.clone())
            .unwrap_or_else(|| "Active".into());
        s.ready = s.phase == "Active";
        s
    }
}
