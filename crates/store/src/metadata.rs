//! Metric metadata (type, help, unit) by metric family name, as the sources declare it. It is
//! kept in memory, like Prometheus' scrape-cache metadata: the sources declare it again after
//! a restart.

use std::collections::BTreeMap;
use std::sync::RwLock;

use kubepulse_model::MetricMeta;

/// Most distinct metadata entries kept per family.
const PER_FAMILY: usize = 8;
/// Most families kept.
const FAMILIES: usize = 200_000;

/// The registry.
#[derive(Debug, Default)]
pub struct Metadata {
    families: RwLock<BTreeMap<String, Vec<MetricMeta>>>,
}

impl Metadata {
    /// Records entries; an entry already known changes nothing.
    pub fn record(&self, entries: &[(String, MetricMeta)]) {
        let known = |f: &BTreeMap<String, Vec<MetricMeta>>| {
            entries
                .iter()
                .all(|(n, m)| f.get(n).is_some_and(|v| v.contains(m)))
        };
        if self.families.read().map(|f| known(&f)).unwrap_or(true) {
            return;
        }
        let Ok(mut f) = self.families.write() else {
            return;
        };
        for (name, meta) in entries {
            if name.is_empty() || (!f.contains_key(name) && f.len() >= FAMILIES) {
                continue;
            }
            let v = f.entry(name.clone()).or_default();
            if !v.contains(meta) && v.len() < PER_FAMILY {
                v.push(meta.clone());
            }
        }
    }

    /// Every family and its entries, by name.
    pub fn all(&self) -> BTreeMap<String, Vec<MetricMeta>> {
        self.families.read().map(|f| f.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::MetricType;

    #[test]
    fn records_distinct_entries() {
        let m = Metadata::default();
        let c = MetricMeta {
            kind: MetricType::Counter,
            help: "Requests.".into(),
            unit: String::new(),
        };
        m.record(&[("a_total".into(), c.clone()), ("a_total".into(), c.clone())]);
        m.record(&[("".into(), c.clone())]);
        assert_eq!(m.all().len(), 1);
        assert_eq!(m.all()["a_total"], vec![c]);
    }
}
