//! The static threshold rules people run today (the shape of kubernetes-mixin's and
//! kube-prometheus' alerts), as a baseline that failure prediction is compared with. Each rule
//! reads one feature of a window and names the failure class it warns of.

use crate::labels::FailureClass;

/// A rule: `feature` compared with `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// What people call the alert.
    pub alert: &'static str,
    /// Feature it reads (as the feature rows name it).
    pub feature: &'static str,
    /// Fires when the feature is above the threshold (or below, when false).
    pub above: bool,
    /// The threshold.
    pub threshold: f64,
    /// What it warns of.
    pub class: FailureClass,
}

const fn rule(
    alert: &'static str,
    feature: &'static str,
    above: bool,
    threshold: f64,
    class: FailureClass,
) -> Rule {
    Rule {
        alert,
        feature,
        above,
        threshold,
        class,
    }
}

/// Rules on pods.
pub const POD_RULES: &[Rule] = &[
    rule(
        "ContainerMemoryNearLimit (working set above 90% of the limit)",
        "memory_limit_ratio.last",
        true,
        0.9,
        FailureClass::Oom,
    ),
    rule(
        "KubePodCrashLooping (more than 3 restarts in 10 minutes)",
        "restarts_10m.last",
        true,
        3.0,
        FailureClass::CrashLoop,
    ),
    rule(
        "CPUThrottlingHigh (more than 25% of periods throttled)",
        "cpu_throttled_ratio.last",
        true,
        0.25,
        FailureClass::CpuSaturation,
    ),
    rule(
        "ContainerCPUNearLimit (CPU above 90% of the limit)",
        "cpu_limit_ratio.last",
        true,
        0.9,
        FailureClass::CpuSaturation,
    ),
    rule(
        "NodeFilesystemAlmostFull (pod's node disk above 85%)",
        "node_fs_used_ratio.last",
        true,
        0.85,
        FailureClass::DiskPressure,
    ),
    rule(
        "ServiceErrorRateHigh (more than 5% of requests fail)",
        "service_error_ratio.last",
        true,
        0.05,
        FailureClass::DependencyFailure,
    ),
];

/// Rules on nodes.
pub const NODE_RULES: &[Rule] = &[
    rule(
        "NodeFilesystemAlmostFull (disk above 85%)",
        "fs_used_ratio.last",
        true,
        0.85,
        FailureClass::DiskPressure,
    ),
    rule(
        "NodeMemoryHighUtilization (less than 10% available)",
        "memory_available_ratio.last",
        false,
        0.1,
        FailureClass::Oom,
    ),
    rule(
        "NodeCPUHighUsage (CPU above 90% busy)",
        "cpu_busy_ratio.last",
        true,
        0.9,
        FailureClass::CpuSaturation,
    ),
    rule(
        "KubeNodeNotReady",
        "ready.last",
        false,
        1.0,
        FailureClass::NodeFailure,
    ),
];

/// Rules bound to the positions of their features in a row.
#[derive(Debug, Clone)]
pub struct RuleSet {
    bound: Vec<(usize, Rule)>,
}

impl RuleSet {
    /// Binds `rules` to `names`, the feature names of rows; rules whose feature is missing are
    /// left out.
    pub fn bind(rules: &[Rule], names: &[String]) -> Self {
        let bound = rules
            .iter()
            .filter_map(|r| names.iter().position(|n| n == r.feature).map(|i| (i, *r)))
            .collect();
        Self { bound }
    }

    /// The rules bound.
    pub fn len(&self) -> usize {
        self.bound.len()
    }

    /// Whether no rule could be bound.
    pub fn is_empty(&self) -> bool {
        self.bound.is_empty()
    }

    /// The class of the first rule that fires on `row`, if any.
    pub fn fire(&self, row: &[f64]) -> Option<FailureClass> {
        self.bound.iter().find_map(|(i, r)| {
            let v = row.get(*i).copied().unwrap_or(f64::NAN);
            let fires = if r.above {
                v > r.threshold
            } else {
                v < r.threshold
            };
            fires.then_some(r.class)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_on_their_features_and_ignore_missing_ones() {
        let names: Vec<String> = ["memory_limit_ratio.last", "restarts_10m.last", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rules = RuleSet::bind(POD_RULES, &names);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules.fire(&[0.5, 1.0, 9.0]), None);
        assert_eq!(rules.fire(&[0.95, 1.0, 9.0]), Some(FailureClass::Oom));
        assert_eq!(rules.fire(&[0.5, 4.0, 9.0]), Some(FailureClass::CrashLoop));
        assert_eq!(
            rules.fire(&[f64::NAN, 0.0, 9.0]),
            None,
            "missing never fires"
        );
        let nodes = RuleSet::bind(NODE_RULES, &["ready.last".to_string()]);
        assert_eq!(nodes.fire(&[0.0]), Some(FailureClass::NodeFailure));
        assert_eq!(nodes.fire(&[1.0]), None);
    }
}
