//! Simulator settings.

use kubepulse_model::{DurationMs, parse_rfc3339};
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::faults::FaultKind;

/// Settings of one simulated cluster. Every field has a default; `validate` checks ranges and
/// names the offending key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of every random choice: the same seed and scenario give byte-identical output.
    pub seed: u64,
    /// Cluster name (the `cluster` label on everything the simulator emits).
    pub cluster: String,
    /// Number of worker nodes (1 to 5000).
    pub nodes: u32,
    /// Number of pods to aim for, DaemonSet pods included (at least 3 per node plus 20).
    pub pods: u32,
    /// Simulation step, which is also the scrape interval of the simulated exporters (1s to 5m).
    pub step: DurationMs,
    /// Start of simulated time for datasets (RFC 3339). The live demo starts at the current time.
    pub start: String,
    /// Random chaos: mean number of faults injected per hour (0 turns random chaos off).
    pub chaos_per_hour: f64,
    /// Fault kinds random chaos draws from; empty means all kinds.
    pub chaos_kinds: Vec<FaultKind>,
    /// Produce harmless look-alikes: caches that grow and plateau, load spikes that pass, disk use
    /// that grows and is rotated away, CPU-heavy batch jobs.
    pub lookalikes: bool,
    /// Routine rollouts (new image, pods replaced) per Deployment per day.
    pub rollouts_per_day: f64,
    /// Sampled traces per application per step.
    pub traces_per_step: f64,
    /// Multiplier on container log volume (0 turns container logs off).
    pub log_volume: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            cluster: "sim".into(),
            nodes: 6,
            pods: 120,
            step: DurationMs::secs(15),
            start: "2026-01-05T00:00:00Z".into(),
            chaos_per_hour: 1.0,
            chaos_kinds: Vec::new(),
            lookalikes: true,
            rollouts_per_day: 1.0,
            traces_per_step: 1.0,
            log_volume: 1.0,
        }
    }
}

impl SimConfig {
    /// Checks every setting; the error names the key at fault.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.cluster.is_empty()
            || !self
                .cluster
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(SimError::config(
                "cluster",
                "must be a non-empty name of letters, digits and '-'",
            ));
        }
        if !(1..=5000).contains(&self.nodes) {
            return Err(SimError::config(
                "nodes",
                format!("{} is outside 1..=5000", self.nodes),
            ));
        }
        let min_pods = self.nodes * 3 + 20;
        if self.pods < min_pods || self.pods > 200_000 {
            return Err(SimError::config(
                "pods",
                format!(
                    "{} is outside {min_pods}..=200000 (3 DaemonSet pods per node plus 20)",
                    self.pods
                ),
            ));
        }
        if !(1_000..=300_000).contains(&self.step.ms()) || self.step.ms() % 1000 != 0 {
            return Err(SimError::config(
                "step",
                format!("{} must be whole seconds between 1s and 5m", self.step),
            ));
        }
        if self.start_ms().is_none() {
            return Err(SimError::config(
                "start",
                format!("{:?} is not an RFC 3339 timestamp", self.start),
            ));
        }
        for (key, v, max) in [
            ("chaos_per_hour", self.chaos_per_hour, 120.0),
            ("rollouts_per_day", self.rollouts_per_day, 96.0),
            ("traces_per_step", self.traces_per_step, 100.0),
            ("log_volume", self.log_volume, 100.0),
        ] {
            if !v.is_finite() || v < 0.0 || v > max {
                return Err(SimError::config(key, format!("{v} is outside 0..={max}")));
            }
        }
        Ok(())
    }

    /// The start time in epoch milliseconds.
    pub fn start_ms(&self) -> Option<i64> {
        parse_rfc3339(&self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        SimConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let cases: Vec<(SimConfig, &str)> = vec![
            (
                SimConfig {
                    nodes: 0,
                    ..Default::default()
                },
                "nodes",
            ),
            (
                SimConfig {
                    pods: 10,
                    ..Default::default()
                },
                "pods",
            ),
            (
                SimConfig {
                    step: DurationMs(1500),
                    ..Default::default()
                },
                "step",
            ),
            (
                SimConfig {
                    start: "yesterday".into(),
                    ..Default::default()
                },
                "start",
            ),
            (
                SimConfig {
                    chaos_per_hour: f64::NAN,
                    ..Default::default()
                },
                "chaos_per_hour",
            ),
            (
                SimConfig {
                    log_volume: -1.0,
                    ..Default::default()
                },
                "log_volume",
            ),
            (
                SimConfig {
                    cluster: "a b".into(),
                    ..Default::default()
                },
                "cluster",
            ),
        ];
        for (cfg, key) in cases {
            match cfg.validate() {
                Err(SimError::Config { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }
}
