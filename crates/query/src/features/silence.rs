//! Whether a node is down, read from the node's feature row: how long its node-exporter has
//! been silent (the failed scrapes of the short window: the share of its points on which
//! `exporter_down` is 1, times the points present, times the step, while the newest scrape
//! failed), or whether its Ready condition is no longer true. A node that crashes is detected
//! from these, not predicted: the silence shows it within two scrapes, NotReady (the node
//! controller's verdict, 40 s after the kubelet's last heartbeat) holds it down after its
//! exporter's target is gone and its `up` no longer answers.

use super::{FeatureSpec, short_len, signals::EXPORTER_DOWN};

/// Why a node is down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Down {
    /// Its node-exporter has been silent this many seconds.
    Silent(f64),
    /// Its Ready condition is false or unknown.
    NotReady,
}

/// A node whose node-exporter has been silent longer than this many scrape steps (its scrape
/// failed twice in a row) is down.
const SILENT_STEPS: f64 = 1.5;

/// Seconds of silence after which a node scraped every `step_ms` is down.
pub fn down_after_secs(step_ms: i64) -> f64 {
    SILENT_STEPS * step_ms as f64 / 1000.0
}

/// Where a feature row keeps what [`Silence::seconds`] reads.
#[derive(Debug, Clone, Copy)]
pub struct Silence {
    last: usize,
    mean: usize,
    missing: usize,
    ready: usize,
    points: f64,
    step_secs: f64,
    silent_after: f64,
}

impl Silence {
    /// Reads rows of features `names` computed with `spec`; `None` when they have no
    /// `exporter_down` signal.
    pub fn new(names: &[String], spec: &FeatureSpec) -> Option<Self> {
        let at = |stat: &str| {
            let name = format!("{EXPORTER_DOWN}.{stat}");
            names.iter().position(|n| *n == name)
        };
        Some(Self {
            last: at("last")?,
            mean: at("mean")?,
            missing: at("missing")?,
            ready: names.iter().position(|n| n == "ready.last")?,
            points: short_len(*spec) as f64,
            step_secs: spec.step as f64 / 1000.0,
            silent_after: down_after_secs(spec.step),
        })
    }

    /// Seconds the exporter has been silent: 0 while its newest scrape succeeded, or when the
    /// row says nothing of it.
    pub fn seconds(&self, values: &[f64]) -> f64 {
        let get = |i: usize| values.get(i).copied().filter(|v| v.is_finite());
        match (get(self.last), get(self.mean), get(self.missing)) {
            (Some(last), Some(mean), Some(missing)) if last >= 1.0 => {
                (mean * (1.0 - missing) * self.points).round() * self.step_secs
            }
            _ => 0.0,
        }
    }

    /// Whether the node is down: its exporter silent longer than [`down_after_secs`], or its
    /// Ready condition not true on the newest point.
    pub fn down(&self, values: &[f64]) -> Option<Down> {
        let silent = self.seconds(values);
        if silent > self.silent_after {
            return Some(Down::Silent(silent));
        }
        let ready = values.get(self.ready).copied().filter(|v| v.is_finite());
        ready.is_some_and(|r| r < 0.5).then_some(Down::NotReady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{ObjectKind, feature_names, window::stats};

    /// A node row whose `exporter_down` window is `points`, everything else missing.
    fn row(points: &[f64]) -> (Vec<String>, Vec<f64>) {
        let names = feature_names(ObjectKind::Node);
        let mut values = vec![f64::NAN; names.len()];
        let s = stats(points, 15.0);
        for (stat, v) in ["last", "mean", "missing"]
            .iter()
            .zip([s.last, s.mean, s.missing])
        {
            let name = format!("{EXPORTER_DOWN}.{stat}");
            if let Some(i) = names.iter().position(|n| *n == name) {
                values[i] = v;
            }
        }
        (names, values)
    }

    #[test]
    fn counts_the_failed_scrapes_while_the_newest_failed() {
        let spec = FeatureSpec::default();
        let mut window = vec![0.0; 13];
        let (names, up) = row(&window);
        let Some(silence) = Silence::new(&names, &spec) else {
            panic!("node rows carry exporter_down");
        };
        assert_eq!(silence.seconds(&up), 0.0);
        window[11] = 1.0;
        window[12] = 1.0;
        assert_eq!(silence.seconds(&row(&window).1), 30.0);
        window[0] = f64::NAN;
        assert_eq!(
            silence.seconds(&row(&window).1),
            30.0,
            "a missing point is not a failure"
        );
        window[12] = 0.0;
        assert_eq!(silence.seconds(&row(&window).1), 0.0, "it answers again");
        let (_, empty) = row(&[f64::NAN; 13]);
        assert_eq!(silence.seconds(&empty), 0.0);
        assert!(Silence::new(&feature_names(ObjectKind::Pod), &spec).is_none());
    }

    #[test]
    fn a_node_is_down_while_silent_or_not_ready() {
        let spec = FeatureSpec::default();
        let mut window = vec![0.0; 13];
        let (names, mut values) = row(&window);
        let Some(silence) = Silence::new(&names, &spec) else {
            panic!("node rows carry exporter_down and ready");
        };
        let Some(ready) = names.iter().position(|n| n == "ready.last") else {
            panic!("node rows carry ready");
        };
        assert_eq!(silence.down(&values), None, "nothing says it is down");
        values[ready] = 1.0;
        assert_eq!(silence.down(&values), None);
        window[12] = 1.0;
        let (_, mut once) = row(&window);
        once[ready] = 1.0;
        assert_eq!(silence.down(&once), None, "one failed scrape is not enough");
        window[11] = 1.0;
        let (_, mut twice) = row(&window);
        twice[ready] = 1.0;
        assert_eq!(silence.down(&twice), Some(Down::Silent(30.0)));
        // The exporter's target is gone (its `up` no longer answers); the node is NotReady.
        let (_, mut gone) = row(&[f64::NAN; 13]);
        gone[ready] = 0.0;
        assert_eq!(silence.down(&gone), Some(Down::NotReady));
        twice[ready] = 0.0;
        assert_eq!(
            silence.down(&twice),
            Some(Down::Silent(30.0)),
            "the silence says since when"
        );
    }
}
