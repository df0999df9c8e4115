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

/// `l` without the labels named in `names` and without `__name__`.
pub(crate) fn without_names(l: &Labels, names: &[String]) -> Labels {
    Labels::from_sorted(
        l.iter()
            .filter(|x| x.name != NAME && !names.contains(&x.name))
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
