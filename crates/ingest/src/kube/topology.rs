//! The watched cluster as a graph: owner references (pod → ReplicaSet → Deployment, pod →
//! StatefulSet, DaemonSet or Job), placement (pod → node), Services to the pods behind them
//! (from their EndpointSlices, else by selector) and volume claims to the pods that mount them.
//! Features and root-cause ranking walk it: what else runs on this node, which Service a pod
//! serves, which pods share a failing claim.

use std::collections::{BTreeMap, BTreeSet};

use kubepulse_model::{ObjectKind, ObjectRef, ObjectState};

use super::state::Slice;

/// Why two objects are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    /// The first is controlled by the second.
    OwnedBy,
    /// The pod runs on the node.
    RunsOn,
    /// The Service sends traffic to the pod.
    Selects,
    /// The pod mounts the claim.
    Mounts,
}

/// Kind, namespace and name.
type Key = (String, String, String);

fn key(r: &ObjectRef) -> Key {
    (r.kind.clone(), r.namespace.clone(), r.name.clone())
}

fn node_key(name: &str) -> Key {
    (ObjectKind::Node.as_str().into(), String::new(), name.into())
}

/// The graph.
#[derive(Debug, Default, Clone)]
pub struct Topology {
    out: BTreeMap<Key, BTreeSet<(Edge, Key)>>,
    inbound: BTreeMap<Key, BTreeSet<(Edge, Key)>>,
}

/// `k=v,k2=v2` selector text as pairs.
fn selector(text: &str) -> Vec<(&str, &str)> {
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

impl Topology {
    /// The graph of `objects`, with Services linked through `slices`.
    pub fn build(objects: &[ObjectState], slices: &[Slice]) -> Self {
        let mut t = Self::default();
        let live: Vec<&ObjectState> = objects.iter().filter(|s| !s.deleted).collect();
        let mut sliced = BTreeSet::new();
        for sl in slices {
            let svc = (
                ObjectKind::Service.as_str().to_string(),
                sl.namespace.clone(),
                sl.service.clone(),
            );
            for pod in sl.endpoints.iter().filter_map(|e| e.pod.as_ref()) {
                let p = (
                    ObjectKind::Pod.as_str().to_string(),
                    sl.namespace.clone(),
                    pod.clone(),
                );
                t.link(svc.clone(), Edge::Selects, p);
                sliced.insert(svc.clone());
            }
        }
        for s in &live {
            let me = key(&s.object);
            if let Some(o) = &s.owner {
                t.link(me.clone(), Edge::OwnedBy, key(o));
            }
            if s.object.kind != ObjectKind::Pod.as_str() {
                continue;
            }
            if !s.node.is_empty() {
                t.link(me.clone(), Edge::RunsOn, node_key(&s.node));
            }
            for claim in s
                .fields
                .get("claims")
                .into_iter()
                .flat_map(|c| c.split(','))
            {
                let pvc = (
                    ObjectKind::PersistentVolumeClaim.as_str().to_string(),
                    s.object.namespace.clone(),
                    claim.to_string(),
                );
                t.link(me.clone(), Edge::Mounts, pvc);
            }
        }
        // Services without slices: by selector.
        for svc in live
            .iter()
            .filter(|s| s.object.kind == ObjectKind::Service.as_str())
        {
            let k = key(&svc.object);
            let Some(sel) = svc.fields.get("selector").filter(|s| !s.is_empty()) else {
                continue;
            };
            if sliced.contains(&k) {
                continue;
            }
            let want = selector(sel);
            for pod in live.iter().filter(|p| {
                p.object.kind == ObjectKind::Pod.as_str()
                    && p.object.namespace == svc.object.namespace
                    && want
                        .iter()
                        .all(|(k, v)| p.labels.get(*k).is_some_and(|x| x == v))
            }) {
                t.link(k.clone(), Edge::Selects, key(&pod.object));
            }
        }
        t
    }

    fn link(&mut self, from: Key, e: Edge, to: Key) {
        self.inbound
            .entry(to.clone())
            .or_default()
            .insert((e, from.clone()));
        self.out.entry(from).or_default().insert((e, to));
    }

    fn refs(keys: impl Iterator<Item = Key>) -> Vec<ObjectRef> {
        keys.map(|(kind, namespace, name)| ObjectRef {
            kind,
            namespace,
            name,
            uid: String::new(),
        })
        .collect()
    }

    /// Objects `r` links to by `e`.
    pub fn from(&self, r: &ObjectRef, e: Edge) -> Vec<ObjectRef> {
        let found = self.out.get(&key(r)).into_iter().flatten();
        Self::refs(found.filter(|x| x.0 == e).map(|x| x.1.clone()))
    }

    /// Objects linking to `r` by `e`.
    pub fn to(&self, r: &ObjectRef, e: Edge) -> Vec<ObjectRef> {
        let found = self.inbound.get(&key(r)).into_iter().flatten();
        Self::refs(found.filter(|x| x.0 == e).map(|x| x.1.clone()))
    }

    /// The owners of `r`, nearest first (a pod's ReplicaSet, then its Deployment).
    pub fn owners(&self, r: &ObjectRef) -> Vec<ObjectRef> {
        let mut chain = Vec::new();
        let mut at = r.clone();
        while let Some(o) = self.from(&at, Edge::OwnedBy).into_iter().next() {
            if chain.contains(&o) || chain.len() > 8 {
                break;
            }
            chain.push(o.clone());
            at = o;
        }
        chain
    }

    /// The pods on a node.
    pub fn pods_on(&self, node: &str) -> Vec<ObjectRef> {
        let n = node_key(node);
        Self::refs(
            self.inbound
                .get(&n)
                .into_iter()
                .flatten()
                .filter(|x| x.0 == Edge::RunsOn)
                .map(|x| x.1.clone()),
        )
    }

    /// Every object one link away from `r`, either way.
    pub fn neighbours(&self, r: &ObjectRef) -> Vec<(Edge, ObjectRef)> {
        let k = key(r);
        let out = self.out.get(&k).into_iter().flatten();
        let inb = self.inbound.get(&k).into_iter().flatten();
        out.chain(inb)
            .map(|(e, (kind, namespace, name))| {
                (
                    *e,
                    ObjectRef {
                        kind: kind.clone(),
                        namespace: namespace.clone(),
                        name: name.clone(),
                        uid: String::new(),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: ObjectKind, ns: &str, name: &str) -> ObjectState {
        ObjectState {
            object: ObjectRef::new(kind, ns, name),
            t: 0,
            owner: None,
            node: String::new(),
            phase: String::new(),
            ready: true,
            restarts: 0,
            reason: String::new(),
            conditions: BTreeMap::new(),
            labels: BTreeMap::new(),
            fields: BTreeMap::new(),
            deleted: false,
        }
    }

    #[test]
    fn services_without_slices_select_by_labels_in_their_namespace() {
        let mut svc = obj(ObjectKind::Service, "shop", "web");
        svc.fields
            .insert("selector".into(), "app=web,tier=front".into());
        let mut a = obj(ObjectKind::Pod, "shop", "web-1");
        a.labels = BTreeMap::from([
            ("app".into(), "web".into()),
            ("tier".into(), "front".into()),
        ]);
        let mut b = a.clone();
        b.object.name = "web-2".into();
        b.labels.remove("tier");
        let mut c = a.clone();
        c.object.namespace = "other".into();
        let mut gone = a.clone();
        gone.object.name = "web-3".into();
        gone.deleted = true;
        let g = Topology::build(&[svc.clone(), a, b, c, gone], &[]);
        let behind = g.from(&svc.object, Edge::Selects);
        assert_eq!(behind.len(), 1);
        assert_eq!(behind[0].name, "web-1");
        assert_eq!(g.to(&behind[0], Edge::Selects)[0].name, "web");
    }

    #[test]
    fn owner_cycles_end() {
        let mut a = obj(ObjectKind::ReplicaSet, "x", "a");
        let mut b = obj(ObjectKind::ReplicaSet, "x", "b");
        a.owner = Some(b.object.clone());
        b.owner = Some(a.object.clone());
        let g = Topology::build(&[a.clone(), b], &[]);
        assert_eq!(g.owners(&a.object).len(), 2);
    }
}
