//! Event counts as features: how many Kubernetes events of each counted reason an object had in
//! the short and the long window. A repeat that the API server merged into an existing event
//! arrives as a new record with a higher count, so each record is one occurrence at its
//! `lastTimestamp`.

use foldhash::{HashMap, HashMapExt};

use kubepulse_model::K8sEvent;

use super::ObjectKind;
use super::signals::{NODE_EVENT_REASONS, POD_EVENT_REASONS};

/// The reasons counted for a kind of object.
pub fn reasons(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::Pod => POD_EVENT_REASONS,
        ObjectKind::Node => NODE_EVENT_REASONS,
    }
}

/// Occurrence times of counted reasons, by object key and reason index.
#[derive(Debug, Default)]
pub struct EventIndex {
    times: HashMap<(String, String), Vec<Vec<i64>>>,
    n_reasons: usize,
}

impl EventIndex {
    /// Indexes the events about objects of `kind`.
    pub fn new(events: &[K8sEvent], kind: ObjectKind) -> Self {
        let reasons = reasons(kind);
        let want = match kind {
            ObjectKind::Pod => "Pod",
            ObjectKind::Node => "Node",
        };
        let mut times: HashMap<(String, String), Vec<Vec<i64>>> = HashMap::new();
        for e in events.iter().filter(|e| e.involved_object.kind == want) {
            let Some(r) = reasons.iter().position(|r| *r == e.reason) else {
                continue;
            };
            let o = &e.involved_object;
            let ns = match kind {
                ObjectKind::Pod => o.namespace.clone(),
                ObjectKind::Node => String::new(),
            };
            let per = times
                .entry((ns, o.name.clone()))
                .or_insert_with(|| vec![Vec::new(); reasons.len()]);
            per[r].push(e.last_timestamp);
        }
        for per in times.values_mut() {
            per.iter_mut().for_each(|v| v.sort_unstable());
        }
        Self {
            times,
            n_reasons: reasons.len(),
        }
    }

    /// Appends, for each reason, the occurrences in `(t - short, t]` and in `(t - long, t]`.
    pub fn counts(
        &self,
        key: &(String, String),
        t: i64,
        short: i64,
        long: i64,
        out: &mut Vec<f64>,
    ) {
        match self.times.get(key) {
            Some(per) => {
                for times in per {
                    let upto = times.partition_point(|x| *x <= t);
                    let count = |w: i64| (upto - times.partition_point(|x| *x <= t - w)) as f64;
                    out.push(count(short));
                    out.push(count(long));
                }
            }
            None => out.extend(std::iter::repeat_n(0.0, 2 * self.n_reasons)),
        }
    }
}

/// Feature names of the event counts of `kind`.
pub fn names(kind: ObjectKind) -> Vec<String> {
    reasons(kind)
        .iter()
        .flat_map(|r| [format!("events.{r}.short"), format!("events.{r}.long")])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::{EventSource, EventType, ObjectRef};

    fn event(kind: &str, name: &str, reason: &str, t: i64) -> K8sEvent {
        let o = ObjectRef {
            kind: kind.into(),
            namespace: if kind == "Pod" {
                "shop".into()
            } else {
                String::new()
            },
            name: name.into(),
            uid: String::new(),
        };
        let source = EventSource::default();
        K8sEvent::new(o, EventType::Warning, reason, "m".into(), source, t, 1)
    }

    #[test]
    fn counts_in_both_windows_by_reason() {
        let events = [
            event("Pod", "cart-1", "BackOff", 1_000),
            event("Pod", "cart-1", "BackOff", 50_000),
            event("Pod", "cart-1", "Unhealthy", 100_000),
            event("Pod", "cart-1", "Scheduled", 100_000),
            event("Node", "node-1", "OOMKilling", 100_000),
        ];
        let idx = EventIndex::new(&events, ObjectKind::Pod);
        let key = ("shop".to_string(), "cart-1".to_string());
        let mut out = Vec::new();
        idx.counts(&key, 100_000, 60_000, 600_000, &mut out);
        assert_eq!(out.len(), names(ObjectKind::Pod).len());
        assert_eq!(&out[..4], &[1.0, 2.0, 1.0, 1.0], "BackOff, then Unhealthy");
        let mut none = Vec::new();
        idx.counts(
            &("shop".into(), "other".into()),
            100_000,
            60_000,
            600_000,
            &mut none,
        );
        assert_eq!(none, vec![0.0; out.len()]);
        let nodes = EventIndex::new(&events, ObjectKind::Node);
        let mut n = Vec::new();
        nodes.counts(
            &(String::new(), "node-1".into()),
            100_000,
            60_000,
            600_000,
            &mut n,
        );
        assert_eq!(n.iter().sum::<f64>(), 2.0);
    }
}
