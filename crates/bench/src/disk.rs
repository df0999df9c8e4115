//! Bytes per sample on disk after compaction, KubePulse beside Prometheus, on a day of the
//! simulated cluster (`kubepulse-bench disk`).

use std::sync::Arc;
use std::time::Duration;

use crate::{load, now_ms, procfs, servers};

pub async fn run(
    bin: &std::path::Path,
    dir: &std::path::Path,
    client: &reqwest::Client,
    nodes: u32,
    pods: u32,
    hours: i64,
) -> anyhow::Result<()> {
    let day = 86_400_000;
    let end = now_ms() / day * day;
    let start = end - hours * 3_600_000;
    let cfg = kubepulse_sim::SimConfig {
        nodes,
        pods,
        start: kubepulse_model::format_rfc3339(start),
        chaos_per_hour: 1.0,
        ..kubepulse_sim::SimConfig::default()
    };
    let mut sim = kubepulse_sim::Simulator::new(cfg.clone(), None, None)?;
    let steps = hours * 240;
    eprintln!("simulating {hours} h of {pods} pods");
    let mut labels: Vec<Vec<(String, String)>> = Vec::new();
    let mut bodies = Vec::new();
    let mut samples = 0usize;
    for _ in 0..steps {
        let b = sim.step();
        for d in &b.new_series {
            let i = d.id as usize;
            if labels.len() <= i {
                labels.resize(i + 1, Vec::new());
            }
            labels[i] = d
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
        }
        samples += b.samples.len();
        for chunk in b.samples.chunks(2000) {
            let series: Vec<kubepulse_ingest::remote_write::encode::Series<&str>> = chunk
                .iter()
                .map(|&(id, v)| {
                    (
                        labels[id as usize]
                            .iter()
                            .map(|(a, b)| (a.as_str(), b.as_str()))
                            .collect(),
                        vec![(b.t, v)],
                    )
                })
                .collect();
            bodies.push(kubepulse_ingest::remote_write::encode::body(&series));
        }
    }
    let bodies = Arc::new(bodies);
    let mut rows = Vec::new();
    for which in servers::COMPARED {
        let sub = dir.join(format!("disk-{which}"));
        let mut sut = servers::fresh(
            client,
            which,
            bin,
            &sub,
            "  flush_interval: 10s\n  compaction_window: 6h\n  retention: 30d\n",
        )
        .await?;
        eprintln!("{}: sending {samples} samples", sut.name);
        // One connection keeps every series in order.
        load::send(client, &sut.write_url, bodies.clone(), 1, 1).await?;
        let bytes = if which == "kubepulse" {
            // Maintenance flushes every 10 s and compacts the closed windows; then a clean
            // shutdown writes every table out.
            tokio::time::sleep(Duration::from_secs(40)).await;
            sut.peer.terminate(Duration::from_secs(300));
            let db = sut.data.join("db");
            let journal: u64 = std::fs::read_dir(&db)?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "jnl"))
                .map(|e| procfs::disk_bytes(&e.path()))
                .sum();
            eprintln!(
                "kubepulse at rest: tables {} B, fjall journal {} B, WAL {} B",
                procfs::disk_bytes(&db.join("keyspaces")),
                journal,
                procfs::disk_bytes(&sut.data.join("wal"))
            );
            procfs::disk_bytes(&sut.data)
        } else {
            let r: serde_json::Value = client
                .post(format!(
                    "http://127.0.0.1:{}/api/v1/admin/tsdb/snapshot",
                    sut.port
                ))
                .send()
                .await?
                .json()
                .await?;
            let name = r["data"]["name"].as_str().unwrap_or_default().to_string();
            procfs::disk_bytes(&sut.data.join("snapshots").join(name))
        };
        rows.push((sut.name, bytes));
    }
    println!("| system | samples | bytes on disk | bytes per sample |");
    println!("|---|---|---|---|");
    for (name, bytes) in rows {
        println!(
            "| {name} | {samples} | {bytes} | {:.3} |",
            bytes as f64 / samples as f64
        );
    }
    Ok(())
}
