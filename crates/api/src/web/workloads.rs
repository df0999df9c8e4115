//! Workloads: namespace → workload → pods (phase, node, restarts, failure risk), and the nodes.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{html, instant, now};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    namespace: String,
}

struct PodRow {
    name: String,
    phase: String,
    node: String,
    restarts: u64,
    risk: String,
    risky: bool,
}

struct Workload {
    namespace: String,
    name: String,
    kind: String,
    pods: Vec<PodRow>,
}

#[derive(Template)]
#[template(path = "workloads.html")]
struct Page {
    nav: &'static str,
    live: bool,
    namespace: String,
    namespaces: Vec<String>,
    workloads: Vec<Workload>,
    nodes: Vec<(String, String, usize)>,
}

/// The workload a pod belongs to: its owner, a ReplicaSet read as its Deployment.
pub fn workload_of(kind: &str, name: &str) -> (String, String) {
    if kind == "ReplicaSet"
        && let Some((base, hash)) = name.rsplit_once('-')
        && hash.len() >= 5
        && hash.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return ("Deployment".into(), base.to_string());
    }
    (kind.to_string(), name.to_string())
}

/// `GET /workloads`.
pub async fn page(st: State<AppState>, Query(p): Query<Params>) -> Response {
    let t = now(&st);
    let sel = if p.namespace.is_empty() {
        String::new()
    } else {
        format!("{{namespace={:?}}}", p.namespace)
    };
    let info = instant(&st, &format!("kube_pod_info{sel}"), t).await;
    let phase: BTreeMap<(String, String), String> =
        instant(&st, &format!("kube_pod_status_phase{sel} == 1"), t)
            .await
            .into_iter()
            .map(|(l, _)| {
                let k = (
                    l.get("namespace").unwrap_or("").to_string(),
                    l.get("pod").unwrap_or("").to_string(),
                );
                (k, l.get("phase").unwrap_or("").to_string())
            })
            .collect();
    let per_pod = |q: String| {
        let st = st.clone();
        async move {
            instant(&st, &q, t)
                .await
                .into_iter()
                .map(|(l, v)| {
                    let k = (
                        l.get("namespace").unwrap_or("").to_string(),
                        l.get("pod").unwrap_or("").to_string(),
                    );
                    (k, v)
                })
                .collect::<BTreeMap<_, _>>()
        }
    };
    let restarts = per_pod(format!(
        "sum by (namespace, pod) (kube_pod_container_status_restarts_total{sel})"
    ))
    .await;
    let risk = per_pod(format!(
        "max by (namespace, pod) (kubepulse_failure_probability{sel})"
    ))
    .await;
    let mut by: BTreeMap<(String, String, String), Vec<PodRow>> = BTreeMap::new();
    let mut namespaces = std::collections::BTreeSet::new();
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for (l, _) in &info {
        let ns = l.get("namespace").unwrap_or("").to_string();
        let pod = l.get("pod").unwrap_or("").to_string();
        let (kind, name) = workload_of(
            l.get("created_by_kind").unwrap_or(""),
            l.get("created_by_name").unwrap_or(""),
        );
        let node = l.get("node").unwrap_or("").to_string();
        *per_node.entry(node.clone()).or_default() += 1;
        namespaces.insert(ns.clone());
        let key = (ns.clone(), pod.clone());
        let r = risk.get(&key).copied();
        by.entry((ns, name, kind)).or_default().push(PodRow {
            phase: phase.get(&key).cloned().unwrap_or_default(),
            restarts: restarts.get(&key).copied().unwrap_or(0.0).max(0.0) as u64,
            risk: r.map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0)),
            risky: r.is_some_and(|v| v >= 0.5),
            name: pod,
            node,
        });
    }
    let workloads = by
        .into_iter()
        .map(|((namespace, name, kind), pods)| Workload {
            namespace,
            name,
            kind,
            pods,
        })
        .collect();
    let ready: BTreeMap<String, f64> = instant(
        &st,
        r#"kube_node_status_condition{condition="Ready",status="true"}"#,
        t,
    )
    .await
    .into_iter()
    .map(|(l, v)| (l.get("node").unwrap_or("").to_string(), v))
    .collect();
    let nodes = instant(&st, "kube_node_info", t)
        .await
        .into_iter()
        .map(|(l, _)| {
            let n = l.get("node").unwrap_or("").to_string();
            let r = if ready.get(&n).copied().unwrap_or(0.0) >= 1.0 {
                "yes"
            } else {
                "no"
            };
            let pods = per_node.get(&n).copied().unwrap_or(0);
            (n, r.to_string(), pods)
        })
        .collect();
    html(
        Page {
            nav: "workloads",
            live: true,
            namespace: p.namespace,
            namespaces: namespaces.into_iter().collect(),
            workloads,
            nodes,
        }
        .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_sets_read_as_their_deployment() {
        assert_eq!(
            workload_of("ReplicaSet", "cart-7d9f8b6c5"),
            ("Deployment".into(), "cart".into())
        );
        assert_eq!(
            workload_of("StatefulSet", "db"),
            ("StatefulSet".into(), "db".into())
        );
    }
}
