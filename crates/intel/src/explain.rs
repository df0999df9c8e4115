//! Why a prediction says what it says: the features that moved it most (the changes in the
//! forest's probability along each tree's path, attributed to the features split on), each
//! described in words, and a sentence for the likeliest failure built from the signals that
//! matter for it ("working set grows 42 MiB/min and reaches the 512 MiB limit in about 6 min").

use serde::Serialize;

use crate::labels::FailureClass;

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Feature name (`signal.stat`).
    pub feature: String,
    /// Its value in the window.
    pub value: f64,
    /// How much it moved the probability of a failure (before calibration).
    pub weight: f64,
    /// The same in words.
    pub text: String,
}

/// A window's features by name.
pub struct Row<'a> {
    /// Names, in row order.
    pub names: &'a [String],
    /// Values.
    pub values: &'a [f64],
}

impl Row<'_> {
    /// The value of feature `name`, when it is present and finite.
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.names.iter().position(|n| n == name)?;
        self.values.get(i).copied().filter(|v| v.is_finite())
    }
}

/// How recent a rollout counts as the likely cause of a crash (seconds).
const RECENT_ROLLOUT_SECS: f64 = 1800.0;

/// When the object's revision was rolled out, if within the last half hour: the age of its
/// ReplicaSet where known, else its own age (a pod created minutes ago may run a new version).
pub fn recent_rollout(row: &Row<'_>) -> Option<Rollout> {
    match row.get("revision_age_seconds.last") {
        Some(r) => (r < RECENT_ROLLOUT_SECS).then_some(Rollout::Revision(r)),
        None => row
            .get("age_seconds.last")
            .filter(|a| *a < RECENT_ROLLOUT_SECS)
            .map(|_| Rollout::Pod),
    }
}

/// What says a rollout is recent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rollout {
    /// The pod's ReplicaSet is this many seconds old.
    Revision(f64),
    /// The pod itself is young; its revision's age is unknown.
    Pod,
}

const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

/// The features with the largest positive weights (at most `n`, each at least `min_weight`),
/// described.
pub fn evidence(row: &Row<'_>, weights: &[f64], n: usize, min_weight: f64) -> Vec<Evidence> {
    let mut order: Vec<usize> = (0..weights.len().min(row.names.len())).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]));
    order
        .into_iter()
        .take(n)
        .filter(|&i| weights[i] >= min_weight && row.values.get(i).is_some_and(|v| v.is_finite()))
        .map(|i| {
            let value = row.values.get(i).copied().unwrap_or(f64::NAN);
            Evidence {
                feature: row.names[i].clone(),
                value,
                weight: weights[i],
                text: describe(&row.names[i], value),
            }
        })
        .collect()
}

/// A feature and its value in words.
pub fn describe(feature: &str, v: f64) -> String {
    let (signal, stat) = feature.split_once('.').unwrap_or((feature, ""));
    if signal == "events" {
        let (reason, window) = stat.split_once('.').unwrap_or((stat, ""));
        let span = if window == "long" {
            "15 minutes"
        } else {
            "3 minutes"
        };
        return format!("{v:.0} {reason} events in the last {span}");
    }
    let what = signal.replace('_', " ");
    match stat {
        "seconds_to_limit" | "trend_seconds_to_limit" | "recent_seconds_to_limit" => {
            if v >= 3600.0 {
                format!("{what} is not heading for its limit")
            } else {
                format!("{what} reaches its limit in about {}", minutes(v))
            }
        }
        "trend" | "recent_trend" => format!("{what} trend {} per minute", value(signal, v * 60.0)),
        "slope" => format!("{what} changing {} per minute", value(signal, v * 60.0)),
        "missing" => format!("{:.0}% of {what} samples missing", v * 100.0),
        "" | "last" => format!("{what} {}", value(signal, v)),
        _ => format!("{what} ({stat}) {}", value(signal, v)),
    }
}

/// A value of `signal` with its unit.
fn value(signal: &str, v: f64) -> String {
    if v.is_nan() {
        return "unknown".into();
    }
    if signal.ends_with("_ratio") {
        format!("{:.1}%", v * 100.0)
    } else if signal.ends_with("_bytes") {
        if v.abs() >= GIB {
            format!("{:.1} GiB", v / GIB)
        } else {
            format!("{:.0} MiB", v / MIB)
        }
    } else if signal.ends_with("_seconds") {
        if v.abs() < 1.0 {
            format!("{:.0} ms", v * 1000.0)
        } else {
            format!("{v:.1} s")
        }
    } else {
        format!("{v:.3}")
    }
}

/// Seconds as minutes or seconds, in words.
pub fn minutes(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}

/// A trend that reaches the limit later than this (seconds) is not said to reach it.
const REACH_SECS: f64 = 3600.0;

/// The sentence for an object where no failure is likely: the likeliest class, its
/// probability, and the state of the signal that would announce it.
pub fn unlikely(class: FailureClass, row: &Row<'_>, probability: f64) -> String {
    let state = match class {
        FailureClass::Oom => row
            .get("memory_limit_ratio.last")
            .map(|r| format!("; working set at {:.0}% of its memory limit", r * 100.0)),
        FailureClass::DiskPressure => row
            .get("fs_used_ratio.last")
            .or_else(|| row.get("node_fs_used_ratio.last"))
            .map(|u| format!("; disk {:.0}% full", u * 100.0)),
        FailureClass::CpuSaturation => row
            .get("cpu_limit_ratio.last")
            .or_else(|| row.get("cpu_busy_ratio.last"))
            .map(|c| format!("; CPU at {:.0}% of its limit", c * 100.0)),
        FailureClass::CrashLoop => row
            .get("restarts_10m.last")
            .map(|r| format!("; {r:.0} restarts in the last 10 minutes")),
        _ => None,
    };
    if class == FailureClass::None {
        return "no failure is expected".into();
    }
    format!(
        "no failure is expected (likeliest {}, {:.0}%){}",
        class.name(),
        probability * 100.0,
        state.unwrap_or_default()
    )
}

/// The sentence saying why `class` is expected, from the signals that matter for it; `eta` in
/// seconds when known.
pub fn sentence(class: FailureClass, row: &Row<'_>, eta: Option<f64>) -> String {
    let when = eta.map_or(String::new(), |e| format!(" in about {}", minutes(e)));
    match class {
        FailureClass::Oom => {
            let limit = row.get("memory_limit_bytes.last");
            let ratio = row.get("memory_limit_ratio.last");
            let trend = row.get("memory_limit_ratio.trend");
            match (limit, ratio, trend) {
                // The time to the limit is the one this trend gives, whatever the ETA's source.
                (Some(l), Some(r), Some(t)) if t > 0.0 && (1.0 - r) / t < REACH_SECS => format!(
                    "working set at {:.0}% of its {:.0} MiB limit grows {:.1} MiB/min and reaches the limit in about {}",
                    r * 100.0,
                    l / MIB,
                    t * 60.0 * l / MIB,
                    minutes(((1.0 - r) / t).max(0.0))
                ),
                (_, Some(r), _) => format!(
                    "working set at {:.0}% of its memory limit; an OOM kill is expected{when}",
                    r * 100.0
                ),
                _ => format!("an OOM kill is expected{when}"),
            }
        }
        FailureClass::DiskPressure => {
            let used = row
                .get("fs_used_ratio.last")
                .or_else(|| row.get("node_fs_used_ratio.last"));
            let trend = row
                .get("fs_used_ratio.trend")
                .or_else(|| row.get("node_fs_used_ratio.trend"));
            match (used, trend) {
                (Some(u), Some(t)) if t > 0.0 => format!(
                    "the node's disk is {:.0}% full and fills {:.1} points per hour: the kubelet's 90% eviction threshold is reached{when}",
                    u * 100.0,
                    t * 360_000.0
                ),
                (Some(u), _) => format!(
                    "the node's disk is {:.0}% full; disk pressure is expected{when}",
                    u * 100.0
                ),
                _ => format!("disk pressure is expected{when}"),
            }
        }
        FailureClass::CpuSaturation => {
            let cpu = row
                .get("cpu_limit_ratio.last")
                .or_else(|| row.get("cpu_busy_ratio.last"));
            let throttled = row.get("cpu_throttled_ratio.last").unwrap_or(0.0);
            match cpu {
                Some(c) => format!(
                    "CPU at {:.0}% of its limit with {:.0}% of periods throttled: readiness or latency fails{when}",
                    c * 100.0,
                    throttled * 100.0
                ),
                None => format!("CPU saturation is expected{when}"),
            }
        }
        FailureClass::CrashLoop => {
            let restarts = row.get("restarts_10m.last").unwrap_or(0.0);
            let new = match recent_rollout(row) {
                Some(Rollout::Revision(secs)) => {
                    format!(", in a revision rolled out {} ago", minutes(secs))
                }
                Some(Rollout::Pod) => ", in a pod created minutes ago (a new version?)".into(),
                None => String::new(),
            };
            match row.get("run_left_seconds.last") {
                Some(left) if left >= 0.0 && restarts > 0.0 => format!(
                    "{restarts:.0} restarts in the last 10 minutes{new}; lasting as long as its earlier runs, the container exits again in about {}: back-off is expected{when}",
                    minutes(left)
                ),
                _ => format!(
                    "{restarts:.0} restarts in the last 10 minutes{new}: back-off is expected{when}"
                ),
            }
        }
        FailureClass::NetworkDegradation => {
            let latency = row.get("service_latency_seconds.last");
            let drops = row.get("network_drops.last").unwrap_or(0.0);
            format!(
                "service latency {} with {drops:.1} dropped packets/s: an SLO breach from the network is expected{when}",
                latency.map_or("unknown".into(), |l| value("_seconds", l))
            )
        }
        FailureClass::DependencyFailure => {
            let errors = row.get("service_error_ratio.last").unwrap_or(0.0);
            let callees = match (
                row.get("dependency_error_ratio.last"),
                row.get("dependency_latency_seconds.last"),
            ) {
                (Some(e), Some(l)) => format!(
                    " (the worst of the services it calls fails {:.1}% of calls, answers in {})",
                    e * 100.0,
                    value("_seconds", l)
                ),
                (Some(e), None) => format!(
                    " (the worst of the services it calls fails {:.1}% of calls)",
                    e * 100.0
                ),
                _ => String::new(),
            };
            format!(
                "{:.1}% of the service's requests fail, climbing{callees}: a breach from a failing dependency is expected{when}",
                errors * 100.0
            )
        }
        FailureClass::NodeFailure => format!("the node is expected to stop reporting{when}"),
        FailureClass::Unschedulable => {
            format!("pods are expected to find no node with room{when}")
        }
        FailureClass::None => "no failure is expected".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(names: &'a [String], values: &'a [f64]) -> Row<'a> {
        Row { names, values }
    }

    #[test]
    fn a_leak_is_explained_with_its_rate_limit_and_eta() {
        let names: Vec<String> = [
            "memory_limit_bytes.last",
            "memory_limit_ratio.last",
            "memory_limit_ratio.trend",
            "memory_limit_ratio.trend_seconds_to_limit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // 512 MiB limit, at 50%, growing 42 MiB/min: 256 MiB left, about 6 minutes.
        let values = [512.0 * MIB, 0.5, 42.0 / 512.0 / 60.0, 366.0];
        let r = row(&names, &values);
        let s = sentence(FailureClass::Oom, &r, Some(366.0));
        assert_eq!(
            s,
            "working set at 50% of its 512 MiB limit grows 42.0 MiB/min and reaches the limit in about 6 min"
        );
        // The time said is the trend's, even when the ETA passed came from elsewhere.
        let s = sentence(FailureClass::Oom, &r, Some(150.0));
        assert!(s.ends_with("reaches the limit in about 6 min"), "{s}");
        // A trend too slow to matter is not said to reach the limit.
        let slow = [512.0 * MIB, 0.17, 0.1 / 512.0 / 60.0, f64::NAN];
        let s = sentence(FailureClass::Oom, &row(&names, &slow), Some(240.0));
        assert_eq!(
            s,
            "working set at 17% of its memory limit; an OOM kill is expected in about 4 min"
        );
        assert_eq!(
            unlikely(FailureClass::Oom, &row(&names, &slow), 0.004),
            "no failure is expected (likeliest oom, 0%); working set at 17% of its memory limit"
        );
        let e = evidence(&r, &[0.0, 0.1, 0.3, 0.05], 2, 0.01);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].feature, "memory_limit_ratio.trend");
        assert_eq!(e[0].text, "memory limit ratio trend 8.2% per minute");
        assert_eq!(e[1].text, "memory limit ratio 50.0%");
        assert_eq!(
            describe("memory_limit_ratio.trend_seconds_to_limit", 146.0),
            "memory limit ratio reaches its limit in about 2 min"
        );
        assert_eq!(
            describe("events.BackOff.short", 3.0),
            "3 BackOff events in the last 3 minutes"
        );
        // Nothing known still says something.
        let empty = row(&[], &[]);
        assert_eq!(
            sentence(FailureClass::Oom, &empty, None),
            "an OOM kill is expected"
        );
    }

    #[test]
    fn a_crash_loop_is_explained_with_the_length_of_earlier_runs() {
        let names: Vec<String> = [
            "restarts_10m.last",
            "age_seconds.last",
            "run_left_seconds.last",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let s = sentence(
            FailureClass::CrashLoop,
            &row(&names, &[1.0, 500.0, 280.0]),
            Some(280.0),
        );
        assert_eq!(
            s,
            "1 restarts in the last 10 minutes, in a pod created minutes ago (a new version?); lasting as long as its earlier runs, the container exits again in about 5 min: back-off is expected in about 5 min"
        );
        // With the age of the pod's ReplicaSet, the rollout is named; a pod rescheduled from
        // an old revision is not taken for a new version.
        let with_revision: Vec<String> = names
            .iter()
            .cloned()
            .chain(["revision_age_seconds.last".to_string()])
            .collect();
        let s = sentence(
            FailureClass::CrashLoop,
            &row(&with_revision, &[1.0, 500.0, -60.0, 540.0]),
            None,
        );
        assert_eq!(
            s,
            "1 restarts in the last 10 minutes, in a revision rolled out 9 min ago: back-off is expected"
        );
        let s = sentence(
            FailureClass::CrashLoop,
            &row(&with_revision, &[1.0, 500.0, -60.0, 86_400.0]),
            None,
        );
        assert_eq!(s, "1 restarts in the last 10 minutes: back-off is expected");
        // A container that outlived its earlier runs says nothing of them.
        let s = sentence(
            FailureClass::CrashLoop,
            &row(&names, &[1.0, 7200.0, -60.0]),
            None,
        );
        assert_eq!(s, "1 restarts in the last 10 minutes: back-off is expected");
    }
}
