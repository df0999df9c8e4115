//! Findings: what the state of an object says is wrong right now, with the evidence, in the
//! words an SRE would use. Pods: CrashLoopBackOff (with the last termination's reason and exit
//! code), ImagePullBackOff and ErrImagePull, CreateContainerConfigError, Pending for want of a
//! node (with the scheduler's reason), failing liveness or readiness probes (from `Unhealthy`
//! events), OOMKilled, Evicted. Nodes: not Ready, MemoryPressure, DiskPressure, PIDPressure,
//! NetworkUnavailable.

use serde::Serialize;

use kubepulse_model::{EventType, K8sEvent, ObjectRef, ObjectState};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Degraded but serving.
    Warning,
    /// Down or about to be.
    Critical,
}

impl Severity {
    /// `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The object it is about.
    pub object: ObjectRef,
    /// The node, for pods placed on one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// What: `CrashLoopBackOff`, `ImagePullBackOff`, `MemoryPressure`, …
    pub reason: String,
    /// How bad.
    pub severity: Severity,
    /// One sentence.
    pub message: String,
    /// The facts behind it, as (name, value).
    pub evidence: Vec<(String, String)>,
}

fn field<'a>(s: &'a ObjectState, k: &str) -> &'a str {
    s.fields.get(k).map_or("", String::as_str)
}

fn finding(s: &ObjectState, reason: &str, severity: Severity, message: String) -> Finding {
    Finding {
        object: s.object.clone(),
        node: s.node.clone(),
        reason: reason.into(),
        severity,
        message,
        evidence: Vec::new(),
    }
}

fn with(mut f: Finding, facts: &[(&str, &str)]) -> Finding {
    f.evidence.extend(
        facts
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    f
}

/// Findings about `s`, from its state and the recent `events` about it.
pub fn analyze(s: &ObjectState, events: &[&K8sEvent]) -> Vec<Finding> {
    if s.deleted {
        return Vec::new();
    }
    match s.object.kind.as_str() {
        "Pod" => pod(s, events),
        "Node" => node(s),
        _ => Vec::new(),
    }
}

/// A container's exit code in words, for the codes that have one.
fn exit_meaning(code: &str) -> &'static str {
    match code {
        "137" => " (killed: SIGKILL, often the OOM killer)",
        "143" => " (terminated: SIGTERM)",
        "139" => " (segmentation fault)",
        "1" => " (application error)",
        "126" | "127" => " (command not found or not executable)",
        _ => "",
    }
}

fn pod(s: &ObjectState, events: &[&K8sEvent]) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = format!("{}/{}", s.object.namespace, s.object.name);
    let container = field(s, "container");
    let message = field(s, "message");
    let last_reason = field(s, "lastState.terminated.reason");
    let exit = field(s, "lastState.terminated.exitCode");
    let restarts = s.restarts.to_string();
    match s.reason.as_str() {
        "CrashLoopBackOff" => {
            let why = if last_reason.is_empty() {
                String::new()
            } else {
                format!(
                    "; it last exited with {last_reason}, code {exit}{}",
                    exit_meaning(exit)
                )
            };
            out.push(with(
                finding(
                    s,
                    "CrashLoopBackOff",
                    Severity::Critical,
                    format!(
                        "container {container} of {name} keeps crashing ({restarts} restarts){why}"
                    ),
                ),
                &[
                    ("container", container),
                    ("restarts", &restarts),
                    ("last termination reason", last_reason),
                    ("exit code", exit),
                    ("message", message),
                ],
            ));
        }
        r @ ("ImagePullBackOff" | "ErrImagePull" | "InvalidImageName") => out.push(with(
            finding(
                s,
                r,
                Severity::Critical,
                format!(
                    "{name} cannot pull image {}: {}",
                    field(s, "image"),
                    if message.is_empty() { r } else { message }
                ),
            ),
            &[
                ("container", container),
                ("image", field(s, "image")),
                ("message", message),
            ],
        )),
        "CreateContainerConfigError" => out.push(with(
            finding(
                s,
                "CreateContainerConfigError",
                Severity::Critical,
                format!("{name} cannot start container {container}: {message}"),
            ),
            &[("container", container), ("message", message)],
        )),
        "Evicted" => out.push(with(
            finding(
                s,
                "Evicted",
                Severity::Warning,
                format!("{name} was evicted from {}: {message}", s.node),
            ),
            &[("node", &s.node), ("message", message)],
        )),
        "OOMKilled" => out.push(oom(s, &name)),
        _ => {}
    }
    // A container that restarted after an OOM kill and runs again is still worth telling.
    if s.reason != "OOMKilled" && s.reason != "CrashLoopBackOff" && last_reason == "OOMKilled" {
        out.push(oom(s, &name));
    }
    if s.phase == "Pending"
        && s.conditions
            .get("PodScheduled")
            .is_some_and(|v| v == "False")
    {
        let why = field(s, "scheduling.message");
        let from_event = events
            .iter()
            .rev()
            .find(|e| e.reason == "FailedScheduling")
            .map(|e| e.message.as_str());
        let why = if why.is_empty() {
            from_event.unwrap_or("")
        } else {
            why
        };
        out.push(with(
            finding(
                s,
                "FailedScheduling",
                Severity::Warning,
                format!(
                    "{name} is Pending: no node can take it{}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({why})")
                    }
                ),
            ),
            &[("scheduler", why)],
        ));
    }
    out.extend(probes(s, &name, events));
    out
}

fn oom(s: &ObjectState, name: &str) -> Finding {
    let limit = field(s, "limits.memory")
        .parse::<f64>()
        .map(|b| format!("{:.0} MiB", b / 1_048_576.0))
        .unwrap_or_default();
    let restarts = s.restarts.to_string();
    with(
        finding(
            s,
            "OOMKilled",
            Severity::Warning,
            format!(
                "container {} of {name} was OOM-killed{}",
                field(s, "container"),
                if limit.is_empty() {
                    String::new()
                } else {
                    format!(" at its {limit} memory limit")
                }
            ),
        ),
        &[
            ("container", field(s, "container")),
            ("memory limit", &limit),
            ("exit code", field(s, "lastState.terminated.exitCode")),
            ("restarts", &restarts),
        ],
    )
}

/// Liveness and readiness probes failing, from the kubelet's `Unhealthy` events.
fn probes(s: &ObjectState, name: &str, events: &[&K8sEvent]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (probe, severity) in [
        ("Liveness", Severity::Critical),
        ("Readiness", Severity::Warning),
        ("Startup", Severity::Warning),
    ] {
        let failing: Vec<&&K8sEvent> = events
            .iter()
            .filter(|e| {
                e.reason == "Unhealthy"
                    && e.event_type == EventType::Warning
                    && e.message.starts_with(probe)
            })
            .collect();
        let Some(last) = failing.iter().max_by_key(|e| e.last_timestamp) else {
            continue;
        };
        let count: u32 = failing.iter().map(|e| e.count).sum();
        let times = count.to_string();
        out.push(with(
            finding(
                s,
                &format!("{probe}ProbeFailed"),
                severity,
                format!(
                    "{} probe of {name} fails ({count} times): {}",
                    probe.to_lowercase(),
                    last.message
                ),
            ),
            &[("failures", &times), ("last message", &last.message)],
        ));
    }
    out
}

fn node(s: &ObjectState) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = &s.object.name;
    let ready = s.conditions.get("Ready").map_or("Unknown", String::as_str);
    if ready != "True" {
        let reason = field(s, "condition.Ready.reason");
        let message = field(s, "condition.Ready.message");
        out.push(with(
            finding(
                s,
                "NodeNotReady",
                Severity::Critical,
                format!(
                    "node {name} is not Ready (Ready={ready}{}){}",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(", {reason}")
                    },
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ),
            ),
            &[("Ready", ready), ("reason", reason), ("message", message)],
        ));
    }
    for (cond, severity, what) in [
        (
            "MemoryPressure",
            Severity::Warning,
            "is low on memory: the kubelet evicts pods",
        ),
        (
            "DiskPressure",
            Severity::Warning,
            "is low on disk: the kubelet evicts pods and images",
        ),
        (
            "PIDPressure",
            Severity::Warning,
            "is running out of process IDs",
        ),
        (
            "NetworkUnavailable",
            Severity::Critical,
            "has no working pod network",
        ),
    ] {
        if s.conditions.get(cond).is_some_and(|v| v == "True") {
            let reason = field(s, &format!("condition.{cond}.reason"));
            let message = field(s, &format!("condition.{cond}.message"));
            out.push(with(
                finding(s, cond, severity, format!("node {name} {what}")),
                &[(cond, "True"), ("reason", reason), ("message", message)],
            ));
        }
    }
    out
}
