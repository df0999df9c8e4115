//! Recording rules: the expression's samples stored under a new metric name with the rule's
//! labels.

use std::collections::HashSet;

use kubepulse_model::METRIC_NAME;
use kubepulse_query::{QueryValue, Sample};

use crate::error::AlertError;

/// The samples of a rule's result: a vector as it is, a scalar as one sample without labels.
pub fn vector(result: QueryValue, t: i64) -> Result<Vec<Sample>, AlertError> {
    match result {
        QueryValue::Vector(v) => Ok(v),
        QueryValue::Scalar(_, v) => Ok(vec![Sample {
            labels: kubepulse_model::Labels::empty(),
            t,
            v,
        }]),
        _ => Err(AlertError::Eval(
            "rule result is not a vector or scalar".into(),
        )),
    }
}

/// Evaluates a recording rule named `record` with `labels` over `result` at `t`.
pub fn eval(
    record: &str,
    labels: &std::collections::BTreeMap<String, String>,
    result: QueryValue,
    t: i64,
    limit: usize,
) -> Result<Vec<Sample>, AlertError> {
    let mut out = vector(result, t)?;
    let mut seen = HashSet::with_capacity(out.len());
    for s in &mut out {
        let mut b = s.labels.to_builder();
        b.set(METRIC_NAME, record);
        for (k, v) in labels {
            b.set(k.clone(), v.clone());
        }
        s.labels = b.build();
        s.t = t;
        if !seen.insert(s.labels.fingerprint()) {
            return Err(AlertError::Eval(
                "vector contains metrics with the same labelset after applying rule labels".into(),
            ));
        }
    }
    if limit > 0 && out.len() > limit {
        return Err(AlertError::Eval(format!(
            "exceeded limit of {limit} with {} series",
            out.len()
        )));
    }
    Ok(out)
}
