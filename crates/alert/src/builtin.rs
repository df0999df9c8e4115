//! The built-in rule pack for Kubernetes (`rules/kubernetes.yml`): crash loops, pods not ready,
//! containers waiting, OOM kills, throttling, replica mismatches, failed jobs, nodes not ready,
//! filesystems filling up, overcommit, targets down, and alerts from the failure model.

use crate::error::LoadErrors;
use crate::rulefile::{self, RuleGroup};

const PACK: &str = include_str!("../rules/kubernetes.yml");

/// The name the pack's groups carry as their file.
pub const FILE: &str = "<builtin>/kubernetes.yml";

/// The pack's text with the failure-probability threshold of the predictive alert.
pub fn text(prediction_threshold: f64) -> String {
    PACK.replace(
        "PREDICTION_THRESHOLD",
        &kubepulse_model::gofloat::format_g(prediction_threshold),
    )
}

/// The pack's groups.
pub fn groups(prediction_threshold: f64) -> Result<Vec<RuleGroup>, LoadErrors> {
    rulefile::parse(FILE, &text(prediction_threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_loads_with_any_threshold() {
        for t in [0.5, 0.75, 0.999] {
            let g = groups(t).unwrap();
            assert!(g.iter().map(|g| g.rules.len()).sum::<usize>() >= 15);
            let predictive = g
                .iter()
                .flat_map(|g| &g.rules)
                .find(|r| r.name() == "KubePulseFailurePredicted")
                .unwrap();
            assert!(
                predictive.expr.ends_with(&format!(">= {t}")),
                "{}",
                predictive.expr
            );
        }
    }
}
