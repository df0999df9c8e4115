//! Probability calibration by isotonic regression: a non-decreasing step function from a
//! model's score to the observed frequency of the event, fitted by pooling adjacent violators
//! on held-out (or out-of-bag) scores.

use serde::{Deserialize, Serialize};

/// A fitted calibration: at score `knots[i]` or above (up to the next knot), probability
/// `values[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Isotonic {
    /// Increasing scores where the probability steps up.
    pub knots: Vec<f64>,
    /// Probability from each knot on.
    pub values: Vec<f64>,
}

impl Isotonic {
    /// Fits on `(score, outcome)` pairs; NaN scores are ignored.
    pub fn fit(pairs: &[(f64, bool)]) -> Self {
        let mut v: Vec<(f64, f64)> = pairs
            .iter()
            .filter(|p| !p.0.is_nan())
            .map(|&(s, y)| (s, f64::from(u8::from(y))))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Blocks of (first score, sum of outcomes, count), merged while they decrease.
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (s, y) in v {
            match blocks.last_mut() {
                Some(b) if b.0 == s => {
                    b.1 += y;
                    b.2 += 1.0;
                }
                _ => blocks.push((s, y, 1.0)),
            }
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 < b.1 / b.2 {
                    break;
                }
                blocks[n - 2] = (a.0, a.1 + b.1, a.2 + b.2);
                blocks.pop();
            }
        }
        Self {
            knots: blocks.iter().map(|b| b.0).collect(),
            values: blocks.iter().map(|b| b.1 / b.2).collect(),
        }
    }

    /// The calibrated probability of `score` (the score itself when nothing was fitted).
    pub fn apply(&self, score: f64) -> f64 {
        if self.knots.is_empty() || score.is_nan() {
            return score;
        }
        let i = self.knots.partition_point(|&k| k <= score);
        self.values[i.saturating_sub(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_violators_into_a_non_decreasing_map() {
        let pairs = [
            (0.1, false),
            (0.2, true),
            (0.3, false),
            (0.4, false),
            (0.8, true),
            (0.9, true),
        ];
        let c = Isotonic::fit(&pairs);
        assert!(c.values.windows(2).all(|w| w[0] <= w[1]), "{c:?}");
        assert_eq!(c.apply(0.05), 0.0);
        assert!((c.apply(0.35) - 1.0 / 3.0).abs() < 1e-12, "{c:?}");
        assert_eq!(c.apply(0.95), 1.0);
        assert_eq!(Isotonic::default().apply(0.3), 0.3);
        // A perfectly ranked score becomes a step from 0 to 1.
        let c = Isotonic::fit(&[(0.2, false), (0.4, false), (0.6, true), (0.7, true)]);
        assert_eq!((c.apply(0.5), c.apply(0.6)), (0.0, 1.0));
    }
}
