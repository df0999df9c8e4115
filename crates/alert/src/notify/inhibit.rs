//! Inhibition: a firing alert matching a rule's source mutes the alerts matching its target
//! when the `equal` labels agree; an alert that matches both sides does not mute itself.

use kubepulse_model::Labels;

use super::config::{InhibitConfig, legacy};
use super::matchers::{self, Matchers};

/// One rule, compiled.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    source: Matchers,
    target: Matchers,
    equal: Vec<String>,
}

impl InhibitRule {
    /// From its configuration (validated beforehand).
    pub fn new(c: &InhibitConfig) -> Result<Self, String> {
        let mut source = matchers::parse_all(&c.source_matchers)?;
        source.extend(legacy(&c.source_match, &c.source_match_re)?);
        let mut target = matchers::parse_all(&c.target_matchers)?;
        target.extend(legacy(&c.target_match, &c.target_match_re)?);
        Ok(Self {
            source,
            target,
            equal: c.equal.clone(),
        })
    }
}

/// Fingerprints of the firing alerts that inhibit `target`, given every firing alert.
pub fn inhibitors<'a>(
    rules: &[InhibitRule],
    target: &Labels,
    firing: impl Iterator<Item = (u64, &'a Labels)> + Clone,
) -> Vec<u64> {
    let mut out = Vec::new();
    for r in rules {
        if !matchers::matches(&r.target, target) {
            continue;
        }
        for (fp, src) in firing.clone() {
            if src == target && matchers::matches(&r.source, target) {
                continue;
            }
            if matchers::matches(&r.source, src)
                && r.equal.iter().all(|l| src.get(l) == target.get(l))
            {
                out.push(fp);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_mutes_warning_of_the_same_service_only() {
        let c: InhibitConfig = serde_saphyr::from_str(
            "source_matchers: ['severity=\"critical\"']\ntarget_matchers: ['severity=\"warning\"']\nequal: [service]\n",
        )
        .unwrap();
        let rules = vec![InhibitRule::new(&c).unwrap()];
        let l =
            |s: &str, svc: &str| Labels::from_pairs([("severity", s), ("service", svc)]).unwrap();
        let crit = l("critical", "db");
        let firing = [(1u64, &crit)];
        assert_eq!(
            inhibitors(
                &rules,
                &l("warning", "db"),
                firing.iter().map(|(f, l)| (*f, *l))
            ),
            vec![1]
        );
        assert!(
            inhibitors(
                &rules,
                &l("warning", "web"),
                firing.iter().map(|(f, l)| (*f, *l))
            )
            .is_empty()
        );
        assert!(
            inhibitors(
                &rules,
                &l("critical", "db"),
                firing.iter().map(|(f, l)| (*f, *l))
            )
            .is_empty()
        );
    }
}
