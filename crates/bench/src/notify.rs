//! Notification routing and grouping: 10,000 alerts posted over a minute to KubePulse and to
//! Alertmanager 0.25 holding the same configuration (a routing tree with matchers, `continue`
//! and grouping), then both asked for their groups: the groups must be the same (receiver,
//! grouping labels, member alerts). Also timed: KubePulse's dispatcher routing and flushing the
//! same alerts on one thread.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use kubepulse_alert::notify::alerts::PipelineAlert;
use kubepulse_alert::notify::config::NotifyConfig;
use kubepulse_alert::notify::dispatch::{Dispatcher, PipelineState};
use kubepulse_alert::notify::inhibit::InhibitRule;
use kubepulse_alert::notify::route::Route;
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Labels, format_rfc3339};
use kubepulse_testkit::{Peer, free_port};
use serde_json::{Value, json};

use crate::servers;

/// The configuration both systems run.
pub const CONFIG: &str = r#"route:
  receiver: default
  group_by: [alertname, namespace]
  group_wait: 30s
  group_interval: 1m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      group_by: [alertname]
      continue: true
    - matchers: ['team=~"payments|checkout"']
      receiver: shop
      routes:
        - matchers: ['namespace="ns-0"']
          receiver: shop-primary
    - matchers: ['team="data"', 'severity!="info"']
      receiver: data
      group_by: ['...']
receivers:
  - name: default
  - name: pager
  - name: shop
  - name: shop-primary
  - name: data
"#;

const TEAMS: [&str; 5] = ["payments", "checkout", "data", "platform", "search"];
const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// Alert `i` of the load.
fn labels(i: usize) -> Vec<(String, String)> {
    vec![
        ("alertname".into(), format!("Alert{}", i % 40)),
        ("namespace".into(), format!("ns-{}", i % 25)),
        ("pod".into(), format!("pod-{i}")),
        ("severity".into(), SEVERITIES[i % 3].into()),
        ("team".into(), TEAMS[i % 5].into()),
    ]
}

fn postable(range: std::ops::Range<usize>, now: i64) -> Value {
    json!(
        range
            .map(|i| {
                let l: BTreeMap<String, String> = labels(i).into_iter().collect();
                json!({
                    "labels": l,
                    "annotations": {"summary": format!("alert {i}")},
                    "startsAt": format_rfc3339(now),
                    "endsAt": format_rfc3339(now + 3_600_000),
                })
            })
            .collect::<Vec<_>>()
    )
}

/// Receiver, grouping labels and member pods of every group a system reports.
type Groups = BTreeSet<(String, String, Vec<String>)>;

fn groups(v: &Value) -> Groups {
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let mut pods: Vec<String> = g["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| a["labels"]["pod"].as_str().unwrap_or("").to_string())
                .collect();
            pods.sort();
            (
                g["receiver"]["name"].as_str().unwrap_or("").to_string(),
                g["labels"].to_string(),
                pods,
            )
        })
        .collect()
}

fn alertmanager(dir: &Path) -> anyhow::Result<(Peer, u16)> {
    let port = free_port();
    std::fs::write(dir.join("am.yml"), CONFIG)?;
    let args = vec![
        format!("--config.file={}", dir.join("am.yml").display()),
        format!("--storage.path={}", dir.join("am-data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
        "--log.level=warn".into(),
    ];
    let mut p = Peer::start_in(
        "alertmanager",
        Path::new("/usr/bin/prometheus-alertmanager"),
        &args,
        &dir.join("am-run"),
    )?;
    p.wait_port(port, Duration::from_secs(60))?;
    Ok((p, port))
}

fn kubepulse(bin: &Path, dir: &Path) -> anyhow::Result<(Peer, u16)> {
    std::fs::write(dir.join("notify.yml"), CONFIG)?;
    let yaml = format!(
        "simulator:\n  mode: off\nprediction:\n  enabled: false\nanomaly:\n  enabled: false\nlog:\n  level: warn\nrules:\n  builtin: false\nalerting:\n  config_file: {}\n",
        dir.join("notify.yml").display()
    );
    servers::kubepulse_with(bin, dir, "kubepulse", &yaml)
}

/// KubePulse's dispatcher alone: `n` alerts received over a minute and flushed, one thread.
fn in_process(n: usize) -> anyhow::Result<(f64, usize, usize)> {
    let cfg = NotifyConfig::parse("bench.yml", CONFIG).map_err(|e| anyhow::anyhow!("{e}"))?;
    let route = Route::root(
        cfg.route
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no route"))?,
    )
    .map_err(anyhow::Error::msg)?;
    let inhibit: Vec<InhibitRule> = Vec::new();
    let integrations = cfg
        .receivers
        .iter()
        .map(|r| (r.name.clone(), vec![true]))
        .collect();
    let mut d = Dispatcher {
        route,
        inhibit,
        integrations,
        resolve_timeout: 300_000,
        state: PipelineState::default(),
    };
    let t0 = 1_800_000_000_000;
    let per_second = n.div_ceil(60);
    let watch = Stopwatch::start();
    let mut notified = 0;
    for s in 0..=90 {
        let now = t0 + s * 1000;
        let from = (s as usize * per_second).min(n);
        let to = ((s as usize + 1) * per_second).min(n);
        for i in from..to {
            let labels = Labels::from_pairs(labels(i))?;
            d.receive(
                PipelineAlert {
                    labels,
                    annotations: BTreeMap::from([("summary".into(), format!("alert {i}"))]),
                    starts_at: now,
                    ends_at: now + 3_600_000,
                    updated_at: 0,
                    generator_url: String::new(),
                },
                now,
            );
        }
        for note in d.tick(now) {
            notified += note.alerts.len();
            d.record(&note.log_key, &note.firing, &note.resolved, now);
        }
    }
    Ok((watch.elapsed_secs(), d.state.groups.len(), notified))
}

/// Runs the benchmark.
pub async fn run(bin: &Path, dir: &Path, client: &reqwest::Client, n: usize) -> anyhow::Result<()> {
    let (secs, groups_in_process, notified) = in_process(n)?;
    eprintln!("dispatcher: {n} alerts routed, grouped and flushed in {secs:.3} s on one thread");
    let kdir = dir.join("notify-kubepulse");
    let adir = dir.join("notify-alertmanager");
    for d in [&kdir, &adir] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d)?;
    }
    let (kp, kport) = kubepulse(bin, &kdir)?;
    let (am, aport) = alertmanager(&adir)?;
    for p in [kport, aport] {
        servers::wait_ready(
            client,
            &format!("http://127.0.0.1:{p}/-/ready"),
            Stopwatch::start(),
            Duration::from_secs(60),
        )
        .await?;
    }
    let ticks = crate::procfs::ticks_per_second();
    let cpu0 = [
        crate::procfs::cpu_seconds(kp.pid(), ticks)?,
        crate::procfs::cpu_seconds(am.pid(), ticks)?,
    ];
    // One batch a second for a minute, to both.
    let per = n.div_ceil(60);
    let now = crate::now_ms();
    let watch = Stopwatch::start();
    for b in 0..60 {
        let body = postable((b * per).min(n)..((b + 1) * per).min(n), now).to_string();
        for port in [kport, aport] {
            let r = client
                .post(format!("http://127.0.0.1:{port}/api/v2/alerts"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "port {port}: {}", r.status());
        }
        let next = Duration::from_secs_f64((b + 1) as f64 - watch.elapsed_secs());
        tokio::time::sleep(next.min(Duration::from_secs(1))).await;
    }
    let cpu = [
        crate::procfs::cpu_seconds(kp.pid(), ticks)? - cpu0[0],
        crate::procfs::cpu_seconds(am.pid(), ticks)? - cpu0[1],
    ];
    let mut got = Vec::new();
    for port in [kport, aport] {
        let v: Value = client
            .get(format!("http://127.0.0.1:{port}/api/v2/alerts/groups"))
            .send()
            .await?
            .json()
            .await?;
        got.push(groups(&v));
    }
    let same = got[0] == got[1];
    let members: usize = got[1].iter().map(|g| g.2.len()).sum();
    println!(
        "| system | alerts over one minute | CPU used | groups | alerts in groups | groups equal to Alertmanager's |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| KubePulse | {n} | {:.2} s | {} | {} | {} |",
        cpu[0],
        got[0].len(),
        got[0].iter().map(|g| g.2.len()).sum::<usize>(),
        if same { "yes" } else { "NO" }
    );
    println!(
        "| Alertmanager 0.25 | {n} | {:.2} s | {} | {members} | |",
        cpu[1],
        got[1].len()
    );
    println!(
        "\nKubePulse's dispatcher alone (one thread): {n} alerts routed and grouped and every group flushed once in {secs:.3} s ({:.0} alerts/s); {groups_in_process} groups, {notified} alerts notified",
        n as f64 / secs
    );
    if !same {
        let only_k: Vec<_> = got[0].difference(&got[1]).take(3).collect();
        let only_a: Vec<_> = got[1].difference(&got[0]).take(3).collect();
        anyhow::bail!("groups differ: KubePulse only {only_k:?}; Alertmanager only {only_a:?}");
    }
    Ok(())
}
