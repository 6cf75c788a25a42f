//! `decision_tree`: one [`hist_tree`](super::hist_tree) tree on every row
//! and every feature, its histogram passes spread over the cores.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::hist_tree::{Binned, Growth, Target, Tree};
use super::params::TreeParams;
use super::rows;

/// A fitted decision tree; leaves hold class probabilities (`width` of
/// them) or a mean (`width` 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    tree: Tree,
    width: usize,
}

impl DecisionTree {
    /// Fits on `x` with `target`; `seed` orders the features tried at each
    /// node, which decides between splits of equal gain (scikit-learn's
    /// `random_state` does the same).
    pub fn fit(x: &DenseMatrix<f64>, target: &Target<'_>, p: &TreeParams, seed: u64) -> Self {
        let data = Binned::new(x);
        let growth = Growth {
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf,
            min_samples_split: p.min_samples_split,
            max_features: None,
            parallel: true,
        };
        let rows = (0..x.shape().0 as u32).collect();
        let width = match target {
            Target::Classes(_, classes, _) => *classes,
            Target::Values(_) => 1,
        };
        Self {
            tree: Tree::grow(&data, target, rows, &growth, seed),
            width,
        }
    }

    /// Checks a decoded tree (see [`Tree::validate`]) for `features` inputs
    /// and `classes` classes (0: regression).
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.width != classes.max(1) {
            return Err(format!(
                "leaves hold {} values for {classes} classes",
                self.width
            ));
        }
        self.tree.validate(features, self.width)
    }

    /// The leaf value of every row: class probabilities or `[mean]`.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Vec<Vec<f64>> {
        rows(x)
            .map(|row| self.tree.leaf_of(row, self.width).to_vec())
            .collect()
    }

    /// Values per leaf: classes, or 1 for regression.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Impurity decrease per feature.
    pub fn feature_importances(&self) -> Vec<f64> {
        self.tree.gains().to_vec()
    }
}
