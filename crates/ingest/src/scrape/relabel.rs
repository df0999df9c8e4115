//! Relabeling as Prometheus does it (`relabel_configs`, `metric_relabel_configs`): `replace`,
//! `keep`, `drop`, `labelmap`, `labeldrop`, `labelkeep`, `lowercase`, `uppercase`, `hashmod`,
//! `keepequal`, `dropequal`; regular expressions fully anchored.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A relabeling action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Set `target_label` to `replacement` when `regex` matches the source value.
    #[default]
    Replace,
    /// Keep only when `regex` matches.
    Keep,
    /// Drop when `regex` matches.
    Drop,
    /// Copy labels whose names match `regex` to names given by `replacement`.
    Labelmap,
    /// Remove labels whose names match `regex`.
    Labeldrop,
    /// Remove labels whose names do not match `regex`.
    Labelkeep,
    /// Set `target_label` to the lowercased source value.
    Lowercase,
    /// Set `target_label` to the uppercased source value.
    Uppercase,
    /// Set `target_label` to a hash of the source value modulo `modulus`.
    Hashmod,
    /// Keep when the source value equals `target_label`'s value.
    Keepequal,
    /// Drop when the source value equals `target_label`'s value.
    Dropequal,
}

/// One relabeling step as written in configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined to form the source value.
    pub source_labels: Vec<String>,
    /// Separator of joined source values.
    pub separator: String,
    /// Regular expression (anchored at both ends).
    pub regex: String,
    /// Label written by `replace`, `lowercase`, `uppercase`, `hashmod`.
    pub target_label: String,
    /// Replacement, with `$1`, `${1}` or `${name}` references to capture groups.
    pub replacement: String,
    /// Modulus of `hashmod`.
    pub modulus: u64,
    /// The action.
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        Self {
            source_labels: Vec::new(),
            separator: ";".into(),
            regex: "(.*)".into(),
            target_label: String::new(),
            replacement: "$1".into(),
            modulus: 0,
            action: Action::Replace,
        }
    }
}

/// A compiled relabeling step.
#[derive(Debug, Clone)]
pub struct Relabel {
    cfg: RelabelConfig,
    re: Regex,
}

impl Relabel {
    /// Compiles a step, checking what its action needs.
    pub fn new(cfg: RelabelConfig) -> Result<Self, String> {
        let re = Regex::new(&format!("^(?s:{})$", cfg.regex))
            .map_err(|e| format!("invalid regex {:?}: {e}", cfg.regex))?;
        let needs_target = matches!(
            cfg.action,
            Action::Replace
                | Action::Lowercase
                | Action::Uppercase
                | Action::Hashmod
                | Action::Keepequal
                | Action::Dropequal
        );
        if needs_target && cfg.target_label.is_empty() {
            return Err(format!("action {:?} needs target_label", cfg.action).to_lowercase());
        }
        if cfg.action == Action::Hashmod && cfg.modulus == 0 {
            return Err("action hashmod needs a modulus above 0".into());
        }
        Ok(Self { cfg, re })
    }

    /// Applies the step; `false` means the target or series is dropped.
    pub fn apply(&self, labels: &mut BTreeMap<String, String>) -> bool {
        let c = &self.cfg;
        let value = c
            .source_labels
            .iter()
            .map(|n| labels.get(n).map(String::as_str).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&c.separator);
        match c.action {
            Action::Keep => return self.re.is_match(&value),
            Action::Drop => return !self.re.is_match(&value),
            Action::Keepequal => {
                return labels
                    .get(&c.target_label)
                    .map(String::as_str)
                    .unwrap_or("")
                    == value;
            }
            Action::Dropequal => {
                return labels
                    .get(&c.target_label)
                    .map(String::as_str)
                    .unwrap_or("")
                    != value;
            }
            Action::Replace => {
                if let Some(caps) = self.re.captures(&value) {
                    let mut target = String::new();
                    caps.expand(&c.target_label, &mut target);
                    let mut v = String::new();
                    caps.expand(&c.replacement, &mut v);
                    if v.is_empty() {
                        labels.remove(&target);
                    } else if kubepulse_model::labels::is_valid_label_name(&target) {
                        labels.insert(target, v);
                    }
                }
            }
            Action::Lowercase => {
                labels.insert(c.target_label.clone(), value.to_lowercase());
            }
            Action::Uppercase => {
                labels.insert(c.target_label.clone(), value.to_uppercase());
            }
            Action::Hashmod => {
                let digest = md5::compute(value.as_bytes());
                let h = u64::from_be_bytes(digest.0[8..16].try_into().unwrap_or([0; 8]));
                labels.insert(c.target_label.clone(), (h % c.modulus).to_string());
            }
            Action::Labelmap => {
                let add: Vec<(String, String)> = labels
                    .iter()
                    .filter_map(|(n, v)| {
                        self.re.captures(n).map(|caps| {
                            let mut name = String::new();
                            caps.expand(&c.replacement, &mut name);
                            (name, v.clone())
                        })
                    })
                    .collect();
                labels.extend(add);
            }
            Action::Labeldrop => labels.retain(|n, _| !self.re.is_match(n)),
            Action::Labelkeep => labels.retain(|n, _| self.re.is_match(n)),
        }
        true
    }
}

/// Applies steps in order; `false` when one of them drops.
pub fn apply_all(steps: &[Relabel], labels: &mut BTreeMap<String, String>) -> bool {
    steps.iter().all(|s| s.apply(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn step(yaml: &str) -> Relabel {
        Relabel::new(serde_saphyr::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn actions_behave_like_prometheus() {
        let mut l = labels(&[
            ("__address__", "10.0.0.1:9100"),
            ("__meta_kubernetes_pod_label_app", "web"),
            ("job", "node"),
        ]);
        assert!(
            step("source_labels: [__address__]\nregex: '(.*):\\d+'\ntarget_label: host\n")
                .apply(&mut l)
        );
        assert_eq!(l["host"], "10.0.0.1");
        assert!(step("action: labelmap\nregex: __meta_kubernetes_pod_label_(.+)\n").apply(&mut l));
        assert_eq!(l["app"], "web");
        assert!(step("action: keep\nsource_labels: [job]\nregex: node|api\n").apply(&mut l));
        assert!(!step("action: drop\nsource_labels: [job]\nregex: node\n").apply(&mut l));
        assert!(
            !step("action: keep\nsource_labels: [job]\nregex: nod\n").apply(&mut l),
            "regexes are anchored"
        );
        assert!(step("action: labeldrop\nregex: __meta_.*\n").apply(&mut l));
        assert!(!l.contains_key("__meta_kubernetes_pod_label_app"));
        assert!(
            step("source_labels: [missing]\nregex: ''\ntarget_label: job\nreplacement: ''\n")
                .apply(&mut l)
        );
        assert!(
            !l.contains_key("job"),
            "an empty replacement removes the label"
        );
        assert!(
            step("action: hashmod\nsource_labels: [host]\nmodulus: 4\ntarget_label: shard\n")
                .apply(&mut l)
        );
        assert!(l["shard"].parse::<u64>().unwrap() < 4);
        assert!(Relabel::new(serde_saphyr::from_str("action: replace\n").unwrap()).is_err());
        assert!(
            Relabel::new(serde_saphyr::from_str("regex: '('\ntarget_label: x\n").unwrap()).is_err()
        );
    }
}
