//! Scrape targets discovered in a watched cluster: over the payloads in `tests/fixtures/k8s`,
//! the exporters behind Services (kube-state-metrics, node-exporter, annotated Services) and
//! annotated pods, from their EndpointSlices; the cluster as a graph (owners, placement,
//! Services, claims); and a discovered pod scraped for real.

#![allow(clippy::unwrap_used)]

mod apiserver;

use std::sync::Arc;
use std::time::Duration;

use apiserver::{ApiServer, run};
use kubepulse_ingest::kube::Cluster;
use kubepulse_ingest::kube::discover::targets;
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Clock, ObjectKind, SystemClock};
use kubepulse_store::{Matcher, Read};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread")]
async fn exporters_and_annotated_pods_become_targets() {
    let api = ApiServer::start().await;
    let r = run(&api, 30).await;
    let cluster = r.cluster.clone();
    let w = Stopwatch::start();
    while cluster.synced().len() < 10 || cluster.slices().len() < 7 {
        assert!(w.elapsed_secs() < 30.0, "not listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found = targets(&cluster.objects(), &cluster.slices());
    let urls: Vec<(String, String)> = found
        .iter()
        .map(|t| (t.labels["job"].clone(), t.url.clone()))
        .collect();
    assert!(
        urls.contains(&(
            "kube-state-metrics".into(),
            "http://10.244.0.9:8080/metrics".into()
        )),
        "{urls:?}"
    );
    let exporters: Vec<&(String, String)> =
        urls.iter().filter(|u| u.0 == "node-exporter").collect();
    assert!(!exporters.is_empty(), "{urls:?}");
    assert!(
        exporters.iter().all(|u| u.1.ends_with(":9100/metrics")),
        "{urls:?}"
    );
    // Only ready endpoints: node-c's exporter is on a node that stopped reporting.
    assert!(
        !exporters.iter().any(|u| u.1.contains("10.0.0.13")),
        "{urls:?}"
    );
    // The Services nobody asked to scrape are not scraped.
    assert!(
        !urls
            .iter()
            .any(|u| u.0 == "checkout" || u.0 == "kubernetes"),
        "{urls:?}"
    );
    let ksm = found
        .iter()
        .find(|t| t.labels["job"] == "kube-state-metrics")
        .unwrap();
    assert_eq!(ksm.labels["namespace"], "monitoring");
    assert_eq!(ksm.labels["node"], "node-a");
    assert!(ksm.labels["pod"].starts_with("kube-state-metrics-"));

    // The same cluster as a graph.
    use kubepulse_ingest::kube::topology::Edge;
    use kubepulse_model::ObjectRef;
    let g = cluster.topology();
    let crash = ObjectRef::new(ObjectKind::Pod, "shop", "cart-7d4b9c8f6d-p8n4m");
    let owners: Vec<String> = g
        .owners(&crash)
        .iter()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    assert_eq!(owners, ["ReplicaSet/cart-7d4b9c8f6d", "Deployment/cart"]);
    let on_a: Vec<String> = g.pods_on("node-a").into_iter().map(|p| p.name).collect();
    assert!(
        on_a.contains(&"cart-7d4b9c8f6d-h5kq2".to_string()),
        "{on_a:?}"
    );
    assert!(
        !on_a.contains(&"cart-7d4b9c8f6d-x2x9z".to_string()),
        "{on_a:?}"
    );
    let behind_cart = g.from(
        &ObjectRef::new(ObjectKind::Service, "shop", "cart"),
        Edge::Selects,
    );
    assert_eq!(behind_cart.len(), 3, "{behind_cart:?}");
    let claimants = g.to(
        &ObjectRef::new(
            ObjectKind::PersistentVolumeClaim,
            "shop",
            "data-catalog-db-0",
        ),
        Edge::Mounts,
    );
    assert_eq!(claimants[0].name, "catalog-db-0");
    let around = g.neighbours(&crash);
    assert!(
        around
            .iter()
            .any(|(e, o)| *e == Edge::RunsOn && o.kind == "Node")
    );
    assert!(
        around
            .iter()
            .any(|(e, o)| *e == Edge::Selects && o.name == "cart")
    );
    r.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_annotated_pod_is_scraped() {
    use kubepulse_model::{ObjectRef, ObjectState};
    use kubepulse_testkit::{HttpStub, StubResponse};

    let stub = HttpStub::start().unwrap();
    stub.set(StubResponse {
        status: 200,
        content_type: "text/plain; version=0.0.4".into(),
        body: b"# TYPE shop_orders_total counter\nshop_orders_total{result=\"ok\"} 42\n".to_vec(),
        ..StubResponse::default()
    });
    let (_tmp, db) = apiserver::store();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cluster = Arc::new(Cluster::new(Arc::new(db.clone())));
    let mut pod = ObjectState {
        object: ObjectRef::new(ObjectKind::Pod, "shop", "orders-1"),
        t: clock.now_ms(),
        owner: None,
        node: "node-a".into(),
        phase: "Running".into(),
        ready: true,
        restarts: 0,
        reason: String::new(),
        conditions: Default::default(),
        labels: Default::default(),
        fields: Default::default(),
        deleted: false,
    };
    for (k, v) in [
        ("podIP", "127.0.0.1".to_string()),
        ("prometheus.io/scrape", "true".into()),
        ("prometheus.io/port", stub.port.to_string()),
        ("prometheus.io/path", "/custom/metrics".into()),
    ] {
        pod.fields.insert(k.into(), v);
    }
    cluster.apply(ObjectKind::Pod, pod);
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(kubepulse_ingest::kube::discover::run(
        cluster.clone(),
        kubepulse_ingest::http_client().unwrap(),
        Arc::new(db.clone()),
        clock,
        kubepulse_ingest::IngestMetrics::default(),
        1000,
        rx,
    ));
    let w = Stopwatch::start();
    loop {
        let got = db
            .select(
                &[
                    Matcher::equal("__name__", "shop_orders_total"),
                    Matcher::equal("job", "kubernetes-pods"),
                    Matcher::equal("pod", "orders-1"),
                ],
                0,
                i64::MAX,
            )
            .unwrap();
        if !got.is_empty() {
            break;
        }
        assert!(
            w.elapsed_secs() < 20.0,
            "the annotated pod was never scraped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        stub.requests()
            .iter()
            .any(|r| r.0.contains("/custom/metrics")),
        "{:?}",
        stub.requests()
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}
