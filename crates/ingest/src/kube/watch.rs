//! One watcher per kind (kube-rs' `watcher`: paged initial list, watch from its resource
//! version with bookmarks, relist after 410 Gone, client-go's back-off on errors), feeding the
//! [`Cluster`]. A stream that stalls is dropped after the watch timeout plus five seconds and
//! resumed.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::events::v1::Event;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as W};
use kube::{Api, Resource};
use kubepulse_model::Clock;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::convert::Observed;
use super::events::{from_core_v1, from_events_v1};
use super::state::{Cluster, Endpoint, Slice};

/// What a watcher does with what it sees.
pub trait Handle<K>: Send + Sync {
    /// Name in logs.
    fn name(&self) -> &'static str;
    /// A (re)list begins.
    fn begin(&self) {}
    /// An object was listed, added or changed.
    fn apply(&self, o: &K, now: i64);
    /// An object was deleted.
    fn delete(&self, o: &K, now: i64);
    /// A (re)list is complete.
    fn end(&self, _now: i64) {}
}

/// Runs the watcher of `api` into `h` until `stop` turns true.
pub async fn run<K, H>(
    api: Api<K>,
    config: watcher::Config,
    h: H,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    H: Handle<K>,
{
    let stream = watcher::watcher(api, config).default_backoff();
    let mut stream = std::pin::pin!(stream);
    loop {
        let item = tokio::select! {
            _ = stop.changed() => break,
            item = stream.next() => item,
        };
        let now = clock.now_ms();
        match item {
            Some(Ok(W::Init)) => {
                debug!(kind = h.name(), "listing");
                h.begin();
            }
            Some(Ok(W::InitApply(o) | W::Apply(o))) => h.apply(&o, now),
            Some(Ok(W::Delete(o))) => h.delete(&o, now),
            Some(Ok(W::InitDone)) => {
                debug!(kind = h.name(), "listed");
                h.end(now);
            }
            Some(Err(e)) => warn!(kind = h.name(), error = %e, "watch failed; retrying"),
            None => break,
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Objects kept as [`kubepulse_model::ObjectState`]s.
pub struct States(pub Arc<Cluster>);

impl<K: Observed + Send + Sync> Handle<K> for States {
    fn name(&self) -> &'static str {
        K::KIND.as_str()
    }
    fn begin(&self) {
        self.0.begin_list(K::KIND);
    }
    fn apply(&self, o: &K, now: i64) {
        self.0.apply(K::KIND, o.state(now));
    }
    fn delete(&self, o: &K, now: i64) {
        self.0.delete(o.state(now));
    }
    fn end(&self, now: i64) {
        self.0.end_list(K::KIND, now);
    }
}

/// Events of `events.k8s.io/v1`.
pub struct Events(pub Arc<Cluster>);

impl Handle<Event> for Events {
    fn name(&self) -> &'static str {
        "Event"
    }
    fn apply(&self, e: &Event, now: i64) {
        self.0.event(from_events_v1(e, now));
    }
    fn delete(&self, _: &Event, _: i64) {}
}

/// Events of `core/v1`, for clusters without `events.k8s.io/v1`.
pub struct CoreEvents(pub Arc<Cluster>);

impl Handle<CoreEvent> for CoreEvents {
    fn name(&self) -> &'static str {
        "Event"
    }
    fn apply(&self, e: &CoreEvent, now: i64) {
        self.0.event(from_core_v1(e, now));
    }
    fn delete(&self, _: &CoreEvent, _: i64) {}
}

/// EndpointSlices, for discovery and topology.
pub struct Slices(pub Arc<Cluster>);

fn slice(s: &EndpointSlice) -> Slice {
    let m = &s.metadata;
    Slice {
        namespace: m.namespace.clone().unwrap_or_default(),
        service: m
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
            .cloned()
            .unwrap_or_default(),
        ports: s
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p.port?).ok()?;
                Some((p.name.clone().unwrap_or_default(), port))
            })
            .collect(),
        endpoints: s
            .endpoints
            .iter()
            .flat_map(|e| {
                let pod = e
                    .target_ref
                    .as_ref()
                    .filter(|t| t.kind.as_deref() == Some("Pod"))
                    .and_then(|t| t.name.clone());
                let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
                let node = e.node_name.clone().unwrap_or_default();
                e.addresses.iter().map(move |ip| Endpoint {
                    ip: ip.clone(),
                    pod: pod.clone(),
                    node: node.clone(),
                    ready,
                })
            })
            .collect(),
    }
}

impl Handle<EndpointSlice> for Slices {
    fn name(&self) -> &'static str {
        "EndpointSlice"
    }
    fn apply(&self, s: &EndpointSlice, _: i64) {
        let m = &s.metadata;
        self.0.slice(
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
            Some(slice(s)),
        );
    }
    fn delete(&self, s: &EndpointSlice, _: i64) {
        let m = &s.metadata;
        self.0.slice(
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
            None,
        );
    }
}
