//! A loopback stand-in for a Kubernetes API server (none can be installed here): it answers
//! List requests with the payloads in `tests/fixtures/k8s` (hand-written in the exact shape a
//! Kubernetes 1.30 API server returns) and Watch requests with scripted streams: the recorded
//! events, a 410 Gone, a stream that stalls, a stream cut in the middle of an object. It counts
//! the requests it served so that tests can see relists and resumed watches.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::stream;
use kubepulse_ingest::kube::{Cluster, KubeSettings, client, start};
use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Clock, ObjectKind, SystemClock};
use kubepulse_store::{Db, StoreConfig};
use tokio::sync::watch;

/// What one watch request of a resource gets.
#[derive(Debug, Clone)]
pub enum Watch {
    /// These lines, then the stream stays open until the request's timeout.
    Lines(Vec<String>),
    /// These lines, then the stream stays open and silent for good.
    Stall(Vec<String>),
    /// These bytes, then the connection ends (a stream cut mid-object).
    Cut(String),
}

#[derive(Default)]
struct Inner {
    /// Scripted watches per resource path, in order; an empty queue holds the stream open.
    watches: HashMap<String, VecDeque<Watch>>,
    /// Paths answered 404.
    missing: Vec<String>,
    /// Requests served: (path, query).
    log: Vec<(String, String)>,
}

/// The server.
#[derive(Clone)]
pub struct ApiServer {
    inner: Arc<Mutex<Inner>>,
    /// Its port.
    pub port: u16,
}

/// The fixture folder.
pub fn fixtures() -> PathBuf {
    // Also read by the server's tests: the path goes through the ingest crate's folder.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ingest/tests/fixtures/k8s")
}

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

/// The non-empty lines of a `.jsonl` fixture.
pub fn lines(name: &str) -> Vec<String> {
    fixture(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The list fixture of a resource path.
fn list_file(path: &str) -> Option<&'static str> {
    Some(match path {
        "/api/v1/pods" => "pods.json",
        "/api/v1/nodes" => "nodes.json",
        "/api/v1/namespaces" => "namespaces.json",
        "/api/v1/services" => "services.json",
        "/api/v1/persistentvolumeclaims" => "persistentvolumeclaims.json",
        "/api/v1/events" => "events.v1.json",
        "/apis/apps/v1/deployments" => "deployments.json",
        "/apis/apps/v1/replicasets" => "replicasets.json",
        "/apis/apps/v1/statefulsets" => "statefulsets.json",
        "/apis/apps/v1/daemonsets" => "daemonsets.json",
        "/apis/batch/v1/jobs" => "jobs.json",
        "/apis/discovery.k8s.io/v1/endpointslices" => "endpointslices.json",
        "/apis/events.k8s.io/v1/events" => "events.k8s.io.json",
        _ => return None,
    })
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code
    });
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A kubelet endpoint through the node proxy: the node's recorded exposition with its sample
/// times moved to now (they date from the payloads' snapshot, older than any store accepts);
/// 503 for nodes without a recording, as the proxy answers for a kubelet that does not respond.
fn kubelet(path: &str) -> Option<Response> {
    let rest = path.strip_prefix("/api/v1/nodes/")?;
    let (node, endpoint) = rest.split_once("/proxy/metrics/")?;
    let file = fixtures().join(format!("kubelet_{endpoint}_{node}.txt"));
    let Ok(text) = std::fs::read_to_string(file) else {
        return Some(status(
            503,
            "ServiceUnavailable",
            &format!("error trying to reach service: dial tcp {node}:10250: i/o timeout"),
        ));
    };
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| d.as_millis());
    let body: String = text
        .lines()
        .map(|l| match l.rsplit_once(' ') {
            Some((head, ts))
                if !l.starts_with('#')
                    && ts.len() == 13
                    && ts.bytes().all(|b| b.is_ascii_digit()) =>
            {
                format!("{head} {now}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    Some(([("content-type", "text/plain; version=0.0.4")], body).into_response())
}

fn timeout_of(query: &str) -> Duration {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("timeoutSeconds="))
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(290), Duration::from_secs)
}

async fn serve(State(s): State<ApiServer>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let (script, missing) = {
        let mut g = s.inner.lock().unwrap();
        g.log.push((path.clone(), query.clone()));
        let watch = query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1");
        let script = if watch {
            Some(g.watches.get_mut(&path).and_then(VecDeque::pop_front))
        } else {
            None
        };
        (script, g.missing.contains(&path))
    };
    if missing {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    if let Some(r) = kubelet(&path) {
        return r;
    }
    let Some(file) = list_file(&path) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    let Some(script) = script else {
        return ([("content-type", "application/json")], fixture(file)).into_response();
    };
    let timeout = timeout_of(&query);
    let chunks: Vec<Result<Bytes, Infallible>>;
    let tail: Option<Duration>;
    match script {
        None => {
            chunks = Vec::new();
            tail = Some(timeout);
        }
        Some(Watch::Lines(ls)) => {
            chunks = ls.into_iter().map(|l| Ok(Bytes::from(l + "\n"))).collect();
            tail = Some(timeout);
        }
        Some(Watch::Stall(ls)) => {
            chunks = ls.into_iter().map(|l| Ok(Bytes::from(l + "\n"))).collect();
            tail = Some(Duration::from_secs(3600));
        }
        Some(Watch::Cut(text)) => {
            chunks = vec![Ok(Bytes::from(text))];
            tail = None;
        }
    }
    let head = stream::iter(chunks);
    let body = match tail {
        Some(d) => {
            let wait = stream::once(async move {
                tokio::time::sleep(d).await;
                Ok::<Bytes, Infallible>(Bytes::new())
            });
            Body::from_stream(futures::StreamExt::chain(head, wait))
        }
        None => Body::from_stream(head),
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

impl ApiServer {
    /// Starts the server on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            port,
        };
        let app = Router::new().fallback(serve).with_state(s.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        s
    }

    /// Scripts the next watch requests of `path`.
    pub fn watch(&self, path: &str, w: Watch) {
        let mut g = self.inner.lock().unwrap();
        g.watches.entry(path.to_string()).or_default().push_back(w);
    }

    /// Makes `path` answer 404.
    pub fn missing(&self, path: &str) {
        self.inner.lock().unwrap().missing.push(path.to_string());
    }

    /// Requests of `path` served so far, as (is a watch, query).
    pub fn requests(&self, path: &str) -> Vec<(bool, String)> {
        self.inner
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, q)| {
                (
                    q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"),
                    q.clone(),
                )
            })
            .collect()
    }

    /// A kubeconfig pointing at the server, with a context `recorded`.
    pub fn kubeconfig(&self, dir: &std::path::Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: http://127.0.0.1:{}\ncontexts:\n- name: recorded\n  context:\n    cluster: recorded\n    user: reader\n- name: other\n  context:\n    cluster: recorded\n    user: reader\ncurrent-context: other\nusers:\n- name: reader\n  user:\n    token: recorded-token\n",
            self.port
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Watchers running against a loopback server into a store of their own.
pub struct Running {
    /// The watched cluster.
    pub cluster: Arc<Cluster>,
    /// The store it writes.
    pub db: Db,
    /// Stops the watchers.
    pub stop: watch::Sender<bool>,
    /// The watchers.
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Where the store and the kubeconfig are.
    pub tmp: tempfile::TempDir,
}

/// A store on the system clock in a new temporary directory.
pub fn store() -> (tempfile::TempDir, Db) {
    let tmp = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = Db::open(&tmp.path().join("data"), StoreConfig::default(), clock)
        .unwrap()
        .0;
    (tmp, db)
}

/// Starts every watcher against `api` with the `recorded` context.
pub async fn run(api: &ApiServer, watch_timeout: u32) -> Running {
    let (tmp, db) = store();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = KubeSettings {
        kubeconfig: Some(api.kubeconfig(tmp.path())),
        context: Some("recorded".into()),
        watch_timeout,
        page_size: 500,
        ..KubeSettings::default()
    };
    let c = client(&settings).await.unwrap();
    let cluster = Arc::new(Cluster::new(Arc::new(db.clone())));
    let (stop, rx) = watch::channel(false);
    let tasks = start(c, &settings, cluster.clone(), clock, rx).await;
    Running {
        cluster,
        db,
        stop,
        tasks,
        tmp,
    }
}

/// Waits up to `secs` for `f` to hold.
pub async fn until(what: &str, secs: f64, f: impl Fn() -> bool) {
    let w = Stopwatch::start();
    while !f() {
        assert!(w.elapsed_secs() < secs, "{what} not within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the recorded pod watch stream has been applied whole: its added pod is there and its
/// deleted pod is gone.
pub fn pod_stream_applied(cluster: &Cluster) -> bool {
    cluster
        .get(ObjectKind::Pod, "shop", "cart-7d4b9c8f6d-z7w1c")
        .is_some()
        && cluster
            .get(ObjectKind::Pod, "shop", "web-6b9f7d5c4-qm2lt")
            .is_none()
}
