//! The dashboard's overview of a 1,000-pod cluster: a release `kubepulse serve` runs the
//! simulated cluster at that size (50 nodes, 1,000 pods, failure prediction on), and after a
//! warm-up the overview page is requested repeatedly; the server time of each answer is its
//! latency on loopback.

use std::path::Path;
use std::time::Duration;

use kubepulse_model::clock::Stopwatch;

use crate::servers;

/// Runs the benchmark.
pub async fn run(
    bin: &Path,
    dir: &Path,
    client: &reqwest::Client,
    pods: u32,
    warmup: u64,
    reps: usize,
) -> anyhow::Result<()> {
    let yaml = format!(
        "log:\n  level: warn\nsimulator:\n  mode: on\n  cluster:\n    nodes: {}\n    pods: {pods}\n",
        (pods / 20).max(1)
    );
    let (p, port) = servers::kubepulse_with(bin, dir, "overview", &yaml)?;
    servers::wait_ready(
        client,
        &format!("http://127.0.0.1:{port}/-/ready"),
        Stopwatch::start(),
        Duration::from_secs(120),
    )
    .await?;
    eprintln!("{pods} pods simulated; warming up for {warmup} s (data and the failure model)");
    tokio::time::sleep(Duration::from_secs(warmup)).await;
    let url = format!("http://127.0.0.1:{port}/");
    let mut times = Vec::with_capacity(reps);
    let mut size = 0;
    let mut risks = false;
    for _ in 0..=reps {
        let w = Stopwatch::start();
        let r = client.get(&url).send().await?;
        anyhow::ensure!(r.status().is_success(), "overview answered {}", r.status());
        let body = r.text().await?;
        times.push(w.elapsed_secs());
        size = body.len();
        risks = body.contains("id=\"risks\"");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The first request is left out (it warms caches).
    times.remove(0);
    times.sort_by(f64::total_cmp);
    let ms = |s: f64| s * 1000.0;
    println!("| pods | requests | median | p90 | max | page size | top risks shown |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {pods} | {reps} | {:.1} ms | {:.1} ms | {:.1} ms | {size} B | {} |",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        ms(times[times.len() - 1]),
        if risks { "yes" } else { "no" }
    );
    drop(p);
    Ok(())
}
