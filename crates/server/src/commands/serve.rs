//! `kubepulse serve`: opens the store, starts the sources and serves the HTTP API until SIGINT
//! or SIGTERM, then stops the sources and flushes the store.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use kubepulse_api::AppState;
use kubepulse_api::prom::{QueryState, ServerInfo};
use kubepulse_ingest::IngestMetrics;
use kubepulse_ingest::otlp::OtlpMetrics;
use kubepulse_ingest::remote_write::Limits;
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Clock, SystemClock};
use kubepulse_query::Engine;
use kubepulse_sim::{Scenario, Simulator};
use kubepulse_store::Db;
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::anomalies::{self, Anomalies, AnomalyMetrics};
use crate::cli::ServeArgs;
use crate::config::{Config, SimulatorMode};
use crate::logmine::LogMining;
use crate::notifications::{self, Notifications, NotifyMetrics};
use crate::periodic;
use crate::predictor::{self, Predictor};
use crate::rules::Rules;

/// Runs the server.
pub fn run(mut cfg: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(l) = args.listen {
        cfg.server.listen = l;
    }
    if let Some(d) = args.data_dir {
        cfg.server.data_dir = d;
    }
    if args.simulate {
        cfg.simulator.mode = SimulatorMode::On;
    }
    let k = &mut cfg.kubernetes;
    k.in_cluster |= args.in_cluster;
    k.kubeconfig = args.kubeconfig.or(k.kubeconfig.take());
    k.context = args.context.or(k.context.take());
    // Naming a way to reach a cluster means watching it.
    k.enabled |= k.in_cluster || k.kubeconfig.is_some() || k.context.is_some();
    cfg.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kubepulse")
        .build()?;
    rt.block_on(serve(cfg))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let started = Stopwatch::start();
    let dir = cfg.server.data_dir.clone();
    let store_cfg = cfg.store.clone();
    let open_clock = clock.clone();
    let (db, stats) = tokio::task::spawn_blocking(move || Db::open(&dir, store_cfg, open_clock))
        .await?
        .with_context(|| format!("opening the store in {}", cfg.server.data_dir.display()))?;
    info!(
        series = stats.series,
        wal_records = stats.wal_records,
        seconds = format!("{:.3}", started.elapsed_secs()),
        "store ready"
    );
    let ingest = IngestMetrics::default();
    let mut registry = Registry::default();
    db.metrics().register(&mut registry);
    ingest.register(&mut registry);
    let anomaly_metrics = AnomalyMetrics::default();
    anomaly_metrics.register(&mut registry);
    let anomalies = if cfg.anomaly.enabled {
        Some(Arc::new(Anomalies::new(
            anomalies::watches(&cfg.anomaly)?,
            cfg.anomaly.max_series,
            Engine::new(cfg.query.engine_options()),
            clock.clone(),
            anomaly_metrics,
            cfg.server.data_dir.join("anomaly-state.json.zst"),
        )))
    } else {
        None
    };
    let ready = Arc::new(AtomicBool::new(false));
    let predictor = cfg.prediction.enabled.then(|| {
        Arc::new(Predictor::new(
            Engine::new(cfg.query.engine_options()),
            clock.clone(),
            cfg.simulator.cluster.cluster.clone(),
            cfg.prediction.max_simulate,
        ))
    });
    // Every write goes through log template mining.
    let mining = Arc::new(LogMining::new(
        Arc::new(db.clone()),
        clock.clone(),
        cfg.server.data_dir.join("log-templates.json.zst"),
    ));
    let append: Arc<dyn kubepulse_store::Append> = mining.clone();
    let notify_metrics = NotifyMetrics::default();
    notify_metrics.register(&mut registry);
    let notifications = if cfg.rules.enabled {
        Some(Notifications::new(notifications::Setup {
            cfg: cfg.alerting.clone(),
            clock: clock.clone(),
            data_dir: cfg.server.data_dir.clone(),
            client: kubepulse_ingest::http_client().map_err(anyhow::Error::msg)?,
            external_url: cfg.rules.external_url.clone(),
            external_labels: kubepulse_model::Labels::from_pairs(
                cfg.rules
                    .external_labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )?,
            metrics: notify_metrics,
        })?)
    } else {
        None
    };
    let rules = if cfg.rules.enabled {
        Some(Arc::new(Rules::new(
            cfg.rules.clone(),
            Engine::new(cfg.query.engine_options()),
            clock.clone(),
            Arc::new(db.clone()),
            Arc::new(db.clone()),
            cfg.server.data_dir.join("alert-state.json.zst"),
            notifications.clone(),
        )?))
    } else {
        None
    };
    let simulate = match cfg.simulator.mode {
        SimulatorMode::On => true,
        SimulatorMode::Off => false,
        SimulatorMode::Auto => cfg.scrape.scrape_configs.is_empty() && !cfg.kubernetes.enabled,
    };
    let simulator = if simulate {
        if cfg.simulator.mode == SimulatorMode::Auto {
            info!(
                "no cluster and no scrape jobs configured: serving the built-in simulated cluster"
            );
        }
        let scenario = cfg
            .simulator
            .scenario
            .as_ref()
            .map(|p| Scenario::load(p))
            .transpose()?;
        let sim = Simulator::new(
            cfg.simulator.cluster.clone(),
            scenario.as_ref(),
            Some(clock.now_ms()),
        )?;
        Some(Arc::new(Mutex::new(sim)))
    } else {
        None
    };
    let state = AppState {
        append: append.clone(),
        read: Arc::new(db.clone()),
        ingest: ingest.clone(),
        otlp: Arc::new(OtlpMetrics::default()),
        traces: Arc::default(),
        registry: Arc::new(registry),
        limits: Limits {
            max_body: cfg.ingest.max_body_bytes,
            max_message: cfg.ingest.max_message_bytes,
        },
        ready: ready.clone(),
        query: QueryState::new(
            Engine::new(cfg.query.engine_options()),
            server_info(&cfg, clock.now_ms()),
            clock.clone(),
        ),
        predictions: predictor
            .clone()
            .map(|p| p as Arc<dyn kubepulse_api::predict::PredictionService>),
        anomalies: anomalies
            .clone()
            .map(|a| a as Arc<dyn kubepulse_api::anomaly::AnomalyService>),
        log_templates: Some(mining.clone()),
        rules: rules
            .clone()
            .map(|r| r as Arc<dyn kubepulse_api::prom::rules::RulesService>),
        alertmanager: notifications
            .clone()
            .map(|n| n as Arc<dyn kubepulse_api::alertmanager::AlertmanagerService>),
        simulator: simulator.clone(),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let maintenance = spawn_maintenance(db.clone(), stop_rx.clone());
    let mut tasks = Vec::new();
    if !cfg.scrape.scrape_configs.is_empty() {
        let client = kubepulse_ingest::http_client().map_err(anyhow::Error::msg)?;
        info!(jobs = cfg.scrape.scrape_configs.len(), "scraping");
        tasks.push(tokio::spawn(kubepulse_ingest::scrape::run(
            cfg.scrape.clone(),
            Arc::new(db.clone()),
            client,
            clock.clone(),
            ingest.clone(),
            stop_rx.clone(),
        )));
    }
    if let Some(sim) = &simulator {
        tasks.push(tokio::spawn(kubepulse_ingest::sim_source::run_live(
            sim.clone(),
            append.clone(),
            clock.clone(),
            ingest.clone(),
            stop_rx.clone(),
        )));
    }
    if cfg.kubernetes.enabled {
        tasks.extend(
            crate::cluster::start(
                &cfg,
                append.clone(),
                Arc::new(db.clone()),
                clock.clone(),
                ingest.clone(),
                stop_rx.clone(),
            )
            .await?,
        );
    }
    if let Some(p) = &predictor {
        tasks.push(start_prediction(&cfg, p.clone(), &db, stop_rx.clone()));
    }
    tasks.push(tokio::spawn(periodic::every(
        mining.clone(),
        Duration::from_secs(15),
        stop_rx.clone(),
    )));
    if let Some(a) = &anomalies {
        let job = anomalies::Scoring {
            anomalies: a.clone(),
            read: Arc::new(db.clone()),
            append: Arc::new(db.clone()),
        };
        tasks.push(tokio::spawn(periodic::every(
            Arc::new(job),
            Duration::from_millis(cfg.anomaly.interval.ms().max(1000) as u64),
            stop_rx.clone(),
        )));
    }
    if let Some(r) = &rules {
        tasks.push(tokio::spawn(periodic::every(
            r.clone(),
            Duration::from_secs(1),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(reload_on_hangup(r.clone(), stop_rx.clone())));
    }
    if let Some(n) = &notifications {
        tasks.push(tokio::spawn(periodic::every(
            n.clone(),
            Duration::from_secs(1),
            stop_rx.clone(),
        )));
    }
    let signalled = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.server.listen))?;
    info!(address = %listener.local_addr()?, "listening");
    ready.store(true, Ordering::SeqCst);
    let app = kubepulse_api::router(state);
    let shutdown = async move {
        signalled.await;
        info!("shutting down");
        let _ = stop_tx.send(true);
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    let _ = maintenance.join();
    let flush = Stopwatch::start();
    tokio::task::spawn_blocking(move || db.close()).await??;
    info!(
        seconds = format!("{:.3}", flush.elapsed_secs()),
        "store flushed, bye"
    );
    Ok(())
}

/// Reloads the rule files on every SIGHUP until `stop` turns true.
async fn reload_on_hangup(rules: Arc<Rules>, mut stop: watch::Receiver<bool>) {
    use kubepulse_api::prom::rules::RulesService;
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        warn!("cannot listen for SIGHUP: rules reload only through POST /-/reload");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {}
            _ = stop.changed() => return,
        }
        info!("SIGHUP: reloading rules");
        let r = rules.clone();
        let _ = tokio::task::spawn_blocking(move || r.reload()).await;
    }
}

/// Loads or trains the failure model off the async threads, then scores every interval.
fn start_prediction(
    cfg: &Config,
    p: Arc<Predictor>,
    db: &Db,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let cfg = cfg.clone();
    let read: Arc<dyn kubepulse_store::Read> = Arc::new(db.clone());
    let append: Arc<dyn kubepulse_store::Append> = Arc::new(db.clone());
    let interval = Duration::from_millis(cfg.prediction.interval.ms().max(1000) as u64);
    tokio::spawn(async move {
        let loaded = tokio::task::spawn_blocking(move || predictor::load_or_train(&cfg)).await;
        match loaded {
            Ok(Ok(m)) => p.set_model(m),
            Ok(Err(e)) => {
                error!(error = %e, "no failure model: predictions are off");
                return;
            }
            Err(e) => {
                error!(error = %e, "failure model training panicked: predictions are off");
                return;
            }
        }
        let job = predictor::Scoring {
            predictor: p,
            read,
            append,
        };
        periodic::every(Arc::new(job), interval, stop).await;
    })
}

/// Runs store maintenance (WAL sync, flush, compaction, retention) every second on its own
/// thread until `stop` turns true.
fn spawn_maintenance(db: Db, stop: watch::Receiver<bool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !*stop.borrow() {
            if let Err(e) = db.maintain() {
                error!(error = %e, "store maintenance failed");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

/// Registers for SIGTERM and SIGINT at once, so that a signal that comes before the server
/// is up is not left to the default action (which kills the process without flushing), and
/// resolves at the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let listen = |kind: SignalKind| {
            signal(kind)
                .map_err(|e| warn!(error = %e, "cannot listen for a shutdown signal"))
                .ok()
        };
        let mut term = listen(SignalKind::terminate());
        let mut int = listen(SignalKind::interrupt());
        async fn recv(s: Option<&mut Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                _ = recv(term.as_mut()) => {}
                _ = recv(int.as_mut()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What the API's status endpoints report.
fn server_info(cfg: &Config, now: i64) -> ServerInfo {
    let q = &cfg.query;
    let flags = [
        ("query.lookback-delta", q.lookback_delta.to_string()),
        ("query.timeout", q.timeout.to_string()),
        ("query.max-samples", q.max_samples.to_string()),
        (
            "storage.tsdb.retention.time",
            cfg.store.retention.to_string(),
        ),
        (
            "storage.tsdb.path",
            cfg.server.data_dir.display().to_string(),
        ),
        ("web.listen-address", cfg.server.listen.clone()),
    ];
    ServerInfo {
        api_version: "2.53.0".into(),
        revision: format!(
            "kubepulse-{}-{}",
            env!("CARGO_PKG_VERSION"),
            option_env!("KUBEPULSE_GIT_COMMIT").unwrap_or("unknown")
        ),
        build_date: option_env!("KUBEPULSE_BUILD_DATE")
            .unwrap_or("unknown")
            .into(),
        compiler: option_env!("KUBEPULSE_RUSTC").unwrap_or("rustc").into(),
        start_ms: now,
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        retention: cfg.store.retention.to_string(),
        flags: flags.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        config_yaml: serde_saphyr::to_string(cfg).unwrap_or_default(),
    }
}
