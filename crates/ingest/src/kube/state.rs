//! The watched cluster as it is now: the latest state of every object (one normalised record
//! each, not the API objects, so memory stays proportional to the number of objects), the
//! EndpointSlices of every Service, and which kinds have finished their initial list. Every
//! change is written to the store's object history; events are written once per occurrence.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use kubepulse_model::{K8sEvent, ObjectKind, ObjectRef, ObjectState};
use kubepulse_store::Append;
use tracing::warn;

/// Kind, namespace and name.
pub type Key = (String, String, String);

fn key(r: &ObjectRef) -> Key {
    (r.kind.clone(), r.namespace.clone(), r.name.clone())
}

/// One endpoint of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its address.
    pub ip: String,
    /// The pod behind it, when it is one.
    pub pod: Option<String>,
    /// The node it runs on.
    pub node: String,
    /// Whether it receives traffic.
    pub ready: bool,
}

/// An EndpointSlice, reduced to what discovery and topology use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// Namespace.
    pub namespace: String,
    /// The Service it belongs to.
    pub service: String,
    /// Ports by name.
    pub ports: Vec<(String, u16)>,
    /// Endpoints.
    pub endpoints: Vec<Endpoint>,
}

/// Events remembered for de-duplication, at most.
const SEEN_EVENTS: usize = 100_000;

#[derive(Default)]
struct Inner {
    objects: HashMap<Key, ObjectState>,
    listing: HashMap<ObjectKind, HashSet<Key>>,
    synced: HashSet<&'static str>,
    slices: HashMap<(String, String), Slice>,
    seen_events: HashMap<String, (u32, i64)>,
}

/// The live cluster.
pub struct Cluster {
    inner: Mutex<Inner>,
    append: Arc<dyn Append>,
}

impl Cluster {
    /// An empty cluster writing to `append`.
    pub fn new(append: Arc<dyn Append>) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            append,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, states: &[ObjectState]) {
        if states.is_empty() {
            return;
        }
        if let Err(e) = self.append.append_objects(states) {
            warn!(error = %e, "cannot store object states");
        }
    }

    /// An object was listed or changed; its state is stored when it differs from the last.
    /// The store is written before the state shows here, so whoever sees it here finds it in
    /// the history.
    pub fn apply(&self, kind: ObjectKind, state: ObjectState) {
        let k = key(&state.object);
        let mut g = self.lock();
        if let Some(listed) = g.listing.get_mut(&kind) {
            listed.insert(k.clone());
        }
        if g.objects.get(&k).is_some_and(|old| same_state(old, &state)) {
            return;
        }
        self.write(std::slice::from_ref(&state));
        g.objects.insert(k, state);
    }

    /// An object was deleted; the deletion is stored before the object goes from here.
    pub fn delete(&self, mut state: ObjectState) {
        let k = key(&state.object);
        state.deleted = true;
        let mut g = self.lock();
        self.write(&[state]);
        g.objects.remove(&k);
    }

    /// A (re)list of `kind` begins.
    pub fn begin_list(&self, kind: ObjectKind) {
        self.lock().listing.insert(kind, HashSet::new());
    }

    /// A (re)list of `kind` is complete: objects it did not return were deleted meanwhile.
    pub fn end_list(&self, kind: ObjectKind, t: i64) {
        let mut g = self.lock();
        let listed = g.listing.remove(&kind).unwrap_or_default();
        g.synced.insert(kind.as_str());
        let keys: Vec<Key> = g
            .objects
            .keys()
            .filter(|k| k.0 == kind.as_str() && !listed.contains(*k))
            .cloned()
            .collect();
        let gone: Vec<ObjectState> = keys
            .iter()
            .filter_map(|k| g.objects.remove(k))
            .map(|mut s| {
                s.t = t;
                s.deleted = true;
                s
            })
            .collect();
        // Written while the lock is held: nobody sees them gone before the history has it.
        self.write(&gone);
    }

    /// An event was seen; it is stored unless this occurrence was stored already.
    pub fn event(&self, e: K8sEvent) {
        let id = if e.metadata.uid.is_empty() {
            format!("{}/{}", e.metadata.namespace, e.metadata.name)
        } else {
            e.metadata.uid.clone()
        };
        {
            let mut g = self.lock();
            let occurrence = (e.count, e.last_timestamp);
            if g.seen_events.get(&id) == Some(&occurrence) {
                return;
            }
            if g.seen_events.len() >= SEEN_EVENTS {
                // Forget the older half: a relist may then store some events twice.
                let mut times: Vec<i64> = g.seen_events.values().map(|v| v.1).collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                g.seen_events.retain(|_, v| v.1 > cut);
            }
            g.seen_events.insert(id, occurrence);
        }
        if let Err(e) = self.append.append_events(&[e]) {
            warn!(error = %e, "cannot store events");
        }
    }

    /// An EndpointSlice was listed or changed (`None`: deleted).
    pub fn slice(&self, namespace: &str, name: &str, slice: Option<Slice>) {
        let k = (namespace.to_string(), name.to_string());
        let mut g = self.lock();
        match slice {
            Some(s) => g.slices.insert(k, s),
            None => g.slices.remove(&k),
        };
    }

    /// The latest state of every object.
    pub fn objects(&self) -> Vec<ObjectState> {
        self.lock().objects.values().cloned().collect()
    }

    /// The latest state of one object.
    pub fn get(&self, kind: ObjectKind, namespace: &str, name: &str) -> Option<ObjectState> {
        let k = (
            kind.as_str().to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        self.lock().objects.get(&k).cloned()
    }

    /// The graph of the objects as they are now.
    pub fn topology(&self) -> super::topology::Topology {
        super::topology::Topology::build(&self.objects(), &self.slices())
    }

    /// Every EndpointSlice.
    pub fn slices(&self) -> Vec<Slice> {
        self.lock().slices.values().cloned().collect()
    }

    /// Kinds whose initial list is complete.
    pub fn synced(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.lock().synced.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// Objects kept.
    pub fn len(&self) -> usize {
        self.lock().objects.len()
    }

    /// True before anything was listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Equal but for the time of observation.
fn same_state(a: &ObjectState, b: &ObjectState) -> bool {
    a.object == b.object
        && a.owner == b.owner
        && a.node == b.node
        && a.phase == b.phase
        && a.ready == b.ready
        && a.restarts == b.restarts
        && a.reason == b.reason
        && a.conditions == b.conditions
        && a.labels == b.labels
        && a.fields == b.fields
}
