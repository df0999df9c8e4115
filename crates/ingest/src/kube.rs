//! A real cluster through its API server: a client from the in-cluster service account or a
//! kubeconfig (and a context in it), watchers for Pods, Nodes, Deployments, ReplicaSets,
//! StatefulSets, DaemonSets, Jobs, Services, EndpointSlices, PersistentVolumeClaims, Namespaces
//! and Events (`events.k8s.io/v1`, else `core/v1`), and the [`Cluster`] they keep current.

pub mod convert;
pub mod discover;
pub mod events;
pub mod kubelet;
pub mod quantity;
pub mod state;
pub mod topology;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Event as CoreEvent, Namespace, Node, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Api, Client, Config};
use kubepulse_model::Clock;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;
use tracing::info;

pub use state::Cluster;
use watch::{CoreEvents, Events, Slices, States, run};

/// How to reach the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeSettings {
    /// Use the pod's service account (`KUBERNETES_SERVICE_HOST` and the mounted token).
    pub in_cluster: bool,
    /// Kubeconfig file (default: `$KUBECONFIG`, then `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Context in the kubeconfig (default: its current context).
    pub context: Option<String>,
    /// Seconds a watch request lasts before it is renewed (a stalled stream is noticed five
    /// seconds after).
    pub watch_timeout: u32,
    /// Objects per page of a list.
    pub page_size: u32,
}

/// Why the cluster cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The configuration could not be read.
    #[error("kubernetes configuration: {0}")]
    Config(String),
    /// The client could not be built.
    #[error("kubernetes client: {0}")]
    Client(String),
}

/// The client these settings describe.
pub async fn client(s: &KubeSettings) -> Result<Client, KubeError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions {
        context: s.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = if s.in_cluster {
        Config::incluster().map_err(|e| KubeError::Config(e.to_string()))?
    } else if let Some(path) = &s.kubeconfig {
        let kc = Kubeconfig::read_from(path)
            .map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?;
        Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?
    } else {
        Config::from_kubeconfig(&options)
            .await
            .map_err(|e| KubeError::Config(e.to_string()))?
    };
    info!(cluster = %config.cluster_url, "kubernetes API server");
    Client::try_from(config).map_err(|e| KubeError::Client(e.to_string()))
}

/// Starts a watcher for every kind; they stop when `stop` turns true.
pub async fn start(
    client: Client,
    settings: &KubeSettings,
    cluster: Arc<Cluster>,
    clock: Arc<dyn Clock>,
    stop: signal::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut cfg = watcher::Config::default().any_semantic();
    if settings.watch_timeout > 0 {
        cfg = cfg.timeout(settings.watch_timeout);
    }
    if settings.page_size > 0 {
        cfg = cfg.page_size(settings.page_size);
    }
    let mut tasks = Vec::new();
    macro_rules! states {
        ($($t:ty),*) => {$(
            tasks.push(tokio::spawn(run(
                Api::<$t>::all(client.clone()),
                cfg.clone(),
                States(cluster.clone()),
                clock.clone(),
                stop.clone(),
            )));
        )*};
    }
    states!(
        Pod,
        Node,
        Namespace,
        Service,
        Deployment,
        ReplicaSet,
        StatefulSet,
        DaemonSet,
        Job,
        PersistentVolumeClaim
    );
    tasks.push(tokio::spawn(run(
        Api::<EndpointSlice>::all(client.clone()),
        cfg.clone(),
        Slices(cluster.clone()),
        clock.clone(),
        stop.clone(),
    )));
    let events: Api<Event> = Api::all(client.clone());
    let modern = events.list(&ListParams::default().limit(1)).await;
    if let Err(kube::Error::Api(e)) = &modern
        && e.code == 404
    {
        info!("events.k8s.io/v1 is not served: watching core/v1 events");
        tasks.push(tokio::spawn(run(
            Api::<CoreEvent>::all(client),
            cfg,
            CoreEvents(cluster),
            clock,
            stop,
        )));
    } else {
        tasks.push(tokio::spawn(run(events, cfg, Events(cluster), clock, stop)));
    }
    tasks
}
