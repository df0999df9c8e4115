//! Label sets: the identity of a time series, kept sorted by name as Prometheus does.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The reserved label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label: a name and a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value; an empty value is the same as an absent label.
    pub value: String,
}

/// A set of labels sorted by name, with unique names and no empty values. Immutable and
/// shared: a clone (every selected series, every result that keeps its input's labels) is a
/// reference count, not a copy of the strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Arc<[Label]>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds a label set from pairs; sorts them, drops empty values, rejects duplicates.
    pub fn from_pairs<N, V, I>(pairs: I) -> Result<Self, ModelError>
    where
        N: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (N, V)>,
    {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .map(|(n, val)| Label {
                name: n.into(),
                value: val.into(),
            })
            .filter(|l| !l.value.is_empty())
            .collect();
        v.sort();
        for w in v.windows(2) {
            if w[0].name == w[1].name {
                return Err(ModelError::DuplicateLabel(w[0].name.clone()));
            }
        }
        Ok(Self(v.into()))
    }

    /// Builds a label set from labels already sorted by name with unique names. Callers that
    /// cannot guarantee this use [`Labels::from_pairs`].
    pub fn from_sorted(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        Self(labels.into())
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name, if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels as a slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// A builder starting from these labels.
    pub fn to_builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self
                .0
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
        }
    }

    /// Checks names against Prometheus' rules: label names `[a-zA-Z_][a-zA-Z0-9_]*`, and the
    /// metric name, when present, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub fn validate(&self) -> Result<(), ModelError> {
        for l in self.0.iter() {
            if l.name == METRIC_NAME {
                if !is_valid_metric_name(&l.value) {
                    return Err(ModelError::InvalidMetricName(l.value.clone()));
                }
            } else if !is_valid_label_name(&l.name) {
                return Err(ModelError::InvalidLabelName(l.name.clone()));
            }
        }
        Ok(())
    }

    /// A stable 64-bit fingerprint (FNV-1a over names and values), equal across processes.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for l in self.0.iter() {
            for b in l
                .name
                .bytes()
                .chain([0xff])
                .chain(l.value.bytes())
                .chain([0xfe])
            {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

/// True when `name` is a valid Prometheus label name.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when `name` is a valid Prometheus metric name.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Writes `s` with Prometheus' label-value escaping (backslash, double quote, newline).
pub fn escape_label_value(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

impl fmt::Display for Labels {
    /// Prometheus notation: `name{a="b", c="d"}`, `name` alone, or `{}` for no labels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        if let Some(n) = self.metric_name() {
            s.push_str(n);
            if self.0.len() == 1 {
                return f.write_str(&s);
            }
        }
        s.push('{');
        let mut first = true;
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                s.push_str(", ");
            }
            first = false;
            s.push_str(&l.name);
            s.push_str("=\"");
            escape_label_value(&l.value, &mut s);
            s.push('"');
        }
        s.push('}');
        f.write_str(&s)
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            m.serialize_entry(&l.name, &l.value)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, String>::deserialize(de)?;
        Labels::from_pairs(m).map_err(serde::de::Error::custom)
    }
}

/// Builds a label set by setting and removing labels.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: BTreeMap<String, String>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (an empty value removes it).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (n, v) = (name.into(), value.into());
        if v.is_empty() {
            self.labels.remove(&n);
        } else {
            self.labels.insert(n, v);
        }
        self
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.labels.remove(name);
        self
    }

    /// The finished label set.
    pub fn build(&self) -> Labels {
        Labels(
            self.labels
                .iter()
                .map(|(n, v)| Label {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect::<Vec<_>>()
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sorted_and_deduplicated() {
        let l =
            Labels::from_pairs([("b", "2"), ("a", "1"), ("__name__", "up"), ("e", "")]).unwrap();
        assert_eq!(l.to_string(), r#"up{a="1", b="2"}"#);
        assert_eq!(l.len(), 3);
        assert_eq!(l.get("a"), Some("1"));
        assert_eq!(l.get("e"), None);
        assert!(matches!(
            Labels::from_pairs([("a", "1"), ("a", "2")]),
            Err(ModelError::DuplicateLabel(n)) if n == "a"
        ));
    }

    #[test]
    fn validation_follows_prometheus() {
        assert!(
            Labels::from_pairs([("__name__", "a:b_c")])
                .unwrap()
                .validate()
                .is_ok()
        );
        assert!(
            Labels::from_pairs([("__name__", "1a")])
                .unwrap()
                .validate()
                .is_err()
        );
        assert!(
            Labels::from_pairs([("a-b", "x")])
                .unwrap()
                .validate()
                .is_err()
        );
        assert!(
            Labels::from_pairs([("a:b", "x")])
                .unwrap()
                .validate()
                .is_err()
        );
    }

    #[test]
    fn escaping() {
        let l = Labels::from_pairs([("a", "x\"y\\z\nw")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="x\"y\\z\nw"}"#);
    }

    proptest! {
        #[test]
        fn json_round_trip(pairs in proptest::collection::btree_map("[a-z_][a-z0-9_]{0,8}", ".{1,12}", 0..8)) {
            let l = Labels::from_pairs(pairs.clone()).unwrap();
            let s = serde_json::to_string(&l).unwrap();
            let back: Labels = serde_json::from_str(&s).unwrap();
            prop_assert_eq!(&back, &l);
            prop_assert_eq!(back.fingerprint(), l.fingerprint());
        }
    }
}
