//! Label-set operations the evaluator needs: dropping the metric name, keeping or removing a
//! list of labels, setting one.

use kubepulse_model::{Label, Labels};

/// The metric name label.
pub(crate) const NAME: &str = "__name__";

/// `l` without `__name__`.
pub(crate) fn without_name(l: &Labels) -> Labels {
    if l.get(NAME).is_none() {
        return l.clone();
    }
    Labels::from_sorted(l.iter().filter(|x| x.name != NAME).cloned().collect())
}

/// Only the labels of `l` named in `names`.
pub(crate) fn keep_only(l: &Labels, names: &[String]) -> Labels {
    Labels::from_sorted(
        l.iter()
            .filter(|x| names.contains(&x.name))
            .cloned()
            .collect(),
    )
}

/// `l` with label `name` set to `value` (removed when `value` is empty).
pub(crate) fn with_label(l: &Labels, name: &str, value: &str) -> Labels {
    let mut v: Vec<Label> = l.iter().filter(|x| x.name != name).cloned().collect();
    if !value.is_empty() {
        let at = v.partition_point(|x| x.name.as_str() < name);
        v.insert(
            at,
            Label {
                name: name.to_string(),
                value: value.to_string(),
            },
        );
    }
    Labels::from_sorted(v)
}

/// Which labels of a series a subset keeps: those named in a list (`by`, `on`), or all but
/// those and `__name__` (`without`, `ignoring`, and plain matching).
#[derive(Debug, Clone)]
pub(crate) struct Subset {
    /// True: keep only `names`; false: drop `names` and `__name__`.
    pub only: bool,
    /// The names listed.
    pub names: Vec<String>,
}

impl Subset {
    fn keeps(&self, name: &str) -> bool {
        let listed = self.names.iter().any(|n| n == name);
        if self.only {
            listed
        } else {
            !listed && name != NAME
        }
    }

    /// The labels of `l` this subset keeps.
    pub fn of(&self, l: &Labels) -> Labels {
        Labels::from_sorted(l.iter().filter(|x| self.keeps(&x.name)).cloned().collect())
    }
}

/// Dense ids of label subsets, found without building a label set for a subset already seen
/// (a hash of the kept labels, then a comparison with the subsets under that hash).
#[derive(Debug, Default)]
pub(crate) struct Subsets {
    by_hash: foldhash::HashMap<u64, Vec<usize>>,
    /// The subsets, by id.
    pub labels: Vec<Labels>,
}

impl Subsets {
    /// The id of the subset of `l` that `s` keeps, new ones numbered in order of appearance.
    pub fn id(&mut self, s: &Subset, l: &Labels) -> usize {
        use std::hash::{BuildHasher, Hasher};
        let kept = || l.iter().filter(|x| s.keeps(&x.name));
        let mut h = foldhash::fast::FixedState::default().build_hasher();
        for x in kept() {
            h.write(x.name.as_bytes());
            h.write_u8(0xff);
            h.write(x.value.as_bytes());
            h.write_u8(0xfe);
        }
        let ids = self.by_hash.entry(h.finish()).or_default();
        if let Some(&i) = ids.iter().find(|&&i| self.labels[i].iter().eq(kept())) {
            return i;
        }
        let i = self.labels.len();
        ids.push(i);
        self.labels.push(s.of(l));
        i
    }

    /// How many subsets there are.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
}
