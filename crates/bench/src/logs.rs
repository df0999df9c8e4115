//! Log benchmarks: template mining throughput.

use std::path::Path;

use anyhow::Context;
use kubepulse_intel::templates::{Drain, Settings};
use kubepulse_model::Clock;
use kubepulse_model::clock::Stopwatch;

/// Every raw line of every LogHub system, `rounds` times through one parser on this thread.
pub fn templates(dir: &Path, rounds: usize) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        let Some(system) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let log = path.join(format!("{system}_2k.log"));
        if log.is_file() {
            let text =
                std::fs::read_to_string(&log).with_context(|| format!("{}", log.display()))?;
            lines.extend(text.lines().map(str::to_string));
        }
    }
    anyhow::ensure!(
        !lines.is_empty(),
        "no <System>_2k.log under {}",
        dir.display()
    );
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut drain = Drain::new(Settings::default());
    let mut sum = 0u64;
    let w = Stopwatch::start();
    for _ in 0..rounds {
        for l in &lines {
            sum += u64::from(drain.add(l));
        }
    }
    let secs = w.elapsed_secs();
    std::hint::black_box(sum);
    let n = (lines.len() * rounds) as f64;
    println!(
        "{} lines ({} rounds of {}, {:.1} MB) in {:.2} s: {:.2} M lines/s, {:.0} MB/s on one thread; {} templates",
        lines.len() * rounds,
        rounds,
        lines.len(),
        (bytes * rounds) as f64 / 1e6,
        secs,
        n / secs / 1e6,
        (bytes * rounds) as f64 / secs / 1e6,
        drain.len()
    );
    Ok(())
}

/// The shape of a log ingestion run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Lines in all.
    pub total: usize,
    /// Lines per request.
    pub batch: usize,
    /// Streams.
    pub streams: usize,
    /// Connections.
    pub concurrency: usize,
}

/// Pushes `lines` log lines (LogHub's raw lines, over `streams` streams) to a KubePulse
/// server through the Loki push API, `batch` lines a request over `concurrency` connections;
/// reports lines per second, bytes per second and the server's CPU time. Each line is stored,
/// made durable and given a template before its request is acknowledged.
pub async fn ingest(
    bin: &Path,
    dir: &Path,
    client: &reqwest::Client,
    loghub: &Path,
    load: Load,
) -> anyhow::Result<()> {
    let Load {
        total,
        batch,
        streams,
        concurrency,
    } = load;
    use kubepulse_ingest::loki::{Entry, PushRequest, Stream, encode_protobuf};

    let mut source = Vec::new();
    for entry in std::fs::read_dir(loghub).with_context(|| format!("{}", loghub.display()))? {
        let path = entry?.path();
        if let Some(system) = path.file_name().and_then(|n| n.to_str()) {
            let log = path.join(format!("{system}_2k.log"));
            if log.is_file() {
                source.extend(std::fs::read_to_string(&log)?.lines().map(str::to_string));
            }
        }
    }
    anyhow::ensure!(
        !source.is_empty(),
        "no <System>_2k.log under {}",
        loghub.display()
    );
    let now_ns = kubepulse_model::SystemClock.now_ms() * 1_000_000;
    let per_stream = batch.div_ceil(streams.clamp(1, batch.max(1)));
    let requests = total.div_ceil(batch.max(1));
    let mut bodies = Vec::with_capacity(requests);
    let mut bytes = 0usize;
    let mut n = 0usize;
    for r in 0..requests {
        let mut push = PushRequest::default();
        for s in 0..batch.div_ceil(per_stream) {
            let stream = (r * 7 + s) % streams.max(1);
            let entries = (0..per_stream)
                .map(|i| {
                    let line = source[n % source.len()].clone();
                    n += 1;
                    bytes += line.len();
                    Entry {
                        // One second of lines per request, older requests first.
                        t_ns: now_ns - (requests - r) as i64 * 1_000_000_000 + i as i64,
                        line,
                        metadata: Vec::new(),
                    }
                })
                .collect();
            push.streams.push(Stream {
                labels: vec![
                    ("container".into(), "app".into()),
                    ("namespace".into(), "bench".into()),
                    ("pod".into(), format!("pod-{stream}")),
                ],
                entries,
            });
        }
        bodies.push(encode_protobuf(&push));
    }
    let sut = crate::servers::kubepulse(bin, dir, "  flush_interval: 30s\n")?;
    let url = format!("http://127.0.0.1:{}/loki/api/v1/push", sut.port);
    let ticks = crate::procfs::ticks_per_second();
    let pid = sut.peer.pid();
    let cpu0 = crate::procfs::cpu_seconds(pid, ticks)?;
    let bodies = std::sync::Arc::new(bodies);
    let w = Stopwatch::start();
    let mut tasks = Vec::new();
    for shard in 0..concurrency.max(1) {
        let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            for body in bodies.iter().skip(shard).step_by(concurrency.max(1)) {
                let resp = client
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(body.clone())
                    .send()
                    .await?;
                if resp.status().as_u16() != 204 {
                    anyhow::bail!(
                        "push answered {}: {}",
                        resp.status(),
                        resp.text().await.unwrap_or_default()
                    );
                }
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = w.elapsed_secs();
    let cpu = crate::procfs::cpu_seconds(pid, ticks)? - cpu0;
    println!(
        "{n} lines ({:.1} MB of lines, {} requests of {batch}, {streams} streams, {concurrency} connections) in {secs:.2} s: {:.0} lines/s, {:.1} MB/s; server CPU {cpu:.2} s = {:.0} lines per CPU-second",
        bytes as f64 / 1e6,
        requests,
        n as f64 / secs,
        bytes as f64 / secs / 1e6,
        n as f64 / cpu.max(1e-9),
    );
    Ok(())
}
