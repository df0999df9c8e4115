//! The state the API tests run against: a store in a temporary directory on a manual clock.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use kubepulse_api::AppState;
use kubepulse_api::prom::{QueryState, ServerInfo};
use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::OtlpMetrics;
use kubepulse_ingest::remote_write::Limits;
use kubepulse_model::ManualClock;
use kubepulse_query::{Engine, EngineOptions};
use kubepulse_store::{Db, StoreConfig};
use prometheus_client::registry::Registry;

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
        registry: Arc::new(reg),
        limits: Limits::default(),
        ready: Arc::new(AtomicBool::new(true)),
        query: QueryState::new(Engine::new(opts), info, clock),
    };
    (tmp, db, state)
}

/// [`setup_with`] the default query options.
pub fn setup() -> (tempfile::TempDir, Db, AppState) {
    setup_with(EngineOptions::default())
}
