//! The manifests in `deploy/manifests/kubepulse.yaml` (rendered from the Helm chart) read as
//! Kubernetes objects, with the invariants the chart promises: a read-only ClusterRole that
//! still reaches the kubelets' metrics, a non-root pod with a read-only root filesystem, probes
//! on the server's health endpoints, resources, a volume for the data directory, a Service;
//! and a configuration that `kubepulse config check` accepts.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde_json::Value;

fn objects() -> BTreeMap<String, Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/manifests/kubepulse.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    docs.into_iter()
        .filter(|d| !d.is_null())
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d))
        .collect()
}

fn get<K: serde::de::DeserializeOwned>(all: &BTreeMap<String, Value>, kind: &str) -> K {
    serde_json::from_value(all[kind].clone()).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

#[test]
fn the_rendered_manifests_keep_the_charts_promises() {
    let all = objects();
    for kind in [
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "PersistentVolumeClaim",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
    ] {
        assert!(all.contains_key(kind), "no {kind}");
    }
    let _: ServiceAccount = get(&all, "ServiceAccount");

    // Read-only, yet able to watch every kind and read the kubelets' metrics.
    let role: ClusterRole = get(&all, "ClusterRole");
    let rules = role.rules.unwrap();
    for r in &rules {
        for v in &r.verbs {
            assert!(
                ["get", "list", "watch"].contains(&v.as_str()),
                "write verb {v}"
            );
        }
    }
    let can = |group: &str, resource: &str, verb: &str| {
        rules.iter().any(|r| {
            r.api_groups.iter().flatten().any(|g| g == group)
                && r.resources.iter().flatten().any(|x| x == resource)
                && r.verbs.iter().any(|v| v == verb)
        })
    };
    for (g, res) in [
        ("", "pods"),
        ("", "nodes"),
        ("", "services"),
        ("", "events"),
        ("", "persistentvolumeclaims"),
        ("", "namespaces"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
        ("discovery.k8s.io", "endpointslices"),
        ("events.k8s.io", "events"),
    ] {
        assert!(can(g, res, "list") && can(g, res, "watch"), "{g}/{res}");
    }
    assert!(can("", "nodes/proxy", "get"));
    let binding: ClusterRoleBinding = get(&all, "ClusterRoleBinding");
    assert_eq!(binding.role_ref.name, "kubepulse");
    assert_eq!(binding.subjects.unwrap()[0].kind, "ServiceAccount");
    // Remediation is off by default: no second role.
    assert!(
        !all.values()
            .any(|d| d["metadata"]["name"] == "kubepulse-remediation")
    );

    // The pod: non-root, read-only root filesystem, probes, resources, the data volume.
    let dep: Deployment = get(&all, "Deployment");
    let spec = dep.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    let pod = spec.template.spec.unwrap();
    let psc = pod.security_context.unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_ne!(psc.run_as_user, Some(0));
    let c = &pod.containers[0];
    let sc = c.security_context.clone().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    let probe_path = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
        p.as_ref()
            .and_then(|p| p.http_get.as_ref())
            .and_then(|h| h.path.clone())
    };
    assert_eq!(probe_path(&c.liveness_probe).as_deref(), Some("/-/healthy"));
    assert_eq!(probe_path(&c.readiness_probe).as_deref(), Some("/-/ready"));
    let res = c.resources.clone().unwrap();
    assert!(res.requests.unwrap().contains_key("memory"));
    assert!(res.limits.unwrap().contains_key("memory"));
    let args = c.args.clone().unwrap();
    assert!(args.contains(&"--in-cluster".to_string()), "{args:?}");
    let data_dir = args[args.iter().position(|a| a == "--data-dir").unwrap() + 1].clone();
    assert!(
        c.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == data_dir),
        "the data directory is not a volume"
    );
    let claim = pod
        .volumes
        .unwrap()
        .into_iter()
        .find_map(|v| v.persistent_volume_claim)
        .unwrap();
    let pvc: PersistentVolumeClaim = get(&all, "PersistentVolumeClaim");
    assert_eq!(Some(claim.claim_name), pvc.metadata.name);
    let svc: Service = get(&all, "Service");
    assert_eq!(svc.spec.unwrap().ports.unwrap()[0].port, 9090);

    // The configuration the chart mounts is one KubePulse accepts.
    let cm: ConfigMap = get(&all, "ConfigMap");
    let yaml = cm.data.unwrap()["kubepulse.yaml"].clone();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kubepulse.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubepulse"))
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
