//! `kubepulse-bench`: KubePulse side by side with Prometheus 2.42 on the same machine, in the same
//! run, with the same data. Method and results are in `docs/BENCHMARKS.md`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod disk;
mod load;
mod logs;
mod notify;
mod overview;
mod predict;
mod procfs;
mod query;
mod rules;
mod servers;
mod watch;

/// The allocator `kubepulse` runs with, so that what is measured in-process here allocates as
/// the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kubepulse_model::clock::Stopwatch;

#[derive(Parser)]
#[command(about = "Benchmarks KubePulse against Prometheus 2.42 on this machine.")]
struct Cli {
    /// The kubepulse binary to run (a release build).
    #[arg(long, default_value = "target/release/kubepulse")]
    kubepulse: PathBuf,
    /// Working directory, kept afterwards (data of both systems); by default a fresh temporary
    /// directory, removed at the end.
    #[arg(long)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// remote_write ingest: samples per CPU-second, memory per series, restart after kill -9.
    Ingest {
        /// Active series.
        #[arg(long, default_value_t = 100_000)]
        series: usize,
        /// Rounds of one sample per series, 15 s apart.
        #[arg(long, default_value_t = 40)]
        rounds: usize,
        /// Series per request.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
        /// Concurrent connections.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Sends the ingest load to a server that is already running (for profiling).
    Send {
        /// remote_write URL.
        #[arg(long)]
        url: String,
        /// Active series.
        #[arg(long, default_value_t = 100_000)]
        series: usize,
        /// Rounds.
        #[arg(long, default_value_t = 40)]
        rounds: usize,
    },
    /// Bytes per sample on disk after compaction, on a day of the simulated cluster.
    Disk {
        /// Simulated nodes.
        #[arg(long, default_value_t = 6)]
        nodes: u32,
        /// Simulated pods.
        #[arg(long, default_value_t = 120)]
        pods: u32,
        /// Simulated hours (ending at the last UTC midnight).
        #[arg(long, default_value_t = 24)]
        hours: i64,
    },
    /// Latency of typical dashboard queries, both systems holding the same data.
    Query {
        /// Pods; each has 4 request counters and a memory gauge, every fifth a 12-bucket
        /// latency histogram (2,500 pods: 10,000 request counters, 18,500 series).
        #[arg(long, default_value_t = 2500)]
        pods: usize,
        /// Hours of data at 15 s.
        #[arg(long, default_value_t = 6)]
        hours: i64,
        /// Timed runs of each query per system (after one untimed run whose results are
        /// compared).
        #[arg(long, default_value_t = 15)]
        reps: usize,
    },
    /// Failure prediction: scoring every pod of a large simulated cluster, on one thread.
    Scoring {
        /// Pods (one node per 20).
        #[arg(long, default_value_t = 10_000)]
        pods: u32,
        /// A model file; by default one is trained first.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Timed runs (the best is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Also keep the features up to date from the embedded store (the series written to
        /// it first), as `kubepulse serve` does.
        #[arg(long)]
        store: bool,
    },
    /// Streaming anomaly detection: point updates per second and state per series.
    Anomaly {
        /// Series.
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        /// Points per series (past the detector's 300-point calibration, to measure the
        /// steady state).
        #[arg(long, default_value_t = 2_000)]
        points: usize,
    },
    /// Log template mining: lines per second on one thread, over the LogHub systems' raw lines
    /// (headers included, as a live log line arrives), the parser warm after the first round.
    Templates {
        /// The LogHub benchmark folder.
        #[arg(long, default_value = "../shared/data/loghub")]
        dir: PathBuf,
        /// Rounds over the 20,000 lines.
        #[arg(long, default_value_t = 50)]
        rounds: usize,
    },
    /// Log ingestion: LogHub's lines pushed through the Loki push API (stored, made durable and
    /// given templates before each answer).
    Logs {
        /// The LogHub benchmark folder.
        #[arg(long, default_value = "../shared/data/loghub")]
        dir: PathBuf,
        /// Lines in all.
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// Lines per request.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Streams (pods).
        #[arg(long, default_value_t = 100)]
        streams: usize,
        /// Connections.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Rule evaluation: 1,000 rules over 100,000 series, KubePulse on one thread and
    /// Prometheus pinned to one core.
    Rules {
        /// Series per metric (100 metrics).
        #[arg(long, default_value_t = 1000)]
        series: usize,
        /// Groups of 100 rules.
        #[arg(long, default_value_t = 10)]
        groups: usize,
    },
    /// Notifications: alerts posted over a minute to KubePulse and Alertmanager 0.25 with the
    /// same routing tree; their groups compared.
    Notify {
        /// Alerts.
        #[arg(long, default_value_t = 10_000)]
        alerts: usize,
    },
    /// The dashboard's overview page of a large simulated cluster: server time per request.
    Overview {
        /// Simulated pods (one node per 20).
        #[arg(long, default_value_t = 1000)]
        pods: u32,
        /// Seconds of simulated cluster before measuring (data and the failure model).
        #[arg(long, default_value_t = 240)]
        warmup: u64,
        /// Requests measured.
        #[arg(long, default_value_t = 50)]
        reps: usize,
    },
    /// Memory of `kubepulse serve --kubeconfig` watching a large cluster (loopback API server).
    Watch {
        /// Pods in the cluster.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Rounds of changes after the initial list.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Pod changes (MODIFIED events) per round.
        #[arg(long, default_value_t = 20_000)]
        changes: usize,
    },
    /// Failure prediction: training on simulated clusters (`kubepulse train`), the forests'
    /// time from its log.
    Training {
        /// Simulator seeds, comma-separated (three 12-hour clusters of 120 pods make about a
        /// million pod windows).
        #[arg(long, default_value = "1,2,3")]
        seeds: String,
        /// Simulated hours per seed.
        #[arg(long, default_value_t = 12)]
        hours: u32,
    },
}

struct Measured {
    name: &'static str,
    samples: usize,
    wall: f64,
    cpu: f64,
    rss_per_series: f64,
    restart: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    cli.kubepulse = std::fs::canonicalize(&cli.kubepulse)
        .map_err(|e| anyhow::anyhow!("{}: {e}", cli.kubepulse.display()))?;
    let tmp = tempfile_dir(cli.dir.clone())?;
    let client = kubepulse_ingest::http_client().map_err(anyhow::Error::msg)?;
    let result = run(cli.what, &cli.kubepulse, &tmp, &client).await;
    if cli.dir.is_none() {
        std::fs::remove_dir_all(&tmp).ok();
    }
    result
}

async fn run(
    what: What,
    bin: &std::path::Path,
    tmp: &std::path::Path,
    client: &reqwest::Client,
) -> anyhow::Result<()> {
    match what {
        What::Ingest {
            series,
            rounds,
            batch,
            concurrency,
        } => ingest(bin, tmp, client, series, rounds, batch, concurrency).await,
        What::Send {
            url,
            series,
            rounds,
        } => {
            let labels = load::series(series);
            let start = now_ms() / 15_000 * 15_000 - rounds as i64 * 15_000;
            let bodies = Arc::new(load::requests(&labels, rounds, start, 15_000, 2000));
            load::send(client, &url, bodies, series.div_ceil(2000), 4).await
        }
        What::Disk { nodes, pods, hours } => disk::run(bin, tmp, client, nodes, pods, hours).await,
        What::Query { pods, hours, reps } => query::run(bin, tmp, client, pods, hours, reps).await,
        What::Scoring {
            pods,
            model,
            reps,
            store,
        } => predict::scoring(bin, tmp, model.as_deref(), pods, reps, store),
        What::Training { seeds, hours } => predict::training(bin, tmp, &seeds, hours),
        What::Anomaly { series, points } => predict::anomaly(series, points),
        What::Rules { series, groups } => rules::run(tmp, client, series, groups).await,
        What::Notify { alerts } => notify::run(bin, tmp, client, alerts).await,
        What::Overview { pods, warmup, reps } => {
            overview::run(bin, tmp, client, pods, warmup, reps).await
        }
        What::Watch {
            pods,
            rounds,
            changes,
        } => watch::run(bin, tmp, client, pods, rounds, changes).await,
        What::Templates { dir, rounds } => logs::templates(&dir, rounds),
        What::Logs {
            dir,
            lines,
            batch,
            streams,
            concurrency,
        } => {
            let load = logs::Load {
                total: lines,
                batch,
                streams,
                concurrency,
            };
            logs::ingest(bin, tmp, client, &dir, load).await
        }
    }
}

fn tempfile_dir(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let d = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("kubepulse-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn now_ms() -> i64 {
    kubepulse_model::Clock::now_ms(&kubepulse_model::SystemClock)
}

async fn ingest(
    bin: &std::path::Path,
    dir: &std::path::Path,
    client: &reqwest::Client,
    series: usize,
    rounds: usize,
    batch: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let ticks = procfs::ticks_per_second();
    let labels = load::series(series);
    let step = 15_000;
    let start = now_ms() / step * step - rounds as i64 * step;
    let per_round = series.div_ceil(batch);
    eprintln!(
        "encoding {rounds} rounds of {series} series ({} requests)",
        per_round * rounds
    );
    let bodies = Arc::new(load::requests(&labels, rounds, start, step, batch));
    let mut results = Vec::new();
    for which in servers::COMPARED {
        let sub = dir.join(which);
        let mut sut = servers::fresh(client, which, bin, &sub, "  flush_interval: 15m\n").await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let pid = sut.peer.pid();
        let (cpu0, rss0) = (procfs::cpu_seconds(pid, ticks)?, procfs::rss_bytes(pid)?);
        eprintln!("{}: sending", sut.name);
        let clock = Stopwatch::start();
        load::send(
            client,
            &sut.write_url,
            bodies.clone(),
            per_round,
            concurrency,
        )
        .await?;
        let wall = clock.elapsed_secs();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (cpu1, rss1) = (procfs::cpu_seconds(pid, ticks)?, procfs::rss_bytes(pid)?);
        sut.peer.kill9();
        let clock = Stopwatch::start();
        let again = servers::either(which, bin, &sub, "  flush_interval: 15m\n")?;
        let restart =
            servers::wait_ready(client, &again.ready_url, clock, Duration::from_secs(900)).await?;
        results.push(Measured {
            name: sut.name,
            samples: series * rounds,
            wall,
            cpu: cpu1 - cpu0,
            rss_per_series: (rss1.saturating_sub(rss0)) as f64 / series as f64,
            restart,
        });
        drop(again);
    }
    println!(
        "| system | samples | wall s | CPU s | samples per CPU-second | RSS growth per series | ready after kill -9 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &results {
        println!(
            "| {} | {} | {:.1} | {:.2} | {:.0} | {:.0} B | {:.2} s |",
            r.name,
            r.samples,
            r.wall,
            r.cpu,
            r.samples as f64 / r.cpu,
            r.rss_per_series,
            r.restart
        );
    }
    if let [a, b] = results.as_slice() {
        println!(
            "\nKubePulse / Prometheus: {:.2}× samples per CPU-second, {:.2}× memory per series, {:.2}× restart time",
            (a.samples as f64 / a.cpu) / (b.samples as f64 / b.cpu),
            a.rss_per_series / b.rss_per_series,
            a.restart / b.restart
        );
    }
    Ok(())
}
