//! Workload controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs) as states:
//! replicas wanted and ready, the pod template's image and resources, the selector, the
//! revision, and the conditions that matter.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kubepulse_model::{ObjectKind, ObjectState};

use super::{Observed, base, match_labels, set, template_fields};

/// Desired and ready replicas as a workload's state: `Available` when all are ready,
/// `Progressing` while some are not, `Degraded` when none is.
fn replicas(s: &mut ObjectState, desired: i32, ready: i32, updated: Option<i32>) {
    s.fields.insert("replicas".into(), desired.to_string());
    s.fields.insert("readyReplicas".into(), ready.to_string());
    set(&mut s.fields, "updatedReplicas", updated);
    s.ready = ready >= desired;
    s.phase = if ready >= desired {
        "Available"
    } else if ready == 0 {
        "Degraded"
    } else {
        "Progressing"
    }
    .into();
}

fn revision(meta: &ObjectMeta, annotation: &str, s: &mut ObjectState) {
    set(
        &mut s.fields,
        "revision",
        meta.annotations.as_ref().and_then(|a| a.get(annotation)),
    );
}

/// A controller's counts: desired, ready and updated replicas.
type Counts = (i32, i32, Option<i32>);

/// The state of a workload controller from its pod template, selector and counts.
fn workload(
    kind: ObjectKind,
    meta: &ObjectMeta,
    t: i64,
    template: Option<&PodSpec>,
    selector: Option<&LabelSelector>,
    counts: Counts,
) -> ObjectState {
    let mut s = base(kind, meta, t);
    template_fields(template, &mut s.fields);
    set(&mut s.fields, "selector", selector.and_then(match_labels));
    revision(meta, "deployment.kubernetes.io/revision", &mut s);
    replicas(&mut s, counts.0, counts.1, counts.2);
    s
}

impl Observed for Deployment {
    const KIND: ObjectKind = ObjectKind::Deployment;

    fn state(&self, t: i64) -> ObjectState {
        let spec = self.spec.as_ref();
        let st = self.status.as_ref();
        let mut s = workload(
            Self::KIND,
            &self.metadata,
            t,
            spec.and_then(|x| x.template.spec.as_ref()),
            spec.map(|x| &x.selector),
            (
                spec.and_then(|x| x.replicas).unwrap_or(1),
                st.and_then(|x| x.ready_replicas).unwrap_or(0),
                st.and_then(|x| x.updated_replicas),
            ),
        );
        for c in st.and_then(|x| x.conditions.as_ref()).into_iter().flatten() {
            s.conditions.insert(c.type_.clone(), c.status.clone());
            if c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
                s.reason = "ProgressDeadlineExceeded".into();
            }
        }
        s
    }
}

impl Observed for ReplicaSet {
    const KIND: ObjectKind = ObjectKind::ReplicaSet;

    fn state(&self, t: i64) -> ObjectState {
        let spec = self.spec.as_ref();
        let st = self.status.as_ref();
        workload(
            Self::KIND,
            &self.metadata,
            t,
            spec.and_then(|x| x.template.as_ref())
                .and_then(|t| t.spec.as_ref()),
            spec.map(|x| &x.selector),
            (
                spec.and_then(|x| x.replicas).unwrap_or(1),
                st.and_then(|x| x.ready_replicas).unwrap_or(0),
                None,
            ),
        )
    }
}

impl Observed for StatefulSet {
    const KIND: ObjectKind = ObjectKind::StatefulSet;

    fn state(&self, t: i64) -> ObjectState {
        let spec = self.spec.as_ref();
        let st = self.status.as_ref();
        workload(
            Self::KIND,
            &self.metadata,
            t,
            spec.and_then(|x| x.template.spec.as_ref()),
            spec.map(|x| &x.selector),
            (
                spec.and_then(|x| x.replicas).unwrap_or(1),
                st.and_then(|x| x.ready_replicas).unwrap_or(0),
                st.and_then(|x| x.updated_replicas),
            ),
        )
    }
}

impl Observed for DaemonSet {
    const KIND: ObjectKind = ObjectKind::DaemonSet;

    fn state(&self, t: i64) -> ObjectState {
        let spec = self.spec.as_ref();
        let st = self.status.as_ref();
        workload(
            Self::KIND,
            &self.metadata,
            t,
            spec.and_then(|x| x.template.spec.as_ref()),
            spec.map(|x| &x.selector),
            (
                st.map_or(0, |x| x.desired_number_scheduled),
                st.map_or(0, |x| x.number_ready),
                st.and_then(|x| x.updated_number_scheduled),
            ),
        )
    }
}

impl Observed for Job {
    const KIND: ObjectKind = ObjectKind::Job;

    fn state(&self, t: i64) -> ObjectState {
        let mut s = base(Self::KIND, &self.metadata, t);
        let st = self.status.as_ref();
        for (k, v) in [
            ("active", st.and_then(|x| x.active)),
            ("succeeded", st.and_then(|x| x.succeeded)),
            ("failed", st.and_then(|x| x.failed)),
        ] {
            set(&mut s.fields, k, v);
        }
        s.phase = "Running".into();
        for c in st.and_then(|x| x.conditions.as_ref()).into_iter().flatten() {
            s.conditions.insert(c.type_.clone(), c.status.clone());
            if c.status == "True" && (c.type_ == "Complete" || c.type_ == "Failed") {
                s.phase = c.type_.clone();
                s.reason = c.reason.clone().unwrap_or_default();
            }
        }
        s.ready = s.phase == "Complete";
        s
    }
}
