//! A random forest for rare-event classification: features binned at quantiles, each tree grown
//! on a bootstrap sample of rows with a random subset of features tried at every split, classes
//! weighted so that rare failures count as much as the healthy majority. Probabilities are the
//! mean of the trees' leaf distributions.

pub mod bins;
pub(crate) mod rng;
pub mod tree;

use serde::{Deserialize, Serialize};

use crate::IntelError;
use bins::Binner;
use rng::Rng;
use tree::{Grow, Tree};

/// A feature value as rows hold it: double precision where a row is scored, single precision
/// where millions of training rows are kept (see [`crate::rows`]).
pub trait Value: Copy + Into<f64> {}

impl Value for f64 {}
impl Value for f32 {}

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
    /// For each feature, cut points its bins have besides the quantiles (none where missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<Vec<f64>>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 60,
            max_depth: 12,
            min_leaf: 5,
            mtry: 0,
            sample_fraction: 0.5,
            balanced: true,
            max_bins: 64,
            cuts: Vec::new(),
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
    pub fn train<R: AsRef<[T]>, T: Value>(
        rows: &[R],
        labels: &[u16],
        n_classes: usize,
        p: &ForestParams,
    ) -> Result<Self, IntelError> {
        Self::train_oob(rows, labels, n_classes, p).map(|(f, _)| f)
    }

    /// Trains like [`Forest::train`], and also returns each row's out-of-bag class
    /// probabilities: the mean over the trees whose sample left the row out (NaN when every
    /// tree saw it), an honest estimate of how the forest scores rows it has not seen.
    pub fn train_oob<R: AsRef<[T]>, T: Value>(
        rows: &[R],
        labels: &[u16],
        n_classes: usize,
        p: &ForestParams,
    ) -> Result<(Self, Vec<Vec<f64>>), IntelError> {
        Self::train_grouped(rows, labels, None, n_classes, p, &mut || {})
    }

    /// Trains like [`Forest::train_oob`]; with `groups` (one id per row), each tree's sample
    /// draws whole groups with replacement, so that a row is out of bag only when nothing of
    /// its group was drawn: neighbouring windows of one object are nearly alike, and
    /// out-of-bag scores are only honest when the object was not seen at all. `on_tree` is
    /// called after each tree.
    pub fn train_grouped<R: AsRef<[T]>, T: Value>(
        rows: &[R],
        labels: &[u16],
        groups: Option<&[u32]>,
        n_classes: usize,
        p: &ForestParams,
        on_tree: &mut dyn FnMut(),
    ) -> Result<(Self, Vec<Vec<f64>>), IntelError> {
        let n_features = rows.first().map_or(0, |r| r.as_ref().len());
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
        if let Some(i) = rows.iter().position(|r| r.as_ref().len() != n_features) {
            return Err(IntelError::Data(format!(
                "row {i} has {} features, not {n_features}",
                rows[i].as_ref().len()
            )));
        }
        if groups.is_some_and(|g| g.len() != rows.len()) {
            return Err(IntelError::Data("one group per row is needed".into()));
        }
        if let Some(l) = labels.iter().find(|l| **l as usize >= n_classes) {
            return Err(IntelError::Data(format!(
                "class {l} is outside 0..{n_classes}"
            )));
        }
        let binner = Binner::fit(rows, n_features, p.max_bins, 200_000).with_cuts(&p.cuts);
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
        let members = groups.map(group_members);
        let mut oob = vec![vec![0.0; n_classes]; rows.len()];
        let mut oob_trees = vec![0u32; rows.len()];
        let mut seen = vec![false; rows.len()];
        let mut trees = Vec::with_capacity(p.trees);
        for _ in 0..p.trees {
            let sample = match &members {
                Some(m) => group_sample(m, per_tree, &mut rng),
                None => (0..per_tree)
                    .map(|_| rng.below(rows.len()) as u32)
                    .collect(),
            };
            seen.iter_mut().for_each(|s| *s = false);
            for &r in &sample {
                seen[r as usize] = true;
            }
            let mut tree_rng = Rng::new(rng.next_u64());
            let tree = Tree::grow(&g, sample, &mut tree_rng);
            for (i, row) in rows.iter().enumerate().filter(|(i, _)| !seen[*i]) {
                for (acc, v) in oob[i].iter_mut().zip(tree.leaf(row.as_ref())) {
                    *acc += f64::from(*v);
                }
                oob_trees[i] += 1;
            }
            trees.push(tree);
            on_tree();
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

    /// How much each feature moved `x`'s probability of leaving class 0 (the mean over trees of
    /// the changes along its path), and the starting point those changes add to: the two sum to
    /// the forest's probability of a class other than 0, before calibration.
    pub fn contributions(&self, x: &[f64]) -> (Vec<f64>, f64) {
        let mut out = vec![0.0; self.n_features];
        let mut base = 0.0;
        for t in &self.trees {
            base += t.contributions(x, &mut out);
        }
        let n = self.trees.len().max(1) as f64;
        out.iter_mut().for_each(|v| *v /= n);
        (out, base / n)
    }

    /// Class probabilities of one row.
    pub fn predict_proba<T: Value>(&self, x: &[T]) -> Vec<f64> {
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

/// The rows of each group, groups in order of first appearance.
fn group_members(groups: &[u32]) -> Vec<Vec<u32>> {
    let mut index = std::collections::HashMap::new();
    let mut out: Vec<Vec<u32>> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let k = *index.entry(*g).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i as u32);
    }
    out
}

/// Whole groups drawn with replacement until at least `want` rows are in the sample.
fn group_sample(members: &[Vec<u32>], want: usize, rng: &mut Rng) -> Vec<u32> {
    let mut sample = Vec::with_capacity(want + want / 8);
    while sample.len() < want && !members.is_empty() {
        sample.extend_from_slice(&members[rng.below(members.len())]);
    }
    sample
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
        // Contributions add up to the probability of class 1, and the informative features
        // carry it.
        let x = &test[truth.iter().position(|y| *y == 1).unwrap()];
        let (c, base) = f.contributions(x);
        let p = f.predict_proba(x);
        assert!(
            (c.iter().sum::<f64>() + base - p[1]).abs() < 1e-4,
            "{c:?} {base} {p:?}"
        );
        let mut order: Vec<usize> = (0..c.len()).collect();
        order.sort_by(|a, b| c[*b].total_cmp(&c[*a]));
        assert!(order[..2].contains(&2) && order[..2].contains(&5), "{c:?}");
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
    fn grouped_bagging_leaves_whole_groups_out() {
        let (rows, labels) = data(2000, 3);
        // Twenty groups of 100 consecutive rows.
        let groups: Vec<u32> = (0..2000).map(|i| i / 100).collect();
        let params = ForestParams {
            trees: 20,
            ..ForestParams::default()
        };
        let mut trees = 0;
        let (f, oob) =
            Forest::train_grouped(&rows, &labels, Some(&groups), 2, &params, &mut || {
                trees += 1
            })
            .unwrap();
        assert_eq!((trees, f.trees.len()), (20, 20));
        // Rows of a group are out of bag together: the same trees scored them.
        for g in oob.chunks(100) {
            let nan = g.iter().filter(|p| p[0].is_nan()).count();
            assert!(nan == 0 || nan == 100, "{nan} of a group never out of bag");
        }
        assert!(oob.iter().filter(|p| !p[0].is_nan()).count() >= 1000);
        assert!(
            Forest::train_grouped(&rows, &labels, Some(&groups[1..]), 2, &params, &mut || {})
                .is_err()
        );
    }

    #[test]
    fn bad_training_data_is_refused() {
        let p = ForestParams::default();
        assert!(Forest::train::<Vec<f64>, f64>(&[], &[], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0]], &[0, 1], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0], vec![1.0, 2.0]], &[0, 1], 2, &p).is_err());
        assert!(Forest::train(&[vec![1.0]], &[3], 2, &p).is_err());
    }
}
