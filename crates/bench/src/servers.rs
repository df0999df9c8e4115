//! Starting the systems under test on loopback.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kubepulse_model::clock::Stopwatch;

use kubepulse_testkit::{Peer, free_port};

/// A system under test.
pub struct Sut {
    /// Its name in tables.
    pub name: &'static str,
    /// The process.
    pub peer: Peer,
    /// Its port.
    pub port: u16,
    /// Its data directory.
    pub data: PathBuf,
    /// Where remote_write goes.
    pub write_url: String,
    /// Readiness URL.
    pub ready_url: String,
}

/// Starts `kubepulse serve` (simulator off, and no rules: Prometheus beside it runs none) with
/// `store` settings added to its configuration.
pub fn kubepulse(bin: &Path, dir: &Path, store: &str) -> anyhow::Result<Sut> {
    let yaml = format!(
        "simulator:\n  mode: off\nprediction:\n  enabled: false\nanomaly:\n  enabled: false\nrules:\n  enabled: false\nlog:\n  level: warn\nstore:\n{store}"
    );
    let (peer, port) = kubepulse_with(bin, dir, "kubepulse", &yaml)?;
    Ok(Sut {
        name: "KubePulse",
        peer,
        port,
        data: dir.join("kubepulse-data"),
        write_url: format!("http://127.0.0.1:{port}/api/v1/write"),
        ready_url: format!("http://127.0.0.1:{port}/-/ready"),
    })
}

/// Starts `kubepulse serve` with the configuration `yaml`, its files under `dir/name-*`; returns
/// the process and its port once it listens.
pub fn kubepulse_with(
    bin: &Path,
    dir: &Path,
    name: &str,
    yaml: &str,
) -> anyhow::Result<(Peer, u16)> {
    let port = free_port();
    let cfg = dir.join(format!("{name}.yaml"));
    std::fs::write(&cfg, yaml)?;
    let args: Vec<String> = vec![
        "--config".into(),
        cfg.display().to_string(),
        "serve".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        dir.join(format!("{name}-data")).display().to_string(),
    ];
    let mut p = Peer::start_in("kubepulse", bin, &args, &dir.join(format!("{name}-run")))?;
    p.keep_dir();
    // A restart after a large WAL takes a while.
    p.wait_port(port, Duration::from_secs(600))?;
    Ok((p, port))
}

/// Starts Prometheus with the remote-write receiver and the admin API, scraping nothing.
pub fn prometheus(dir: &Path) -> anyhow::Result<Sut> {
    let port = free_port();
    let data = dir.join("prometheus-data");
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 15s\n")?;
    let args = vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-remote-write-receiver".into(),
        "--web.enable-admin-api".into(),
        "--log.level=warn".into(),
    ];
    let path = kubepulse_testkit::which("prometheus")
        .ok_or_else(|| anyhow::anyhow!("prometheus is not installed"))?;
    let mut peer = Peer::start_in("prometheus", &path, &args, &dir.join("prometheus-run"))?;
    peer.keep_dir();
    peer.wait_port(port, Duration::from_secs(600))?;
    Ok(Sut {
        name: "Prometheus 2.42",
        peer,
        port,
        data,
        write_url: format!("http://127.0.0.1:{port}/api/v1/write"),
        ready_url: format!("http://127.0.0.1:{port}/-/ready"),
    })
}

/// The systems compared side by side, by their names in tables.
pub const COMPARED: [&str; 2] = ["kubepulse", "prometheus"];

/// Starts `which` of [`COMPARED`] on the data in `dir` (KubePulse with `store` settings).
pub fn either(which: &str, bin: &Path, dir: &Path, store: &str) -> anyhow::Result<Sut> {
    if which == "kubepulse" {
        kubepulse(bin, dir, store)
    } else {
        prometheus(dir)
    }
}

/// Starts `which` of [`COMPARED`] in `dir` emptied first, and waits until it is ready.
pub async fn fresh(
    client: &reqwest::Client,
    which: &str,
    bin: &Path,
    dir: &Path,
    store: &str,
) -> anyhow::Result<Sut> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let sut = either(which, bin, dir, store)?;
    wait_ready(
        client,
        &sut.ready_url,
        Stopwatch::start(),
        Duration::from_secs(60),
    )
    .await?;
    Ok(sut)
}

/// Waits until `url` answers 200; returns the seconds it took from `since`.
pub async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    since: Stopwatch,
    timeout: Duration,
) -> anyhow::Result<f64> {
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(since.elapsed_secs());
        }
        if since.elapsed_secs() > timeout.as_secs_f64() {
            anyhow::bail!("{url} not ready after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
