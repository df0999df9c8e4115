//! Test support shared by KubePulse's test suites: where the benchmark data lives, free loopback
//! ports, and real peer processes (Prometheus, node-exporter, Alertmanager, …) started on
//! loopback with their own data directories and stopped when dropped.

#![allow(clippy::print_stderr)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// The directory of the shared benchmark data: `$KUBEPULSE_DATA_DIR`, or `../shared/data` next to
/// the repository.
pub fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("KUBEPULSE_DATA_DIR") {
        return PathBuf::from(d);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let beside = repo.join("../shared/data");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/data")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Path of an installed program, if any.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// Starts Prometheus on loopback `port` with `config` (its YAML) and its data in `dir`, with
/// `extra` flags, and waits for it to listen.
pub fn prometheus(dir: &Path, port: u16, config: &str, extra: &[&str]) -> anyhow::Result<Peer> {
    std::fs::create_dir_all(dir)?;
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, config)?;
    let mut args = vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.tsdb.path={}", dir.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let mut peer = Peer::start("prometheus", "prometheus", &args)?;
    peer.wait_port(port, Duration::from_secs(30))?;
    Ok(peer)
}

/// A process started for a test; killed when dropped.
#[derive(Debug)]
pub struct Peer {
    /// What it is (for messages).
    pub name: String,
    child: Child,
    /// Its working directory, removed when dropped.
    pub dir: PathBuf,
    log: PathBuf,
    keep: bool,
}

impl Peer {
    /// Starts `program` (found on `PATH`) with `args` in a fresh directory under the system
    /// temp dir.
    pub fn start(name: &str, program: &str, args: &[String]) -> anyhow::Result<Self> {
        let path = which(program)
            .with_context(|| format!("{program} is not installed (scripts/test installs it)"))?;
        let dir = std::env::temp_dir().join(format!(
            "kubepulse-peer-{name}-{}-{}",
            std::process::id(),
            free_port()
        ));
        Self::start_in(name, &path, args, &dir)
    }

    /// Starts the program at `path` with `args`, working in `dir` (created if needed; removed
    /// when the peer is dropped unless kept).
    pub fn start_in(name: &str, path: &Path, args: &[String], dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let child = Command::new(path)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        Ok(Self {
            name: name.into(),
            child,
            dir: dir.to_path_buf(),
            log,
            keep: false,
        })
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `port` on 127.0.0.1 accepts connections, or fails with the peer's output.
    pub fn wait_port(&mut self, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .unwrap_or_default()
            + timeout;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "{} exited with {status} before listening on {port}:\n{}",
                    self.name,
                    self.output()
                );
            }
            if std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap_or_default()
                > deadline
            {
                bail!(
                    "{} did not listen on {port} within {timeout:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL and waits for it, keeping its directory.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit; returns whether it exited 0.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .unwrap_or_default()
            + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            if std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap_or_default()
                > deadline
            {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Keeps the working directory when the peer is dropped.
    pub fn keep_dir(&mut self) {
        self.keep = true;
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What a [`HttpStub`] answers.
#[derive(Debug, Clone)]
pub struct StubResponse {
    /// Status code.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
    /// Delay before answering.
    pub delay: Duration,
}

impl Default for StubResponse {
    fn default() -> Self {
        Self {
            status: 200,
            content_type: "text/plain; version=0.0.4".into(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }
}

/// A recorded request: head (request line and headers) and body.
pub type Recorded = (String, Vec<u8>);

/// A minimal HTTP/1.1 server on loopback answering every request with the current
/// [`StubResponse`], and recording request bodies and headers.
#[derive(Debug, Clone)]
pub struct HttpStub {
    /// Port it listens on.
    pub port: u16,
    response: std::sync::Arc<std::sync::Mutex<StubResponse>>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>,
}

impl HttpStub {
    /// Starts the server on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stub = Self {
            port,
            response: Default::default(),
            requests: Default::default(),
        };
        let s = stub.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || s.serve(conn));
            }
        });
        Ok(stub)
    }

    /// Sets the response.
    pub fn set(&self, r: StubResponse) {
        if let Ok(mut g) = self.response.lock() {
            *g = r;
        }
    }

    /// Requests received: head (request line and headers) and body.
    pub fn requests(&self) -> Vec<(String, Vec<u8>)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn serve(&self, mut conn: std::net::TcpStream) {
        use std::io::{Read, Write};
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..].to_vec();
        if let Ok(mut r) = self.requests.lock() {
            r.push((head, body));
        }
        let r = self.response.lock().map(|r| r.clone()).unwrap_or_default();
        std::thread::sleep(r.delay);
        let reply = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            r.status,
            r.content_type,
            r.body.len()
        );
        let _ = conn.write_all(reply.as_bytes());
        let _ = conn.write_all(&r.body);
    }
}
