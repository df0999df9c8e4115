//! One classification tree, grown on binned columns: at each node a random subset of features
//! is tried, each with a histogram of weighted class counts per bin, and the split that lowers
//! weighted Gini impurity most is kept.

use serde::{Deserialize, Serialize};

use super::Value;
use super::rng::Rng;

/// Marks a leaf in [`Node::feature`].
pub const LEAF: u16 = u16::MAX;

/// A node, in preorder: a split's left child follows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Feature a split tests, or [`LEAF`].
    pub feature: u16,
    /// Rows with the feature at or below it (or missing) go left.
    pub threshold: f64,
    /// A split's right child; a leaf's offset in [`Tree::leaves`].
    pub next: u32,
    /// Weighted share of the node's rows outside class 0 (class 0 is "nothing happens"):
    /// how a row's path moves it is what explains a prediction.
    #[serde(default)]
    pub positive: f32,
}

/// A grown tree: nodes in preorder, and the leaves' class probabilities side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is first.
    pub nodes: Vec<Node>,
    /// `n_classes` probabilities per leaf.
    pub leaves: Vec<f32>,
    /// Classes.
    pub n_classes: usize,
}

/// What growing a tree needs.
pub struct Grow<'a> {
    /// Binned columns: `bins[f * n_rows + i]`.
    pub bins: &'a [u8],
    /// Rows in the data.
    pub n_rows: usize,
    /// Features.
    pub n_features: usize,
    /// Class of each row.
    pub labels: &'a [u16],
    /// Weight of each class.
    pub class_weight: &'a [f64],
    /// Classes.
    pub n_classes: usize,
    /// Features tried at each node.
    pub mtry: usize,
    /// Deepest level.
    pub max_depth: usize,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
    /// Raw threshold of "bin ≤ b" for feature f.
    pub threshold: &'a dyn Fn(usize, u8) -> f64,
}

impl Tree {
    /// Grows a tree on rows `rows` (with repeats, for a bootstrap sample).
    pub fn grow(g: &Grow<'_>, mut rows: Vec<u32>, rng: &mut Rng) -> Tree {
        let mut t = Tree {
            nodes: Vec::new(),
            leaves: Vec::new(),
            n_classes: g.n_classes,
        };
        let len = rows.len();
        t.node(g, &mut rows, 0, len, 0, rng);
        t
    }

    fn node(
        &mut self,
        g: &Grow<'_>,
        rows: &mut [u32],
        lo: usize,
        hi: usize,
        depth: usize,
        rng: &mut Rng,
    ) -> u32 {
        let id = self.nodes.len() as u32;
        let counts = class_counts(g, &rows[lo..hi]);
        let total: f64 = counts.iter().sum();
        let positive = if total > 0.0 {
            (1.0 - counts.first().copied().unwrap_or(0.0) / total) as f32
        } else {
            0.0
        };
        let pure = counts.iter().filter(|c| **c > 0.0).count() <= 1;
        let split = if depth >= g.max_depth || hi - lo < 2 * g.min_leaf || pure {
            None
        } else {
            best_split(g, &rows[lo..hi], &counts, rng)
        };
        let Some((feature, bin)) = split else {
            self.nodes.push(Node {
                feature: LEAF,
                threshold: 0.0,
                next: self.leaves.len() as u32,
                positive,
            });
            self.leaves.extend(
                counts
                    .iter()
                    .map(|c| if total > 0.0 { (c / total) as f32 } else { 0.0 }),
            );
            return id;
        };
        let col = &g.bins[feature * g.n_rows..(feature + 1) * g.n_rows];
        let mid = lo + partition(&mut rows[lo..hi], |r| col[r as usize] <= bin);
        self.nodes.push(Node {
            feature: feature as u16,
            threshold: (g.threshold)(feature, bin),
            next: 0,
            positive,
        });
        self.node(g, rows, lo, mid, depth + 1, rng);
        let right = self.node(g, rows, mid, hi, depth + 1, rng);
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.next = right;
        }
        id
    }

    /// Class probabilities of the leaf that `x` reaches.
    pub fn leaf<T: Value>(&self, x: &[T]) -> &[f32] {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.feature == LEAF {
                let at = n.next as usize;
                return self.leaves.get(at..at + self.n_classes).unwrap_or(&[]);
            }
            let v = x.get(n.feature as usize).map_or(f64::NAN, |&v| v.into());
            i = if v.is_nan() || v <= n.threshold {
                i + 1
            } else {
                n.next as usize
            };
        }
        &[]
    }
}

impl Tree {
    /// Adds to `out[f]` how much each split on feature `f` along `x`'s path moved the share
    /// outside class 0; returns the root's share (the path's starting point).
    pub fn contributions(&self, x: &[f64], out: &mut [f64]) -> f64 {
        let Some(root) = self.nodes.first() else {
            return 0.0;
        };
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.feature == LEAF {
                break;
            }
            let v = x.get(n.feature as usize).copied().unwrap_or(f64::NAN);
            let next = if v.is_nan() || v <= n.threshold {
                i + 1
            } else {
                n.next as usize
            };
            if let (Some(child), Some(o)) = (self.nodes.get(next), out.get_mut(n.feature as usize))
            {
                *o += f64::from(child.positive - n.positive);
            }
            i = next;
        }
        f64::from(root.positive)
    }
}

fn class_counts(g: &Grow<'_>, rows: &[u32]) -> Vec<f64> {
    let mut c = vec![0.0; g.n_classes];
    for &r in rows {
        let k = g.labels[r as usize] as usize;
        c[k] += g.class_weight[k];
    }
    c
}

fn gini(counts: &[f64], total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    1.0 - counts.iter().map(|c| (c / total).powi(2)).sum::<f64>()
}

/// The feature and bin of the best split among `mtry` random features, if any lowers impurity
/// and leaves `min_leaf` rows on each side.
fn best_split(g: &Grow<'_>, rows: &[u32], counts: &[f64], rng: &mut Rng) -> Option<(usize, u8)> {
    let total: f64 = counts.iter().sum();
    let parent = gini(counts, total) * total;
    let k = g.n_classes;
    let mut hist = vec![0.0f64; 256 * k];
    let mut n_bin = [0usize; 256];
    let mut best: Option<(f64, usize, u8)> = None;
    for feature in rng.sample(g.n_features, g.mtry) {
        hist.iter_mut().for_each(|h| *h = 0.0);
        n_bin.iter_mut().for_each(|n| *n = 0);
        let col = &g.bins[feature * g.n_rows..(feature + 1) * g.n_rows];
        for &r in rows {
            let b = col[r as usize] as usize;
            let c = g.labels[r as usize] as usize;
            hist[b * k + c] += g.class_weight[c];
            n_bin[b] += 1;
        }
        let mut left = vec![0.0; k];
        let mut n_left = 0usize;
        for b in 0..255usize {
            if n_bin[b] == 0 {
                continue;
            }
            n_left += n_bin[b];
            for c in 0..k {
                left[c] += hist[b * k + c];
            }
            let n_right = rows.len() - n_left;
            if n_left < g.min_leaf || n_right < g.min_leaf {
                continue;
            }
            let lt: f64 = left.iter().sum();
            let rt = total - lt;
            let right_sq: f64 = counts
                .iter()
                .zip(&left)
                .map(|(a, l)| (a - l) * (a - l))
                .sum();
            // Weighted Gini of both sides: n·(1 − Σp²) = n − Σc²/n.
            let side = |n: f64, sq: f64| if n > 0.0 { n - sq / n } else { 0.0 };
            let cost = side(lt, left.iter().map(|l| l * l).sum()) + side(rt, right_sq);
            if cost < parent - 1e-12 && best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, feature, b as u8));
            }
        }
    }
    best.map(|(_, f, b)| (f, b))
}

/// Moves the rows for which `left` holds to the front; returns how many there are.
fn partition(rows: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let mut i = 0;
    for j in 0..rows.len() {
        if left(rows[j]) {
            rows.swap(i, j);
            i += 1;
        }
    }
    i
}
