//! Events from the template counts:
//!
//! - `NewLogTemplate`: a line of a template never seen before (after the first ten minutes, when
//!   everything is new); a warning when the line is an error;
//! - `LogErrorBurst`: a pod wrote at least 10 error lines in an interval, five times its usual;
//! - `LogTemplateGone`: a template seen steadily (in at least 20 intervals) stopped for ten
//!   times its usual gap, and at least ten minutes.

use std::collections::HashMap;

use kubepulse_model::{EventSource, EventType, K8sEvent, ObjectKind, ObjectRef, Severity};

use super::Key;

/// No new-template events this long after start (ms): everything is new at first.
const GRACE_MS: i64 = 600_000;
/// Error lines in an interval that can make a burst.
const BURST_LINES: u64 = 10;
/// A burst is this many times the usual.
const BURST_FACTOR: f64 = 5.0;
/// Intervals a pod's usual error count needs before bursts are judged.
const BURST_WARM: u32 = 8;
/// Intervals a template must have been seen in before it can be reported gone.
const STEADY_TICKS: u32 = 20;
/// Shortest silence reported as gone (ms).
const GONE_MIN_MS: i64 = 600_000;
/// Entries not touched for this long are forgotten (ms).
const IDLE_MS: i64 = 3_600_000;
/// The component the events come from.
pub const COMPONENT: &str = "kubepulse-logs";

#[derive(Debug, Clone)]
struct Template {
    first_seen: i64,
    last_seen: i64,
    mean_gap: f64,
    ticks_seen: u32,
    seen_this_tick: bool,
    gone: bool,
    namespace: String,
    pod: String,
}

#[derive(Debug, Clone, Default)]
struct Pod {
    now: u64,
    mean: f64,
    ticks: u32,
    last_t: i64,
}

/// The watch over templates and pods.
pub struct Watch {
    started: i64,
    templates: HashMap<u32, Template>,
    pods: HashMap<(String, String), Pod>,
    pending: Vec<K8sEvent>,
    seq: u64,
}

fn object(namespace: &str, pod: &str) -> ObjectRef {
    if namespace.is_empty() {
        ObjectRef {
            kind: "LogStream".into(),
            namespace: String::new(),
            name: pod.to_string(),
            uid: String::new(),
        }
    } else {
        ObjectRef::new(ObjectKind::Pod, namespace, pod)
    }
}

fn minutes(ms: f64) -> String {
    if ms < 120_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else {
        format!("{:.0} min", ms / 60_000.0)
    }
}

impl Watch {
    /// A watch started at `now`.
    pub fn new(now: i64) -> Self {
        Self {
            started: now,
            templates: HashMap::new(),
            pods: HashMap::new(),
            pending: Vec::new(),
            seq: 0,
        }
    }

    fn event(&mut self, o: ObjectRef, kind: EventType, reason: &str, message: String, t: i64) {
        self.seq += 1;
        let source = EventSource {
            component: COMPONENT.into(),
            host: String::new(),
        };
        let suffix = (t as u64) << 12 | (self.seq & 0xfff);
        self.pending
            .push(K8sEvent::new(o, kind, reason, message, source, t, suffix));
    }

    /// Takes one line of `key` at `t`; `new` when its template was just made.
    pub fn line(&mut self, key: &Key, t: i64, new: bool, text: impl FnOnce() -> String) {
        let entry = self
            .templates
            .entry(key.template)
            .or_insert_with(|| Template {
                first_seen: t,
                last_seen: t,
                mean_gap: 0.0,
                ticks_seen: 0,
                seen_this_tick: false,
                gone: false,
                namespace: key.namespace.clone(),
                pod: key.pod.clone(),
            });
        if t > entry.last_seen {
            let gap = (t - entry.last_seen) as f64;
            entry.mean_gap = if entry.mean_gap == 0.0 {
                gap
            } else {
                0.9 * entry.mean_gap + 0.1 * gap
            };
            entry.last_seen = t;
        }
        entry.seen_this_tick = true;
        entry.gone = false;
        entry.namespace.clone_from(&key.namespace);
        entry.pod.clone_from(&key.pod);
        let error = key.level >= Severity::Error;
        if new && t - self.started >= GRACE_MS {
            let kind = if error {
                EventType::Warning
            } else {
                EventType::Normal
            };
            let msg = format!(
                "new log template {} ({} line): {}",
                key.template,
                key.level.as_str(),
                text()
            );
            self.event(
                object(&key.namespace, &key.pod),
                kind,
                "NewLogTemplate",
                msg,
                t,
            );
        }
        let pod = self
            .pods
            .entry((key.namespace.clone(), key.pod.clone()))
            .or_default();
        pod.last_t = pod.last_t.max(t);
        if error {
            pod.now += 1;
        }
    }

    /// Closes the interval ending at `now`: the events it produced.
    pub fn tick(&mut self, now: i64, text: impl Fn(u32) -> String) -> Vec<K8sEvent> {
        let mut bursts = Vec::new();
        for ((ns, pod), p) in &mut self.pods {
            let usual = p.mean.max(1.0);
            if p.ticks >= BURST_WARM && p.now >= BURST_LINES && p.now as f64 >= BURST_FACTOR * usual
            {
                bursts.push((
                    object(ns, pod),
                    format!(
                        "{} error lines in the last interval, {:.1} usually",
                        p.now, p.mean
                    ),
                ));
            }
            p.mean = 0.9 * p.mean + 0.1 * p.now as f64;
            p.ticks = p.ticks.saturating_add(1);
            p.now = 0;
        }
        for (o, msg) in bursts {
            self.event(o, EventType::Warning, "LogErrorBurst", msg, now);
        }
        self.pods.retain(|_, p| p.last_t >= now - IDLE_MS);
        let mut gone = Vec::new();
        for (id, t) in &mut self.templates {
            if t.seen_this_tick {
                t.ticks_seen = t.ticks_seen.saturating_add(1);
                t.seen_this_tick = false;
            }
            let silence = (now - t.last_seen) as f64;
            let limit = (10.0 * t.mean_gap).max(GONE_MIN_MS as f64);
            if t.ticks_seen >= STEADY_TICKS && !t.gone && silence > limit {
                t.gone = true;
                gone.push((
                    object(&t.namespace, &t.pod),
                    format!(
                        "log template {id} stopped: last line {} ago, usually every {}: {}",
                        minutes(silence),
                        minutes(t.mean_gap),
                        text(*id)
                    ),
                ));
            }
        }
        for (o, msg) in gone {
            self.event(o, EventType::Normal, "LogTemplateGone", msg, now);
        }
        self.templates
            .retain(|_, t| !t.gone || t.last_seen >= now - 24 * IDLE_MS);
        std::mem::take(&mut self.pending)
    }

    /// When a template's first line was seen (since start).
    pub fn first_seen(&self, id: u32) -> Option<i64> {
        self.templates.get(&id).map(|t| t.first_seen)
    }
}
