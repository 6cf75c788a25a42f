//! `decision_tree`: one [`hist_tree`](super::hist_tree) tree on every row
//! and every feature, its histogram passes spread over the cores.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::{Algorithm, Estimator};
use super::hist_tree::{Binned, Criterion, Growth, Target, Tree};
use super::{Fitted, Output, Proba, Task, from_proba, rows};
use crate::error::{Result, params};
use crate::onnx::{Ensemble, Graph, Head};

/// `decision_tree`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TreeParams {
    /// Maximum depth (none: grow until leaves are pure or too small).
    pub max_depth: Option<u16>,
    /// Minimum rows in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum rows to split a node.
    pub min_samples_split: usize,
    /// Split criterion (classification only).
    pub criterion: Criterion,
}

impl Default for TreeParams {
    fn default() -> Self {
        Self {
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            criterion: Criterion::Gini,
        }
    }
}

pub(crate) fn check_tree(max_depth: Option<u16>, min_leaf: usize, min_split: usize) -> Result<()> {
    if max_depth == Some(0) {
        return Err(params(
            "params.max_depth",
            "must be at least 1 (or omitted for no limit)",
        ));
    }
    if min_leaf == 0 {
        return Err(params("params.min_samples_leaf", "must be at least 1"));
    }
    if min_split < 2 {
        return Err(params("params.min_samples_split", "must be at least 2"));
    }
    Ok(())
}

impl Algorithm for TreeParams {
    const NAME: &'static str = "decision_tree";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];

    fn check(&self) -> Result<()> {
        check_tree(self.max_depth, self.min_samples_leaf, self.min_samples_split)
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &super::Target, seed: u64) -> Result<Fitted> {
        Ok(match y {
            super::Target::Classes(y, classes) => {
                let target = Target::Classes(y, *classes, self.criterion);
                Fitted::TreeClassifier(DecisionTree::fit(x, &target, self, seed))
            }
            super::Target::Values(y) => {
                Fitted::TreeRegressor(DecisionTree::fit(x, &Target::Values(y), self, seed))
            }
        })
    }
}

impl Estimator for DecisionTree {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        let leaves = DecisionTree::predict(self, x);
        // Leaves of a classifier hold ≥ 2 class probabilities, a regressor's one mean.
        Ok(match self.width {
            1 => Output::Values(leaves.into_iter().map(|v| v[0]).collect()),
            classes => from_proba(Proba::from_rows(leaves, classes)),
        })
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        let mut ensemble = Ensemble::default();
        for value in 0..self.width {
            self.tree.onnx(&mut ensemble, (value, self.width), value, 1.0);
        }
        let out = ensemble.finish(graph, x, self.width);
        Ok(if self.width == 1 {
            Head::Values(out)
        } else {
            Head::Probabilities(out)
        })
    }

    fn has_probabilities(&self) -> bool {
        self.width > 1
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        DecisionTree::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        Some(self.tree.gains().to_vec())
    }
}

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
            random_splits: false,
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
        self.tree.validate(features, self.width, classes > 0)
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
