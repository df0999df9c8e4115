//! The pod and node pages over a store: charts drawn from the cluster's series, anomalies marked
//! where `kubepulse_anomaly_score` reached 0.8, and nothing marked where it did not.

#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use kubepulse_store::SeriesWrite;
use support::{T0, get, setup};

/// Samples every 15 s over the hour before T0, from `f(minutes before T0)`.
fn hour(f: impl Fn(f64) -> f64) -> Vec<(i64, f64)> {
    (0..=240)
        .map(|i| {
            let t = T0 - 3_600_000 + i * 15_000;
            (t, f((T0 - t) as f64 / 60_000.0))
        })
        .collect()
}

/// A pod whose working set jumps 20 minutes before T0, scored as an anomaly for two minutes,
/// and a quiet neighbour.
fn load(state: &kubepulse_api::AppState) {
    let mem = hour(|m| if m < 20.0 { 400e6 } else { 200e6 });
    let flat = hour(|_| 200e6);
    let score = hour(|m| {
        if (18.0..=20.0).contains(&m) {
            0.95
        } else {
            0.1
        }
    });
    let low = hour(|_| 0.2);
    let limit = hour(|_| 512e6);
    let cart = [
        ("__name__", "container_memory_working_set_bytes"),
        ("container", "cart"),
        ("namespace", "shop"),
        ("pod", "cart-1"),
    ];
    let ad = [
        ("__name__", "container_memory_working_set_bytes"),
        ("container", "ad"),
        ("namespace", "shop"),
        ("pod", "ad-1"),
    ];
    let cart_limit = [
        ("__name__", "kube_pod_container_resource_limits"),
        ("container", "cart"),
        ("namespace", "shop"),
        ("pod", "cart-1"),
        ("resource", "memory"),
    ];
    let cart_score = [
        ("__name__", "kubepulse_anomaly_score"),
        ("namespace", "shop"),
        ("pod", "cart-1"),
        ("signal", "memory_limit_ratio"),
    ];
    let ad_score = [
        ("__name__", "kubepulse_anomaly_score"),
        ("namespace", "shop"),
        ("pod", "ad-1"),
        ("signal", "memory_limit_ratio"),
    ];
    let node_score = [
        ("__name__", "kubepulse_anomaly_score"),
        ("node", "node-01"),
        ("signal", "cpu_busy"),
    ];
    state
        .append
        .append(&[
            SeriesWrite {
                labels: &cart,
                samples: &mem,
            },
            SeriesWrite {
                labels: &ad,
                samples: &flat,
            },
            SeriesWrite {
                labels: &cart_limit,
                samples: &limit,
            },
            SeriesWrite {
                labels: &cart_score,
                samples: &score,
            },
            SeriesWrite {
                labels: &ad_score,
                samples: &low,
            },
            SeriesWrite {
                labels: &node_score,
                samples: &score,
            },
        ])
        .unwrap();
}

#[tokio::test]
async fn anomalies_are_marked_on_every_chart_of_the_object_they_belong_to() {
    let (_tmp, _db, state) = setup();
    load(&state);

    let (status, page) = get(&state, "/pods/shop/cart-1?range=1h").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page.matches("<svg").count(), 4, "four charts");
    // One burst, one mark on each of the four charts, named by signal and score.
    let marks = page.matches(r#"<line class="mark""#).count();
    assert_eq!(marks, 4, "{page}");
    assert!(
        page.contains("anomaly in memory_limit_ratio (score 0.95)"),
        "{page}"
    );
    // The memory chart carries the working set and the limit line.
    assert!(page.contains("working set"), "{page}");
    assert!(page.contains("limit"), "{page}");

    // A pod whose score stayed low has no mark.
    let (status, page) = get(&state, "/pods/shop/ad-1?range=1h").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(r#"class="mark""#), "{page}");

    // A range that ends before the burst shows none either; the burst is in the last hour only.
    let (_, page) = get(&state, "/pods/shop/cart-1?range=15m").await;
    assert!(!page.contains(r#"class="mark""#), "{page}");

    // Node pages mark theirs the same way.
    let (status, page) = get(&state, "/nodes/node-01?range=1h").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("anomaly in cpu_busy (score 0.95)"), "{page}");
    assert!(page.contains(r#"<line class="mark""#), "{page}");
}
