//! Feature binning: each feature's values are cut at quantiles into at most 255 bins, bin 0
//! holding missing values, so that trees split on small integers and training reads each
//! value as one byte.

use serde::{Deserialize, Serialize};

use super::Value;

/// Cut points per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binner {
    /// For each feature, increasing cut points: value `v` falls in bin `1 + #(edges < v)`.
    pub edges: Vec<Vec<f64>>,
}

impl Binner {
    /// Cut points at the quantiles of each column of `rows` (at most `max_bins - 1` per
    /// feature), from at most `sample` rows spread evenly over the data.
    pub fn fit<R: AsRef<[T]>, T: Value>(
        rows: &[R],
        n_features: usize,
        max_bins: usize,
        sample: usize,
    ) -> Self {
        let stride = (rows.len() / sample.max(1)).max(1);
        let cuts = max_bins.clamp(2, 255) - 1;
        let edges = (0..n_features)
            .map(|f| {
                let mut v: Vec<f64> = rows
                    .iter()
                    .step_by(stride)
                    .filter_map(|r| r.as_ref().get(f).map(|&v| v.into()))
                    .filter(|x| !x.is_nan())
                    .collect();
                v.sort_by(f64::total_cmp);
                v.dedup();
                if v.len() <= cuts {
                    // Few distinct values: cut between each pair.
                    return v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect();
                }
                let mut e: Vec<f64> = (1..=cuts)
                    .map(|i| v[i * (v.len() - 1) / (cuts + 1)])
                    .collect();
                e.dedup();
                e
            })
            .collect();
        Self { edges }
    }

    /// Adds `cuts[f]` to feature `f`'s cut points, keeping at most 254 (the quantiles' go
    /// first where there are more).
    pub fn with_cuts(mut self, cuts: &[Vec<f64>]) -> Self {
        for (e, c) in self.edges.iter_mut().zip(cuts) {
            if c.is_empty() {
                continue;
            }
            let room = 254usize.saturating_sub(c.len());
            if e.len() > room {
                let keep: Vec<f64> = (0..room).map(|i| e[i * e.len() / room.max(1)]).collect();
                *e = keep;
            }
            e.extend(c.iter().copied().filter(|x| x.is_finite()));
            e.sort_by(f64::total_cmp);
            e.dedup();
        }
        self
    }

    /// The bin of value `v` of feature `f`.
    pub fn bin(&self, f: usize, v: f64) -> u8 {
        if v.is_nan() {
            return 0;
        }
        let e = self.edges.get(f).map_or(&[][..], Vec::as_slice);
        (1 + e.partition_point(|&x| x < v)).min(255) as u8
    }

    /// Bins `rows` column by column: `out[f * rows.len() + i]` is row `i`'s bin of feature `f`.
    pub fn bin_columns<R: AsRef<[T]>, T: Value>(&self, rows: &[R]) -> Vec<u8> {
        let n = rows.len();
        let mut out = vec![0u8; self.edges.len() * n];
        for f in 0..self.edges.len() {
            for (i, r) in rows.iter().enumerate() {
                out[f * n + i] = self.bin(f, r.as_ref().get(f).map_or(f64::NAN, |&v| v.into()));
            }
        }
        out
    }

    /// The raw threshold equivalent to "bin ≤ `b`" for feature `f`: values at or below it (and
    /// missing values) go left. Always finite, so that model files (JSON) keep it.
    pub fn threshold(&self, f: usize, b: u8) -> f64 {
        match b {
            0 => f64::MIN,
            _ => self
                .edges
                .get(f)
                .and_then(|e| e.get(b as usize - 1))
                .copied()
                .unwrap_or(f64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn given_cuts_are_kept_beside_the_quantiles() {
        let rows: Vec<Vec<f64>> = (0..1000).map(|i| vec![f64::from(i) * 7.0, 1.0]).collect();
        let b = Binner::fit(&rows, 2, 8, 1000).with_cuts(&[vec![300.0, 315.0], vec![]]);
        assert!(b.edges[0].contains(&300.0) && b.edges[0].contains(&315.0));
        assert!(b.edges[0].windows(2).all(|w| w[0] < w[1]));
        assert_ne!(b.bin(0, 300.0), b.bin(0, 301.0), "a split can fall at 300");
        assert_eq!(b.edges[1], Vec::<f64>::new());
    }

    proptest! {
        /// Comparing a raw value with a split's threshold agrees with comparing bins.
        #[test]
        fn thresholds_agree_with_bins(
            vals in proptest::collection::vec(-1e6f64..1e6, 1..300),
            probe in -2e6f64..2e6,
            b in 0u8..40,
        ) {
            let rows: Vec<Vec<f64>> = vals.iter().map(|v| vec![*v]).collect();
            let binner = Binner::fit(&rows, 1, 32, 1000);
            let left_by_bin = binner.bin(0, probe) <= b;
            let threshold = binner.threshold(0, b);
            prop_assert!(threshold.is_finite());
            prop_assert_eq!(left_by_bin, probe <= threshold);
        }
    }

    #[test]
    fn missing_values_have_their_own_bin() {
        let rows = vec![vec![1.0], vec![2.0], vec![f64::NAN], vec![3.0]];
        let b = Binner::fit(&rows, 1, 16, 100);
        assert_eq!(b.edges[0], vec![1.5, 2.5]);
        assert_eq!(b.bin_columns(&rows), vec![1, 2, 0, 3]);
    }
}
