//! What the live detector watches: the built-in signals (every series the failure features
//! use, every service's request rate, error ratio and latency) and the configured expressions.

use kubepulse_query::features::signals::{NODE_SIGNALS, POD_SIGNALS, Signal};
use kubepulse_query::parse::parse;

use crate::config::AnomalyConfig;

/// One watched expression.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The `signal` label of its scores.
    pub name: String,
    /// The expression (checked to parse).
    pub expr: String,
    /// Whether its series are counters (scored by their rate).
    pub counter: bool,
}

/// Signals not watched: states and counts (ready, waiting, pressure flags, restarts, ages) that
/// change by design and are reported as events already. Pods' copies of their node's and their
/// service's signals (`node_*`, `service_*`) are not watched either: the node and service
/// watches see those once.
const NOT_WATCHED: [&str; 13] = [
    "age_seconds",
    "revision_age_seconds",
    "exporter_down",
    "restarts",
    "restarts_10m",
    "waiting",
    "ready",
    "last_terminated_oom",
    "last_terminated_error",
    "crash_loop_back_off",
    "node_pressure",
    "memory_pressure",
    "disk_pressure",
];

/// Every service's request rate, error ratio and latency, from the applications' Prometheus
/// clients (`http_requests_total`, `http_request_duration_seconds`).
const SERVICE_SIGNALS: [(&str, &str); 3] = [
    (
        "service_request_rate",
        "sum by (namespace, service) (rate(http_requests_total[1m]))",
    ),
    (
        "service_error_ratio",
        r#"(sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[1m])) or sum by (namespace, service) (rate(http_requests_total[1m])) * 0) / sum by (namespace, service) (rate(http_requests_total[1m]))"#,
    ),
    (
        "service_latency_seconds",
        "sum by (namespace, service) (rate(http_request_duration_seconds_sum[1m])) / sum by (namespace, service) (rate(http_request_duration_seconds_count[1m]))",
    ),
];

/// The watches of a configuration.
pub fn watches(cfg: &AnomalyConfig) -> anyhow::Result<Vec<Watch>> {
    let mut out = Vec::new();
    let mut add = |name: &str, expr: &str, counter: bool| -> anyhow::Result<()> {
        parse(expr).map_err(|e| anyhow::anyhow!("{name}: {}", e.render(expr)))?;
        out.push(Watch {
            name: name.to_string(),
            expr: expr.to_string(),
            counter,
        });
        Ok(())
    };
    if cfg.builtin {
        let watched = |s: &&Signal| !s.context && !NOT_WATCHED.contains(&s.name);
        // Sizes (limits, capacities) are context, not behaviour.
        let own = |s: &&Signal| !s.name.starts_with("node_") && !s.name.starts_with("service_");
        for s in POD_SIGNALS.iter().filter(watched).filter(own) {
            add(s.name, s.expr, false)?;
        }
        // Node signals are named as such (`node_cpu_busy_ratio`), apart from pods' signals.
        for s in NODE_SIGNALS.iter().filter(watched) {
            let name = if s.name.starts_with("node_") {
                s.name.to_string()
            } else {
                format!("node_{}", s.name)
            };
            add(&name, s.expr, false)?;
        }
        for (name, expr) in SERVICE_SIGNALS {
            add(name, expr, false)?;
        }
    }
    for w in &cfg.watch {
        add(&w.name, &w.expr, w.is_counter())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_watches_parse_and_skip_context() -> anyhow::Result<()> {
        let w = watches(&AnomalyConfig::default())?;
        assert!(w.iter().any(|w| w.name == "memory_limit_ratio"));
        assert!(w.iter().any(|w| w.name == "service_error_ratio"));
        assert!(!w.iter().any(|w| w.name == "memory_limit_bytes"));
        // One watch per name, and every exclusion names a real signal.
        let names: std::collections::HashSet<&str> = w.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names.len(), w.len());
        for n in NOT_WATCHED {
            assert!(
                POD_SIGNALS.iter().chain(NODE_SIGNALS).any(|s| s.name == n),
                "{n} is not a signal"
            );
        }
        let off = AnomalyConfig {
            builtin: false,
            ..AnomalyConfig::default()
        };
        assert!(watches(&off)?.is_empty());
        Ok(())
    }
}
