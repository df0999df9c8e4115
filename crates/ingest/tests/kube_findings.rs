//! Every analyzer on realistic objects: the pods, nodes and events of the payloads in
//! `tests/fixtures/k8s`, converted as the watchers convert them, then analyzed.

#![allow(clippy::unwrap_used)]

mod apiserver;

use apiserver::fixture;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kubepulse_ingest::kube::convert::Observed;
use kubepulse_ingest::kube::events::from_core_v1;
use kubepulse_intel::findings::{Finding, Severity, analyze};
use kubepulse_model::{K8sEvent, ObjectState};
use serde::de::DeserializeOwned;
use serde_json::Value;

const T: i64 = 1_728_898_170_000;

fn items<K: DeserializeOwned>(file: &str) -> Vec<K> {
    let v: Value = serde_json::from_str(&fixture(file)).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value(i.clone()).unwrap())
        .collect()
}

fn states<K: DeserializeOwned + Observed>(file: &str) -> Vec<ObjectState> {
    items::<K>(file).iter().map(|o| o.state(T)).collect()
}

fn all() -> Vec<Finding> {
    let events: Vec<K8sEvent> = items::<Event>("events.v1.json")
        .iter()
        .map(|e| from_core_v1(e, T))
        .collect();
    let mut objects = states::<Pod>("pods.json");
    objects.extend(states::<Node>("nodes.json"));
    objects
        .iter()
        .flat_map(|s| {
            let about: Vec<&K8sEvent> = events
                .iter()
                .filter(|e| {
                    e.involved_object.kind == s.object.kind
                        && e.involved_object.namespace == s.object.namespace
                        && e.involved_object.name == s.object.name
                })
                .collect();
            analyze(s, &about)
        })
        .collect()
}

fn one<'a>(found: &'a [Finding], name_prefix: &str, reason: &str) -> &'a Finding {
    found
        .iter()
        .find(|f| f.object.name.starts_with(name_prefix) && f.reason == reason)
        .unwrap_or_else(|| {
            let have: Vec<String> = found
                .iter()
                .map(|f| format!("{} {}", f.object.name, f.reason))
                .collect();
            panic!("no {reason} for {name_prefix}: {have:?}")
        })
}

fn evidence<'a>(f: &'a Finding, k: &str) -> &'a str {
    f.evidence
        .iter()
        .find(|e| e.0 == k)
        .map_or("", |e| e.1.as_str())
}

#[test]
fn every_pod_reason_is_found_with_its_evidence() {
    let found = all();
    let crash = one(&found, "cart-7d4b9c8f6d-p8n4m", "CrashLoopBackOff");
    assert_eq!(crash.severity, Severity::Critical);
    assert_eq!(evidence(crash, "last termination reason"), "Error");
    assert_eq!(evidence(crash, "exit code"), "1");
    assert!(crash.message.contains("12 restarts"), "{}", crash.message);

    let backoff = found
        .iter()
        .find(|f| f.reason == "ImagePullBackOff")
        .unwrap();
    assert!(backoff.object.name.starts_with("checkout-"));
    assert!(
        evidence(backoff, "image").contains("checkout:v2.3.1-typo"),
        "{backoff:?}"
    );
    let pull = found.iter().find(|f| f.reason == "ErrImagePull").unwrap();
    assert!(pull.object.name.starts_with("checkout-"));

    let config = one(&found, "payment-", "CreateContainerConfigError");
    assert!(
        config.message.contains("secret \"payment-db\" not found"),
        "{}",
        config.message
    );

    let pending = one(&found, "search-", "FailedScheduling");
    assert!(
        pending.message.contains("Insufficient memory"),
        "{}",
        pending.message
    );

    let evicted = one(&found, "web-6b9f7d5c4-qm2lt", "Evicted");
    assert!(
        evicted.message.contains("low on resource: memory"),
        "{}",
        evicted.message
    );

    let oom = one(&found, "cart-7d4b9c8f6d-x2x9z", "OOMKilled");
    assert_eq!(evidence(oom, "exit code"), "137");
    assert!(oom.message.contains("MiB memory limit"), "{}", oom.message);

    let liveness = found
        .iter()
        .find(|f| f.reason == "LivenessProbeFailed")
        .unwrap();
    assert!(liveness.message.contains("statuscode: 500"), "{liveness:?}");
    let readiness = found
        .iter()
        .find(|f| f.reason == "ReadinessProbeFailed")
        .unwrap();
    assert!(
        readiness.message.contains("connection refused"),
        "{readiness:?}"
    );
    // Healthy pods have nothing to say.
    assert!(
        !found
            .iter()
            .any(|f| f.object.name.starts_with("web-6b9f7d5c4-fd9rk")),
        "{found:?}"
    );
}

#[test]
fn every_node_condition_is_found() {
    let found = all();
    let down = one(&found, "node-c", "NodeNotReady");
    assert_eq!(down.severity, Severity::Critical);
    assert!(down.message.contains("Ready=Unknown"), "{}", down.message);
    assert!(
        down.message.contains("NodeStatusUnknown"),
        "{}",
        down.message
    );
    one(&found, "node-c", "NetworkUnavailable");
    one(&found, "node-b", "MemoryPressure");
    one(&found, "node-b", "DiskPressure");
    assert!(
        !found.iter().any(|f| f.object.name == "node-a"),
        "{found:?}"
    );
    // PIDPressure, on a node that reports it.
    let mut node_a = states::<Node>("nodes.json")
        .into_iter()
        .find(|n| n.object.name == "node-a")
        .unwrap();
    node_a
        .conditions
        .insert("PIDPressure".into(), "True".into());
    let f = analyze(&node_a, &[]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, "PIDPressure");
}
