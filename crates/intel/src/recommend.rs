//! What to do about a predicted failure: a catalogue keyed by the failure class and the evidence
//! in the window, with concrete actions and numbers (a memory limit with headroom and the time
//! it buys a leak, how many more replicas the current load needs, the rollout to undo), and how
//! confident KubePulse is that the action addresses the cause.

use serde::Serialize;

use crate::explain::Row;
use crate::labels::FailureClass;

/// A recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// What is wrong and what would fix it.
    pub description: String,
    /// Concrete steps, most useful first (commands where one exists).
    pub actions: Vec<String>,
    /// How likely the first action addresses the cause, in [0, 1].
    pub confidence: f64,
}

/// The object a recommendation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Namespace (empty for nodes).
    pub namespace: String,
    /// Pod or node name.
    pub name: String,
}

impl Subject {
    /// The workload a pod belongs to, from its name: `web-7d4b9c8f6d-x2x9z` → `deployment/web`,
    /// `db-0` → `statefulset/db`; the pod itself when the name has neither shape.
    pub fn workload(&self) -> String {
        let parts: Vec<&str> = self.name.split('-').collect();
        let hashy =
            |s: &str| (5..=10).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric());
        let n = parts.len();
        if n >= 3 && hashy(parts[n - 1]) && hashy(parts[n - 2]) {
            return format!("deployment/{}", parts[..n - 2].join("-"));
        }
        if n >= 2 && parts[n - 1].parse::<u32>().is_ok() {
            return format!("statefulset/{}", parts[..n - 1].join("-"));
        }
        format!("pod/{}", self.name)
    }
}

const MIB: f64 = 1_048_576.0;

/// Headroom added above an observed peak when a limit is raised.
pub const HEADROOM: f64 = 1.3;
/// Utilisation of the CPU limit that replica counts aim for.
pub const TARGET_CPU: f64 = 0.6;

/// The recommendation for `class` on `subject`, given the window's features and the calibrated
/// probability of the failure.
pub fn recommend(
    class: FailureClass,
    s: &Subject,
    row: &Row<'_>,
    probability: f64,
) -> Recommendation {
    let ns = &s.namespace;
    let wl = s.workload();
    let (description, actions, confidence) = match class {
        FailureClass::Oom => oom(s, row),
        FailureClass::CrashLoop => {
            let new = crate::explain::recent_rollout(row).is_some();
            let error = row.get("last_terminated_error.last").unwrap_or(0.0) > 0.0;
            if new && error {
                (
                    format!("{wl} in {ns} crashes in its newest pods: the latest rollout is the likely cause; undo it"),
                    vec![
                        format!("kubectl -n {ns} rollout undo {wl}"),
                        format!("kubectl -n {ns} logs {} --previous", s.name),
                        format!("kubectl -n {ns} rollout history {wl}"),
                    ],
                    0.85,
                )
            } else {
                (
                    format!("{} in {ns} keeps restarting: read why the last container exited", s.name),
                    vec![
                        format!("kubectl -n {ns} logs {} --previous", s.name),
                        format!("kubectl -n {ns} describe pod {}", s.name),
                    ],
                    0.5,
                )
            }
        }
        FailureClass::CpuSaturation => cpu(s, row),
        FailureClass::DiskPressure => {
            let node = if ns.is_empty() {
                s.name.clone()
            } else {
                "the pod's node".to_string()
            };
            (
                format!("{node} is running out of disk: free space before the kubelet starts evicting pods at 90%"),
                vec![
                    format!("find the writer: kubectl get pods -A --field-selector spec.nodeName={} and compare their ephemeral storage", s.name),
                    "remove or rotate what grows (container logs, emptyDir, images: crictl rmi --prune)".into(),
                    format!("kubectl cordon {} while the disk is freed or expanded", s.name),
                ],
                0.7,
            )
        }
        FailureClass::NodeFailure => (
            format!("{} is about to stop reporting: move its pods before it does", s.name),
            vec![
                format!("kubectl cordon {}", s.name),
                format!("kubectl drain {} --ignore-daemonsets --delete-emptydir-data", s.name),
                "check the kubelet and the machine (systemctl status kubelet, journalctl -u kubelet)".into(),
            ],
            0.5,
        ),
        FailureClass::NetworkDegradation => (
            format!("calls to and from {wl} in {ns} slow down or drop on the network"),
            vec![
                format!("kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={}", service(&wl)),
                "compare latency between zones and nodes; check the CNI and the nodes' network errors".into(),
                "shift traffic away from the degraded path (retries with budgets, zone-aware routing)".into(),
            ],
            0.4,
        ),
        FailureClass::DependencyFailure => (
            format!("something {wl} in {ns} calls is failing and its errors propagate"),
            vec![
                "find the failing dependency in the service's traces or its callees' error ratios".into(),
                "fail fast: a circuit breaker or shorter timeouts keep the failure from spreading".into(),
            ],
            0.4,
        ),
        FailureClass::Unschedulable => (
            format!("pods of {wl} in {ns} will not fit on any node"),
            vec![
                format!("kubectl -n {ns} describe pod {} (the FailedScheduling event names the resource)", s.name),
                "lower the requests, or add a node that fits them".into(),
            ],
            0.6,
        ),
        FailureClass::None => ("nothing to do".into(), Vec::new(), 0.0),
    };
    Recommendation {
        description,
        actions,
        confidence: (confidence * probability).clamp(0.0, 1.0),
    }
}

fn oom(s: &Subject, row: &Row<'_>) -> (String, Vec<String>, f64) {
    let ns = &s.namespace;
    let wl = s.workload();
    let limit = row.get("memory_limit_bytes.last");
    let growth = row
        .get("memory_limit_ratio.trend")
        .zip(limit)
        .map(|(t, l)| t * 60.0 * l / MIB)
        .filter(|g| *g > 0.5);
    // The working set peaks at the limit when the container is killed: the limit plus the
    // headroom, rounded up to 64 MiB.
    let new_limit = limit.map(|l| ((l * HEADROOM / MIB / 64.0).ceil() * 64.0) as u64);
    let used = row
        .get("memory_limit_ratio.last")
        .zip(limit)
        .map(|(r, l)| r * l / MIB);
    let mut actions = vec![format!(
        "kubectl -n {ns} top pod {} --containers (which container grows)",
        s.name
    )];
    if let Some(n) = new_limit {
        actions.push(format!(
            "kubectl -n {ns} set resources {wl} --limits=memory={n}Mi"
        ));
    }
    match growth {
        Some(g) => {
            actions.push(format!(
                "capture a heap profile of {} before it is killed; the growth ({g:.1} MiB/min) looks like a leak",
                s.name
            ));
            actions.push(format!(
                "if the growth began with a rollout: kubectl -n {ns} rollout undo {wl}"
            ));
            let limit_text = match (new_limit, used) {
                (Some(n), Some(u)) => format!(
                    " (a limit of {n} MiB buys only about {} at this rate: fix the leak)",
                    crate::explain::minutes((n as f64 - u).max(0.0) / g * 60.0)
                ),
                _ => String::new(),
            };
            (
                format!(
                    "{} in {ns} leaks memory and will be OOM-killed{limit_text}",
                    s.name
                ),
                actions,
                0.6,
            )
        }
        None => (
            format!(
                "{} in {ns} runs at its memory limit: raise it{}",
                s.name,
                new_limit.map_or(String::new(), |n| format!(" to {n} MiB (30% more)"))
            ),
            actions,
            0.75,
        ),
    }
}

fn cpu(s: &Subject, row: &Row<'_>) -> (String, Vec<String>, f64) {
    let ns = &s.namespace;
    let wl = s.workload();
    if ns.is_empty() {
        return (
            format!("{} is out of CPU: move or limit its busiest pods", s.name),
            vec![
                format!(
                    "kubectl top pods -A --sort-by=cpu --field-selector spec.nodeName={}",
                    s.name
                ),
                format!("kubectl cordon {}", s.name),
            ],
            0.5,
        );
    }
    let ratio = row.get("cpu_limit_ratio.max").unwrap_or(1.0);
    let limit = row.get("cpu_limit_cores.last");
    let factor = (ratio.max(1.0) / TARGET_CPU).ceil().max(2.0);
    let mut actions = vec![format!(
        "scale {wl} out to {factor:.0}× its replicas so each runs near {:.0}% of its limit",
        TARGET_CPU * 100.0
    )];
    if let Some(l) = limit {
        let cores = (l * ratio.max(1.0) * HEADROOM * 10.0).ceil() / 10.0;
        actions.push(format!(
            "or raise its CPU limit: kubectl -n {ns} set resources {wl} --limits=cpu={:.0}m",
            cores * 1000.0
        ));
    }
    actions.push(format!(
        "if one pod burns CPU alone (a runaway loop), restart it: kubectl -n {ns} delete pod {}",
        s.name
    ));
    (
        format!(
            "{} in {ns} is running out of CPU ({:.0}% of its limit)",
            s.name,
            ratio * 100.0
        ),
        actions,
        0.6,
    )
}

fn service(workload: &str) -> &str {
    workload.split_once('/').map_or(workload, |(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Subject {
        Subject {
            namespace: "shop".into(),
            name: name.into(),
        }
    }

    #[test]
    fn workloads_from_pod_names() {
        assert_eq!(pod("cart-7d4b9c8f6d-x2x9z").workload(), "deployment/cart");
        assert_eq!(pod("catalog-db-0").workload(), "statefulset/catalog-db");
        assert_eq!(pod("standalone").workload(), "pod/standalone");
    }

    #[test]
    fn a_leak_gets_a_bigger_limit_and_the_time_it_buys() {
        let names: Vec<String> = [
            "memory_limit_bytes.last",
            "memory_limit_ratio.last",
            "memory_limit_ratio.trend",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let values = [512.0 * MIB, 0.9, 10.0 / 512.0 / 60.0];
        let row = Row {
            names: &names,
            values: &values,
        };
        let r = recommend(FailureClass::Oom, &pod("cart-7d4b9c8f6d-x2x9z"), &row, 0.8);
        // 512 MiB × 1.3 = 666 MiB, rounded up to 704; from 461 MiB at 10 MiB/min, 24 minutes.
        assert_eq!(
            r.actions[1],
            "kubectl -n shop set resources deployment/cart --limits=memory=704Mi"
        );
        assert_eq!(
            r.description,
            "cart-7d4b9c8f6d-x2x9z in shop leaks memory and will be OOM-killed (a limit of 704 MiB buys only about 24 min at this rate: fix the leak)"
        );
        assert!((r.confidence - 0.48).abs() < 1e-9);
    }

    #[test]
    fn a_crashing_new_version_is_rolled_back() {
        let names: Vec<String> = ["age_seconds.last", "last_terminated_error.last"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values = [300.0, 1.0];
        let row = Row {
            names: &names,
            values: &values,
        };
        let r = recommend(
            FailureClass::CrashLoop,
            &pod("web-7d4b9c8f6d-abcde"),
            &row,
            1.0,
        );
        assert_eq!(r.actions[0], "kubectl -n shop rollout undo deployment/web");
        // A young pod of a revision that has run for a day: nothing to undo.
        let names_rev: Vec<String> = names
            .iter()
            .cloned()
            .chain(["revision_age_seconds.last".to_string()])
            .collect();
        let values_rev = [300.0, 1.0, 86_400.0];
        let old_revision = Row {
            names: &names_rev,
            values: &values_rev,
        };
        let r = recommend(
            FailureClass::CrashLoop,
            &pod("web-7d4b9c8f6d-abcde"),
            &old_revision,
            1.0,
        );
        assert!(
            r.actions.iter().all(|a| !a.contains("rollout undo")),
            "{r:?}"
        );
        let none = recommend(FailureClass::None, &pod("web-0"), &row, 1.0);
        assert!(none.actions.is_empty() && none.confidence == 0.0);
    }
}
