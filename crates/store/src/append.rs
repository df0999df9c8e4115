//! Validation of incoming series: label names and values as Prometheus accepts them, within the
//! configured limits, sorted and free of duplicates and empty values.

use kubepulse_model::labels::{is_valid_label_name, is_valid_metric_name};
use thiserror::Error;

use crate::StoreConfig;

/// Why a series was refused. Each variant is a counted rejection reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidSeries {
    /// No `__name__` label.
    #[error("missing metric name")]
    MissingName,
    /// `__name__` is not a valid metric name.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
    /// A label name is not valid.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// The same label name appears twice.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// A label name or value is longer than allowed.
    #[error("label {name:?} is {len} bytes long, more than {limit}")]
    TooLong {
        /// The label (name truncated to 64 bytes).
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// More labels than allowed.
    #[error("{0} labels, more than {1}")]
    TooManyLabels(usize, usize),
}

impl InvalidSeries {
    /// The rejection reason as a metric label value.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingName => "missing_metric_name",
            Self::InvalidMetricName(_) => "invalid_metric_name",
            Self::InvalidLabelName(_) => "invalid_label_name",
            Self::DuplicateLabel(_) => "duplicate_label",
            Self::TooLong { .. } => "label_too_long",
            Self::TooManyLabels(..) => "too_many_labels",
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Checks `labels` against `cfg`, borrowing them when they are already sorted by name without
/// empty values (the common case: remote_write senders sort), copying and sorting otherwise.
pub fn normalized<'a>(
    labels: &'a [(&'a str, &'a str)],
    cfg: &StoreConfig,
) -> Result<std::borrow::Cow<'a, [(&'a str, &'a str)]>, InvalidSeries> {
    let tidy =
        labels.windows(2).all(|w| w[0].0 < w[1].0) && labels.iter().all(|(_, v)| !v.is_empty());
    if tidy {
        check(labels, cfg)?;
        return Ok(std::borrow::Cow::Borrowed(labels));
    }
    let mut owned = labels.to_vec();
    normalize(&mut owned, cfg)?;
    Ok(std::borrow::Cow::Owned(owned))
}

fn check(labels: &[(&str, &str)], cfg: &StoreConfig) -> Result<(), InvalidSeries> {
    if labels.len() > cfg.max_labels {
        return Err(InvalidSeries::TooManyLabels(labels.len(), cfg.max_labels));
    }
    let mut name = None;
    for (i, (n, v)) in labels.iter().enumerate() {
        if n.len() > cfg.max_label_name_bytes {
            return Err(InvalidSeries::TooLong {
                name: clip(n),
                len: n.len(),
                limit: cfg.max_label_name_bytes,
            });
        }
        if v.len() > cfg.max_label_value_bytes {
            return Err(InvalidSeries::TooLong {
                name: clip(n),
                len: v.len(),
                limit: cfg.max_label_value_bytes,
            });
        }
        if i > 0 && labels[i - 1].0 == *n {
            return Err(InvalidSeries::DuplicateLabel(clip(n)));
        }
        if *n == "__name__" {
            name = Some(*v);
        } else if !is_valid_label_name(n) {
            return Err(InvalidSeries::InvalidLabelName(clip(n)));
        }
    }
    match name {
        None => Err(InvalidSeries::MissingName),
        Some(n) if !is_valid_metric_name(n) => Err(InvalidSeries::InvalidMetricName(clip(n))),
        Some(_) => Ok(()),
    }
}

/// Sorts `labels` by name, drops empty values, and checks them against `cfg`.
pub fn normalize(labels: &mut Vec<(&str, &str)>, cfg: &StoreConfig) -> Result<(), InvalidSeries> {
    labels.retain(|(_, v)| !v.is_empty());
    if labels.len() > cfg.max_labels {
        return Err(InvalidSeries::TooManyLabels(labels.len(), cfg.max_labels));
    }
    labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
    check(labels, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses() {
        let cfg = StoreConfig::default();
        let mut l = vec![("job", "a"), ("__name__", "up"), ("empty", "")];
        normalize(&mut l, &cfg).unwrap();
        assert_eq!(l, vec![("__name__", "up"), ("job", "a")]);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("job", "a")], "missing_metric_name"),
            (vec![("__name__", "1up")], "invalid_metric_name"),
            (vec![("__name__", "up"), ("a-b", "x")], "invalid_label_name"),
            (vec![("__name__", "up"), ("", "x")], "invalid_label_name"),
            (
                vec![("__name__", "up"), ("a", "x"), ("a", "y")],
                "duplicate_label",
            ),
        ];
        for (mut l, reason) in cases {
            assert_eq!(normalize(&mut l, &cfg).unwrap_err().reason(), reason);
        }
        let long = "x".repeat(1_000_000);
        let mut l = vec![("__name__", "up"), ("a", long.as_str())];
        assert_eq!(
            normalize(&mut l, &cfg).unwrap_err().reason(),
            "label_too_long"
        );
    }
}
