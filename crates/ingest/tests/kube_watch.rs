//! The kube-rs watchers against a loopback API server serving recorded-shape List and Watch
//! payloads (`tests/fixtures/k8s`, see its README): every kind listed and kept current from its
//! watch stream, deletions seen, history and events written to a real store; a relist after
//! 410 Gone; a stalled stream and a stream cut in the middle of an object resumed without losing
//! what followed; `core/v1` events when `events.k8s.io/v1` is not served; the kubeconfig's
//! context chosen by name.

#![allow(clippy::unwrap_used)]

mod apiserver;

use std::sync::Arc;
use std::time::Duration;

use apiserver::{ApiServer, Watch, fixture, lines, pod_stream_applied, run, until};
use kubepulse_ingest::kube::{Cluster, KubeSettings, client};
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{ObjectKind, SystemClock};
use kubepulse_store::Read;
use kubepulse_store::events::EventQuery;
use serde_json::Value;
use tokio::sync::watch;

fn items(file: &str) -> usize {
    let v: Value = serde_json::from_str(&fixture(file)).unwrap();
    v["items"].as_array().unwrap().len()
}

fn count(c: &Cluster, kind: ObjectKind) -> usize {
    c.objects()
        .iter()
        .filter(|s| s.object.kind == kind.as_str())
        .count()
}

const ALL: [&str; 10] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "Namespace",
    "Node",
    "PersistentVolumeClaim",
    "Pod",
    "ReplicaSet",
    "Service",
    "StatefulSet",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_is_listed_then_kept_current_by_its_watch() {
    let api = ApiServer::start().await;
    api.watch("/api/v1/pods", Watch::Lines(lines("pods.watch.jsonl")));
    api.watch("/api/v1/nodes", Watch::Lines(lines("nodes.watch.jsonl")));
    api.watch(
        "/apis/events.k8s.io/v1/events",
        Watch::Lines(lines("events.watch.jsonl")),
    );
    let r = run(&api, 30).await;
    until("every kind listed", 30.0, || {
        r.cluster.synced().len() == ALL.len()
    })
    .await;
    assert_eq!(r.cluster.synced(), ALL);
    for (kind, file) in [
        (ObjectKind::Node, "nodes.json"),
        (ObjectKind::Namespace, "namespaces.json"),
        (ObjectKind::Service, "services.json"),
        (ObjectKind::Deployment, "deployments.json"),
        (ObjectKind::ReplicaSet, "replicasets.json"),
        (ObjectKind::StatefulSet, "statefulsets.json"),
        (ObjectKind::DaemonSet, "daemonsets.json"),
        (ObjectKind::Job, "jobs.json"),
        (
            ObjectKind::PersistentVolumeClaim,
            "persistentvolumeclaims.json",
        ),
    ] {
        assert_eq!(count(&r.cluster, kind), items(file), "{kind}");
    }
    // The pod watch: one pod OOM-killed, one added, one deleted.
    let pods = items("pods.json");
    until("the pod watch applied", 20.0, || {
        pod_stream_applied(&r.cluster)
    })
    .await;
    assert_eq!(count(&r.cluster, ObjectKind::Pod), pods);
    let oom = r
        .cluster
        .get(ObjectKind::Pod, "shop", "cart-7d4b9c8f6d-h5kq2")
        .unwrap();
    assert_eq!(oom.fields["lastState.terminated.reason"], "OOMKilled");
    assert_eq!(oom.fields["lastState.terminated.exitCode"], "137");
    // When the pod started, when its container last ended and when the new one started (ms):
    // the length of its runs.
    assert_eq!(oom.fields["startTime"], "1728893910000");
    assert_eq!(
        oom.fields["lastState.terminated.finishedAt"],
        "1728898191000"
    );
    assert_eq!(oom.fields["state.running.startedAt"], "1728898193000");
    // A crash-looping pod as the watcher keeps it.
    let crash = r
        .cluster
        .get(ObjectKind::Pod, "shop", "cart-7d4b9c8f6d-p8n4m")
        .unwrap();
    assert_eq!(crash.reason, "CrashLoopBackOff");
    assert_eq!(crash.restarts, 12);
    assert_eq!(crash.fields["lastState.terminated.exitCode"], "1");
    assert_eq!(crash.owner.as_ref().unwrap().kind, "ReplicaSet");
    assert!(!crash.node.is_empty());
    // Nodes: node-b's memory pressure is over.
    until("node-b relieved", 20.0, || {
        r.cluster
            .get(ObjectKind::Node, "", "node-b")
            .is_some_and(|n| n.conditions["MemoryPressure"] == "False")
    })
    .await;
    let node_c = r.cluster.get(ObjectKind::Node, "", "node-c").unwrap();
    assert!(!node_c.ready);
    assert_eq!(node_c.phase, "NotReady");
    // EndpointSlices name the pods behind each Service.
    let slices = r.cluster.slices();
    assert!(
        slices
            .iter()
            .any(|s| s.service == "cart" && s.endpoints.iter().any(|e| e.pod.is_some())),
        "{slices:?}"
    );

    // History and events are in the store.
    let history =
        r.db.object_history(
            &kubepulse_model::ObjectRef::new(ObjectKind::Pod, "shop", "web-6b9f7d5c4-qm2lt"),
            0,
            i64::MAX,
        )
        .unwrap();
    assert!(history.last().unwrap().deleted, "{history:?}");
    let listed_events = items("events.k8s.io.json") + lines("events.watch.jsonl").len();
    until("events stored", 20.0, || {
        r.db.events(&EventQuery {
            start: 0,
            end: i64::MAX,
            limit: 10_000,
            ..EventQuery::default()
        })
        .map(|v| v.len() >= listed_events)
        .unwrap_or(false)
    })
    .await;
    // One list and one watch per kind; bookmarks and the list's resource version are used.
    let pods_requests = api.requests("/api/v1/pods");
    assert_eq!(
        pods_requests.iter().filter(|r| !r.0).count(),
        1,
        "{pods_requests:?}"
    );
    let watch_query = &pods_requests.iter().find(|r| r.0).unwrap().1;
    assert!(
        watch_query.contains("allowWatchBookmarks=true"),
        "{watch_query}"
    );
    assert!(
        watch_query.contains("resourceVersion=48213"),
        "{watch_query}"
    );

    // Shutdown: every watcher ends.
    r.stop.send(true).unwrap();
    for t in r.tasks {
        tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_410_gone_relists_and_a_cut_or_stalled_stream_resumes() {
    let api = ApiServer::start().await;
    let pod_lines = lines("pods.watch.jsonl");
    // First watch: 410 Gone. After the relist: a stream cut in the middle of its second event,
    // then one that stalls after the first event, then the whole stream.
    api.watch("/api/v1/pods", Watch::Lines(lines("pods.watch.gone.jsonl")));
    let cut = format!(
        "{}\n{}",
        pod_lines[0],
        &pod_lines[1][..pod_lines[1].len() / 2]
    );
    api.watch("/api/v1/pods", Watch::Cut(cut));
    api.watch("/api/v1/pods", Watch::Stall(vec![pod_lines[0].clone()]));
    api.watch("/api/v1/pods", Watch::Lines(pod_lines.clone()));
    let r = run(&api, 2).await;
    until("the whole pod stream applied", 60.0, || {
        pod_stream_applied(&r.cluster)
    })
    .await;
    let requests = api.requests("/api/v1/pods");
    let lists = requests.iter().filter(|r| !r.0).count();
    assert!(lists >= 2, "no relist after 410: {requests:?}");
    assert!(
        requests.iter().filter(|r| r.0).count() >= 4,
        "watches not resumed: {requests:?}"
    );
    assert_eq!(count(&r.cluster, ObjectKind::Pod), items("pods.json"));
    r.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn core_v1_events_when_events_k8s_io_is_not_served() {
    let api = ApiServer::start().await;
    api.missing("/apis/events.k8s.io/v1/events");
    let r = run(&api, 30).await;
    until("core/v1 events stored", 30.0, || {
        r.db.events(&EventQuery {
            start: 0,
            end: i64::MAX,
            limit: 10_000,
            ..EventQuery::default()
        })
        .map(|v| v.len() >= items("events.v1.json"))
        .unwrap_or(false)
    })
    .await;
    assert!(!api.requests("/api/v1/events").is_empty());
    r.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_context_is_a_clear_error() {
    let api = ApiServer::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let settings = KubeSettings {
        kubeconfig: Some(api.kubeconfig(tmp.path())),
        context: Some("nope".into()),
        ..KubeSettings::default()
    };
    let e = client(&settings).await.err().unwrap().to_string();
    assert!(e.contains("nope"), "{e}");
    let settings = KubeSettings {
        kubeconfig: Some(tmp.path().join("absent")),
        ..KubeSettings::default()
    };
    let e = client(&settings).await.err().unwrap().to_string();
    assert!(e.contains("absent"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubelets_are_scraped_through_the_api_servers_node_proxy() {
    use kubepulse_store::Matcher;

    let api = ApiServer::start().await;
    let r = run(&api, 30).await;
    until("nodes listed", 30.0, || {
        r.cluster.synced().contains(&"Node")
    })
    .await;
    let c = client(&KubeSettings {
        kubeconfig: Some(api.kubeconfig(r.tmp.path())),
        context: Some("recorded".into()),
        ..KubeSettings::default()
    })
    .await
    .unwrap();
    let probe = c
        .request_text(
            http::Request::get("/api/v1/nodes/node-a/proxy/metrics/cadvisor")
                .body(Vec::new())
                .unwrap(),
        )
        .await;
    assert!(
        probe.is_ok_and(|t| t.contains("container_memory_working_set_bytes")),
        "the node proxy does not answer"
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(kubepulse_ingest::kube::kubelet::run(
        r.cluster.clone(),
        c,
        Arc::new(r.db.clone()),
        Arc::new(SystemClock),
        kubepulse_ingest::IngestMetrics::default(),
        1000,
        rx,
    ));
    let select = |name: &str, node: &str| {
        r.db.select(
            &[
                Matcher::equal("__name__", name),
                Matcher::equal("job", "kubelet"),
                Matcher::equal("node", node),
            ],
            0,
            i64::MAX,
        )
        .unwrap_or_default()
    };
    let w = Stopwatch::start();
    let from = |name: &str, path: &str| {
        select(name, "node-a")
            .iter()
            .any(|s| s.labels.get("metrics_path") == Some(path))
    };
    while !from("container_memory_working_set_bytes", "/metrics/cadvisor")
        || !from("node_memory_working_set_bytes", "/metrics/resource")
    {
        assert!(
            w.elapsed_secs() < 30.0,
            "node-a's kubelet metrics not stored; up: {:?}; proxy requests: {:?}",
            select("up", "node-a"),
            api.requests("/api/v1/nodes/node-a/proxy/metrics/cadvisor")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ws = select("container_memory_working_set_bytes", "node-a");
    let cadvisor = ws
        .iter()
        .find(|s| s.labels.get("metrics_path") == Some("/metrics/cadvisor"))
        .unwrap_or_else(|| panic!("{ws:?}"));
    assert_eq!(
        cadvisor.labels.get("instance"),
        Some("10.0.0.11:10250"),
        "{:?}",
        cadvisor.labels
    );
    // A kubelet the proxy cannot reach is down, not missing.
    until("node-c down", 30.0, || {
        select("up", "node-c")
            .iter()
            .any(|s| s.samples.last().is_some_and(|p| p.v == 0.0))
    })
    .await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    r.stop.send(true).unwrap();
}
