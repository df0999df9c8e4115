//! The state the API tests run against: a store in a temporary directory on a manual clock.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kubepulse_api::prom::{QueryState, ServerInfo};
use kubepulse_api::{AppState, router};
use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::OtlpMetrics;
use kubepulse_ingest::remote_write::Limits;
use kubepulse_model::ManualClock;
use kubepulse_model::{MetricMeta, MetricType};
use kubepulse_query::{Engine, EngineOptions};
use kubepulse_store::SeriesWrite;
use kubepulse_store::{Db, StoreConfig};
use prometheus_client::registry::Registry;
use tower::ServiceExt;

/// 2026-01-05T00:00:00Z.
pub const T0: i64 = 1_767_571_200_000;

/// A store and the state of a router over it, with these query options.
pub fn setup_with(opts: EngineOptions) -> (tempfile::TempDir, Db, AppState) {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let db = Db::open(tmp.path(), StoreConfig::default(), clock.clone())
        .unwrap()
        .0;
    let ingest = IngestMetrics::default();
    let mut reg = Registry::default();
    ingest.register(&mut reg);
    db.metrics().register(&mut reg);
    let info = ServerInfo {
        api_version: "2.53.0".into(),
        revision: "kubepulse-test".into(),
        retention: "15d".into(),
        ..ServerInfo::default()
    };
    let state = AppState {
        append: Arc::new(db.clone()),
        read: Arc::new(db.clone()),
        ingest,
        otlp: Arc::new(OtlpMetrics::default()),
        traces: Arc::default(),
        registry: Arc::new(reg),
        limits: Limits::default(),
        ready: Arc::new(AtomicBool::new(true)),
        query: QueryState::new(Engine::new(opts), info, clock),
        predictions: None,
        anomalies: None,
        log_templates: None,
        rules: None,
        alertmanager: None,
        simulator: None,
    };
    (tmp, db, state)
}

/// [`setup_with`] the default query options.
pub fn setup() -> (tempfile::TempDir, Db, AppState) {
    setup_with(EngineOptions::default())
}

/// Sends `req` through the router; the status and body.
pub async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, String) {
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A GET.
pub async fn get(state: &AppState, uri: &str) -> (StatusCode, String) {
    call(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// A POST of a form body.
pub async fn post_form(state: &AppState, uri: &str, form: &str) -> (StatusCode, String) {
    let req = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    call(state, req).await
}

/// `x_total{job="a"}` and `x_total{job="b"}` rising by 1 and 2 per 15 s, and `up`, over 10 min
/// before T0.
pub fn load(state: &AppState) {
    let mut writes = Vec::new();
    let samples: Vec<Vec<(i64, f64)>> = (1..=2)
        .map(|k| {
            (0..=40)
                .map(|i| (T0 - 600_000 + i * 15_000, (k * i) as f64))
                .collect()
        })
        .collect();
    let a = [("__name__", "x_total"), ("job", "a")];
    let b = [("__name__", "x_total"), ("job", "b")];
    let up = [("__name__", "up"), ("instance", "h:1"), ("job", "a")];
    writes.push(SeriesWrite {
        labels: &a,
        samples: &samples[0],
    });
    writes.push(SeriesWrite {
        labels: &b,
        samples: &samples[1],
    });
    let up_samples: Vec<(i64, f64)> = samples[0].iter().map(|&(t, _)| (t, 1.0)).collect();
    writes.push(SeriesWrite {
        labels: &up,
        samples: &up_samples,
    });
    state.append.append(&writes).unwrap();
    state.append.append_metadata(&[(
        "x_total".into(),
        MetricMeta {
            kind: MetricType::Counter,
            help: "Things <done>.".into(),
            unit: String::new(),
        },
    )]);
}
