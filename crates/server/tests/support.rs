//! Shared by the end-to-end tests: starting `kubepulse serve` as a process.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kubepulse_testkit::{Peer, free_port};

/// A running `kubepulse serve`.
pub struct Server {
    /// The process.
    pub peer: Peer,
    /// The port it listens on.
    pub port: u16,
    /// Its data directory.
    pub data: PathBuf,
}

/// Starts `kubepulse serve` with `config` (YAML) and its data in `data`, and waits for it to
/// listen.
pub fn serve(config: &str, data: &Path) -> Server {
    let port = free_port();
    let cfg = data.with_extension("yaml");
    std::fs::write(&cfg, config).unwrap();
    let args = vec![
        "--config".to_string(),
        cfg.display().to_string(),
        "--log-format".into(),
        "json".into(),
        "serve".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    let run_dir = data.with_extension("run");
    let mut peer = Peer::start_in(
        "kubepulse",
        Path::new(env!("CARGO_BIN_EXE_kubepulse")),
        &args,
        &run_dir,
    )
    .unwrap();
    peer.keep_dir();
    peer.wait_port(port, Duration::from_secs(60)).unwrap();
    Server {
        peer,
        port,
        data: data.to_path_buf(),
    }
}

/// Trains a failure model on the simulated cluster with `kubepulse train --simulate`, these
/// options added, into `out`.
pub fn train_model(out: &Path, options: &[&str]) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubepulse"))
        .args(["train", "--simulate", "--quiet"])
        .args(options)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A configuration with the simulated cluster and failure prediction off.
pub const QUIET: &str = "simulator:\n  mode: off\nprediction:\n  enabled: false\nanomaly:\n  enabled: false\nstore:\n  flush_interval: 30s\n  compaction_window: 1h\n";
