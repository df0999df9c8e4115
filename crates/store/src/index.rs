//! The series index: label sets interned and addressed by a dense [`SeriesRef`], found by
//! fingerprint, and selected through postings lists (one per label name and value) intersected
//! and then filtered by matchers, with Prometheus' rule that an absent label has the empty value.

mod symbols;

use std::collections::BTreeSet;

use foldhash::HashMap;

use kubepulse_model::{Label, Labels};
use xxhash_rust::xxh3::Xxh3;

use crate::Matcher;
pub use symbols::Symbols;

/// A series' id within this store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesRef(pub u32);

/// Fingerprint of a label set sorted by name.
pub fn fingerprint<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h = Xxh3::new();
    for (n, v) in labels {
        h.update(n.as_bytes());
        h.update(&[0xff]);
        h.update(v.as_bytes());
        h.update(&[0xfe]);
    }
    h.digest()
}

/// The index.
#[derive(Debug, Default)]
pub struct Index {
    syms: Symbols,
    /// Per series: interned (name, value) pairs, sorted by name.
    series: Vec<Box<[(u32, u32)]>>,
    by_hash: HashMap<u64, Vec<u32>>,
    postings: HashMap<(u32, u32), Vec<u32>>,
    values: HashMap<u32, BTreeSet<u32>>,
}

impl Index {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Number of interned strings.
    pub fn symbols(&self) -> usize {
        self.syms.len()
    }

    /// The series with exactly these labels (sorted by name, no empty values).
    pub fn get(&self, labels: &[(&str, &str)], hash: u64) -> Option<SeriesRef> {
        let refs = self.by_hash.get(&hash)?;
        refs.iter()
            .copied()
            .find(|&r| self.same(r, labels))
            .map(SeriesRef)
    }

    fn same(&self, r: u32, labels: &[(&str, &str)]) -> bool {
        let stored = &self.series[r as usize];
        stored.len() == labels.len()
            && stored.iter().zip(labels).all(|(&(n, v), (ln, lv))| {
                self.syms.resolve(n) == *ln && self.syms.resolve(v) == *lv
            })
    }

    /// Adds a series with these labels (sorted by name, no empty values) under the next ref.
    pub fn insert(&mut self, labels: &[(&str, &str)], hash: u64) -> SeriesRef {
        let r = self.series.len() as u32;
        let pairs: Box<[(u32, u32)]> = labels
            .iter()
            .map(|(n, v)| (self.syms.intern(n), self.syms.intern(v)))
            .collect();
        for &(n, v) in pairs.iter() {
            self.postings.entry((n, v)).or_default().push(r);
            self.values.entry(n).or_default().insert(v);
        }
        self.series.push(pairs);
        self.by_hash.entry(hash).or_default().push(r);
        SeriesRef(r)
    }

    /// The labels of a series.
    pub fn labels(&self, r: SeriesRef) -> Labels {
        let pairs = self.series.get(r.0 as usize).map(|p| &p[..]).unwrap_or(&[]);
        Labels::from_sorted(
            pairs
                .iter()
                .map(|&(n, v)| Label {
                    name: self.syms.resolve(n).to_string(),
                    value: self.syms.resolve(v).to_string(),
                })
                .collect(),
        )
    }

    /// The value of label `name` of series `r`, or "".
    pub fn value(&self, r: SeriesRef, name: &str) -> &str {
        let Some(n) = self.syms.get(name) else {
            return "";
        };
        self.series
            .get(r.0 as usize)
            .and_then(|p| p.iter().find(|(pn, _)| *pn == n))
            .map(|&(_, v)| self.syms.resolve(v))
            .unwrap_or("")
    }

    /// Series whose labels satisfy every matcher, in ref order.
    pub fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let mut candidates: Option<Vec<u32>> = None;
        for m in matchers.iter().filter(|m| !m.matches_empty()) {
            let list = self.postings_for(m);
            candidates = Some(match candidates {
                None => list,
                Some(c) => intersect(&c, &list),
            });
            if candidates.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let all = || (0..self.series.len() as u32).collect::<Vec<_>>();
        candidates
            .unwrap_or_else(all)
            .into_iter()
            .filter(|&r| {
                matchers
                    .iter()
                    .all(|m| m.matches(self.value(SeriesRef(r), &m.name)))
            })
            .map(SeriesRef)
            .collect()
    }

    /// Union of postings of the values of `m.name` that `m` matches.
    fn postings_for(&self, m: &Matcher) -> Vec<u32> {
        let Some(n) = self.syms.get(&m.name) else {
            return Vec::new();
        };
        let mut lists: Vec<&Vec<u32>> = Vec::new();
        match (m.op, m.set_values()) {
            (crate::MatchOp::Equal, _) => {
                if let Some(l) = self
                    .syms
                    .get(&m.value)
                    .and_then(|v| self.postings.get(&(n, v)))
                {
                    lists.push(l);
                }
            }
            (_, Some(set)) => {
                for value in set {
                    if let Some(l) = self
                        .syms
                        .get(value)
                        .and_then(|v| self.postings.get(&(n, v)))
                    {
                        lists.push(l);
                    }
                }
            }
            _ => {
                for &v in self.values.get(&n).into_iter().flatten() {
                    if m.matches(self.syms.resolve(v))
                        && let Some(l) = self.postings.get(&(n, v))
                    {
                        lists.push(l);
                    }
                }
            }
        }
        let mut out: Vec<u32> = lists.into_iter().flatten().copied().collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Label names used by `refs` (every series when `None`), sorted.
    pub fn label_names(&self, refs: Option<&[SeriesRef]>) -> Vec<String> {
        let mut names = BTreeSet::new();
        match refs {
            None => names.extend(self.values.keys().map(|&n| self.syms.resolve(n))),
            Some(refs) => {
                for r in refs {
                    if let Some(p) = self.series.get(r.0 as usize) {
                        names.extend(p.iter().map(|&(n, _)| self.syms.resolve(n)));
                    }
                }
            }
        }
        names.into_iter().map(str::to_string).collect()
    }

    /// Values of label `name` among `refs` (every series when `None`), sorted.
    pub fn label_values(&self, name: &str, refs: Option<&[SeriesRef]>) -> Vec<String> {
        let mut out = BTreeSet::new();
        match refs {
            None => {
                if let Some(n) = self.syms.get(name) {
                    out.extend(
                        self.values
                            .get(&n)
                            .into_iter()
                            .flatten()
                            .map(|&v| self.syms.resolve(v)),
                    );
                }
            }
            Some(refs) => {
                for r in refs {
                    let v = self.value(*r, name);
                    if !v.is_empty() {
                        out.insert(v);
                    }
                }
            }
        }
        out.into_iter().map(str::to_string).collect()
    }
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MatchOp;

    fn idx() -> Index {
        let mut i = Index::default();
        for l in [
            vec![("__name__", "up"), ("instance", "a"), ("job", "api")],
            vec![("__name__", "up"), ("instance", "b"), ("job", "web")],
            vec![("__name__", "up"), ("instance", "c")],
            vec![
                ("__name__", "http_requests_total"),
                ("code", "500"),
                ("job", "api"),
            ],
        ] {
            let h = fingerprint(l.iter().copied());
            i.insert(&l, h);
        }
        i
    }

    fn sel(i: &Index, ms: &[(MatchOp, &str, &str)]) -> Vec<u32> {
        let ms: Vec<Matcher> = ms
            .iter()
            .map(|(op, n, v)| Matcher::new(*op, *n, *v).unwrap())
            .collect();
        i.select(&ms).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn lookup_by_labels() {
        let i = idx();
        let l = [("__name__", "up"), ("instance", "b"), ("job", "web")];
        assert_eq!(
            i.get(&l, fingerprint(l.iter().copied())),
            Some(SeriesRef(1))
        );
        let l = [("__name__", "up"), ("instance", "z")];
        assert_eq!(i.get(&l, fingerprint(l.iter().copied())), None);
        assert_eq!(
            i.labels(SeriesRef(0)).to_string(),
            r#"up{instance="a", job="api"}"#
        );
    }

    #[test]
    fn selection_follows_prometheus() {
        use MatchOp::*;
        let i = idx();
        assert_eq!(sel(&i, &[(Equal, "__name__", "up")]), vec![0, 1, 2]);
        assert_eq!(
            sel(&i, &[(Equal, "__name__", "up"), (Equal, "job", "")]),
            vec![2]
        );
        assert_eq!(
            sel(&i, &[(Equal, "__name__", "up"), (NotEqual, "job", "api")]),
            vec![1, 2]
        );
        assert_eq!(
            sel(&i, &[(Equal, "__name__", "up"), (NotEqual, "job", "")]),
            vec![0, 1]
        );
        assert_eq!(sel(&i, &[(RegexMatch, "job", "api|web")]), vec![0, 1, 3]);
        assert_eq!(sel(&i, &[(RegexMatch, "job", "a.*")]), vec![0, 3]);
        assert_eq!(sel(&i, &[(RegexMatch, "job", ".*")]), vec![0, 1, 2, 3]);
        assert_eq!(sel(&i, &[(RegexNoMatch, "job", "api")]), vec![1, 2]);
        assert_eq!(sel(&i, &[(Equal, "__name__", "nope")]), Vec::<u32>::new());
        assert_eq!(
            i.label_names(None),
            vec!["__name__", "code", "instance", "job"]
        );
        assert_eq!(i.label_values("job", None), vec!["api", "web"]);
        assert_eq!(
            i.label_values("instance", Some(&[SeriesRef(1), SeriesRef(3)])),
            vec!["b"]
        );
    }
}
