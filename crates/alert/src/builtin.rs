//! The built-in rule pack for Kubernetes (`rules/kubernetes.yml`): crash loops, pods not ready,
//! containers waiting, OOM kills, throttling, replica mismatches, failed jobs, nodes not ready,
//! filesystems filling up, overcommit, targets down, and alerts from the failure model.

use crate::error::LoadErrors;
use crate::rulefile::{self, RuleGroup};

const PACK: &str = include_str!("../rules/kubernetes.yml");

/// The name the pack's groups carry as their file.
pub const FILE: &str = "<builtin>/kubernetes.yml";

/// What the predictive alert fires on while no probability threshold is set: the model's own
/// alarm (each failure type at its calibrated threshold, held until the score clears), with the
/// probability as the alert's value.
pub const MODEL_ALARM: &str = "kubepulse_failure_probability and on (namespace, pod, node, type) kubepulse_failure_alarm == 1";

/// The pack's text, the predictive alert firing at `prediction_threshold` (a failure
/// probability) when one is given and on the model's alarm otherwise.
pub fn text(prediction_threshold: Option<f64>) -> String {
    let expr = match prediction_threshold {
        Some(t) => format!(
            "kubepulse_failure_probability >= {}",
            kubepulse_model::gofloat::format_g(t)
        ),
        None => MODEL_ALARM.to_string(),
    };
    PACK.replace("PREDICTION_EXPR", &expr)
}

/// The pack's groups.
pub fn groups(prediction_threshold: Option<f64>) -> Result<Vec<RuleGroup>, LoadErrors> {
    rulefile::parse(FILE, &text(prediction_threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_loads_with_any_threshold() {
        for t in [0.5, 0.75, 0.999] {
            let g = groups(Some(t)).unwrap();
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
        let g = groups(None).unwrap();
        assert!(
            g.iter()
                .flat_map(|g| &g.rules)
                .any(|r| r.name() == "KubePulseFailurePredicted" && r.expr == MODEL_ALARM)
        );
    }

    #[test]
    fn the_predictive_alert_quotes_type_eta_explanation_and_recommendation() {
        use std::sync::Arc;

        use kubepulse_model::Labels;
        use kubepulse_query::{Engine, MemSource};

        use crate::group::{EvalContext, Group, Sink};

        let mut m = MemSource::new();
        let t = 1_800_000_000_000;
        let ids = [("namespace", "shop"), ("pod", "cart-1"), ("type", "oom")];
        let with = |name: &'static str, extra: &[(&'static str, &'static str)]| {
            let mut p = vec![("__name__", name)];
            p.extend(ids);
            p.extend_from_slice(extra);
            Labels::from_pairs(p).unwrap()
        };
        m.add(with("kubepulse_failure_probability", &[]), [(t, 0.82)]);
        m.add(with("kubepulse_failure_eta_seconds", &[]), [(t, 400.0)]);
        m.add(with("kubepulse_failure_alarm", &[]), [(t, 1.0)]);
        let info = [
            (
                "explanation",
                "working set grows 42 MiB/min and reaches the 512 MiB limit in about 6 min",
            ),
            ("recommendation", "raise the memory limit to 768Mi"),
        ];
        m.add(with("kubepulse_failure_info", &info), [(t, 1.0)]);
        struct Nowhere;
        impl Sink for Nowhere {
            fn write(&mut self, _: &[kubepulse_query::Sample]) -> Result<(), String> {
                Ok(())
            }
            fn notify(&mut self, _: &crate::Rule, _: Vec<crate::Alert>) {}
        }
        let def = groups(None)
            .unwrap()
            .into_iter()
            .find(|g| g.name == "kubepulse.predictions")
            .unwrap();
        let mut g = Group::new(def, 15_000);
        let engine = Engine::default();
        let none = Labels::empty();
        let ctx = EvalContext {
            engine: &engine,
            source: Arc::new(m),
            external_labels: &none,
            external_url: "",
            resend_delay: 60_000,
        };
        g.eval(t, &ctx, &mut Nowhere);
        let (_, a) = g.active_alerts().next().expect("the alert fires");
        assert_eq!(a.labels.get("severity"), Some("warning"));
        assert_eq!(a.labels.get("type"), Some("oom"));
        assert_eq!(
            a.annotations["summary"],
            "oom predicted for pod shop/cart-1 (probability 82%)"
        );
        assert_eq!(a.annotations["eta"], "6m 40s");
        assert!(a.annotations["explanation"].starts_with("working set grows 42 MiB/min"));
        assert_eq!(
            a.annotations["recommendation"],
            "raise the memory limit to 768Mi"
        );
    }
}
