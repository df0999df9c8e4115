//! A random forest for rare-event classification: features binned at quantiles, each tree grown
//! on a bootstrap sample of rows with a random subset of features tried at every split, classes
//! weighted so that rare failures count as much as the healthy majority. Probabilities are the
//! mean of the trees' leaf distributions.

pub mod bins;
mod rng;
pub mod tree;

use serde::{Deserialize, Serialize};

use crate::IntelError;
use bins::Binner;
use rng::Rng;
use tree::{Grow, Tree};

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Trees.
    pub trees: usize,
    /// Deepest level of a tree.
    pub max_depth: usize,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
    /// Features tried at each split; 0 means the square root of the feature count.
    pub mtry: usize,
    /// Share of the rows each tree is grown on (drawn with replacement).
    pub sample_fraction: f64,
    /// Weigh classes inversely to their frequency.
    pub balanced: bool,
    /// Bins per feature.
    pub max_bins: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 60,
            max_depth: 10,
            min_leaf: 5,
            mtry: 0,
            sample_fraction: 0.5,
            balanced: true,
            max_bins: 64,
            seed: 1,
        }
    }
}

/// A trained forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// Classes.
    pub n_classes: usize,
    /// Features each row has.
    pub n_features: usize,
    /// The trees.
    pub trees: Vec<Tree>,
}

impl Forest {
    /// Trains on `rows` (each `n_features` long; NaN for missing) with classes `labels` in
    /// `0..n_classes`.
    pub fn train(
        rows: &[Vec<f64>],
        labels: &[u16],
        n_classes: usize,
        p: &ForestParams,
    ) -> Result<Self, IntelError> {
        Self::train_oob(rows, labels, n_classes, p).map(|(f, _)| f)
    }

    /// Trains like [`Forest::train`], and also returns each row's out-of-bag class
    /// probabilities: the mean over the trees whose sample left the row out (NaN when every
    /// tree saw it), an honest estimate of how the forest scores rows it has not seen.
    pub fn train_oob(
        rows: &[Vec<f64>],
        labels: &[u16],
        n_classes: usize,
        p: &ForestParams,
    ) -> Result<(Self, Vec<Vec<f64>>), IntelError> {
        let n_features = rows.first().map_or(0, Vec::len);
        if rows.is_empty() || n_features == 0 || n_classes == 0 {
            return Err(IntelError::Data(
                "no rows, features or classes to train on".into(),
            ));
        }
        if rows.len() != labels.len() {
            return Err(IntelError::Data(format!(
                "{} rows but {} labels",
                rows.len(),
                labels.len()
            )));
        }
        if let Some(i) = rows.iter().position(|r| r.len() != n_features) {
            return Err(IntelError::Data(format!(
                "row {i} has {} features, not {n_features}",
                rows[i].len()
            )));
        }
        if let Some(l) = labels.iter().find(|l| **l as usize >= n_classes) {
            return Err(IntelError::Data(format!(
                "class {l} is outside 0..{n_classes}"
            )));
        }
        let binner = Binner::fit(rows, n_features, p.max_bins, 200_000);
        let bins = binner.bin_columns(rows);
        let mut freq = vec![0usize; n_classes];
        for l in labels {
            freq[*l as usize] += 1;
        }
        let class_weight: Vec<f64> = freq
            .iter()
            .map(|&f| match (p.balanced, f) {
                (_, 0) => 0.0,
                (true, f) => rows.len() as f64 / (n_classes as f64 * f as f64),
                (false, _) => 1.0,
            })
            .collect();
        let mtry = match p.mtry {
            0 => (n_features as f64).sqrt().ceil() as usize,
            m => m.min(n_features),
        };
        let threshold = |f: usize, b: u8| binner.threshold(f, b);
        let g = Grow {
            bins: &bins,
            n_rows: rows.len(),
            n_features,
            labels,
            class_weight: &class_weight,
            n_classes,
            mtry,
            max_depth: p.max_depth,
            min_leaf: p.min_leaf.max(1),
            threshold: &threshold,
        };
        let mut rng = Rng::new(p.seed);
        let per_tree = ((rows.len() as f64 * p.sample_fraction).ceil() as usize).max(1);
        let mut oob = vec![vec![0.0; n_classes]; rows.len()];
        let mut oob_trees = vec![0u32; rows.len()];
        let mut seen = vec![false; rows.len()];
        let mut trees = Vec::with_capacity(p.trees);
        for _ in 0..p.trees {
            let sample: Vec<u32> = (0..per_tree)
                .map(|_| rng.below(rows.len()) as u32)
                .collect();
            seen.iter_mut().for_each(|s| *s = false);
            for &r in &sample {
                seen[r as usize] = true;
            }
            let mut tree_rng = Rng::new(rng.next_u64());
            let tree = Tree::grow(&g, sample, &mut tree_rng);
            for (i, row) in rows.iter().enumerate().filter(|(i, _)| !seen[*i]) {
                for (acc, v) in oob[i].iter_mut().zip(tree.leaf(row)) {
                    *acc += f64::from(*v);
                }
                oob_trees[i] += 1;
            }
            trees.push(tree);
        }
        for (p, n) in oob.iter_mut().zip(&oob_trees) {
            p.iter_mut()
                .for_each(|v| *v = if *n > 0 { *v / f64::from(*n) } else { f64::NAN });
        }
        let forest = Self {
            n_classes,
            n_features,
            trees,
        };
        Ok((forest, oob))
    }

    /// Class probabilities of one row.
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.n_classes];
        for t in &self.trees {
            for (acc, v) in p.iter_mut().zip(t.leaf(x)) {
                *acc += f64::from(*v);
            }
        }
        let n = self.trees.len().max(1) as f64;
        p.iter_mut().for_each(|v| *v /= n);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two informative features among noise; class 1 is rare (5%) and lies where both are high.
    fn data(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<u16>) {
        let mut r = Rng::new(seed);
        let mut u = || (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> = (0..8).map(|_| u()).collect();
            let y = u16::from(row[2] > 0.75 && row[5] > 0.8);
            rows.push(row);
            labels.push(y);
        }
        (rows, labels)
    }

    #[test]
    fn learns_a_rare_class_and_generalises() {
        let (rows, labels) = data(4000, 1);
        let params = ForestParams {
            trees: 30,
            ..ForestParams::default()
        };
        let f = Forest::train(&rows, &labels, 2, &params).unwrap();
        let (test, truth) = data(2000, 2);
        let mut correct = 0;
        for (x, y) in test.iter().zip(&truth) {
            let p = f.predict_proba(x);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6);
            if u16::from(p[1] > 0.5) == *y {
                correct += 1;
            }
        }
        assert!(correct >= 1940, "{correct} of 2000 held-out rows right");
        // The same seed grows the same forest.
        let (again, oob) = Forest::train_oob(&rows, &labels, 2, &params).unwrap();
        assert_eq!(f, again);
        // Out-of-bag scores are about as good as held-out ones.
        let right = oob
            .iter()
            .zip(&labels)
            .filter(|(p, y)| !p[1].is_nan() && u16::from(p[1] > 0.5) == **y)
            .count();
        assert!(right >= 3880, "{right} of 4000 out-of-bag rows right");
    }

    #[test]
    fn bad_training_data_is_refused() {
        let p = ForestParams::default();
        assert!(Forest::train(&[], &[], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0]], &[0, 1], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0], vec![1.0, 2.0]], &[0, 1], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0]], &[3], 2, &p).is_err());
    }
}
