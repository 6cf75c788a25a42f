//! Random forests trained on both cores. smartcore grows a forest's trees one
//! after another; here each tree is a one-tree smartcore forest (bootstrap
//! sample, `max_features` candidates per split) grown on rayon with its own
//! seed derived from the master seed, so the same seed gives the same model
//! whatever the thread count. Class probabilities are the trees' vote shares.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::extra_trees_regressor::{
    ExtraTreesRegressor, ExtraTreesRegressorParameters,
};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::DecisionTreeClassifier;

use super::params::ForestParams;
use super::{split_criterion, trained};
use crate::error::Result;

type TreeC = RandomForestClassifier<f64, i32, DenseMatrix<f64>, Vec<i32>>;
type TreeR = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;
type TreeE = ExtraTreesRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// A fitted classification forest.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestClassifier {
    trees: Vec<TreeC>,
    classes: usize,
}

/// A fitted regression forest.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestRegressor {
    trees: Vec<TreeR>,
}

/// Fitted extremely randomized trees (regression): random split thresholds,
/// no bootstrap, grown in parallel like the forests.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExtraTrees {
    trees: Vec<TreeE>,
}

/// Grows `n` members on rayon, member `t` with seed `tree_seed(seed, t)`.
fn grow<M: Send>(n: u16, seed: u64, fit: impl Fn(u64) -> Result<M> + Sync) -> Result<Vec<M>> {
    (0..u64::from(n))
        .into_par_iter()
        .map(|t| fit(tree_seed(seed, t)))
        .collect()
}

/// Sum of the members' importances (normalised by the caller).
fn summed_importances<M>(
    members: &[M],
    importances: impl Fn(&M) -> Option<Vec<f64>>,
) -> Option<Vec<f64>> {
    let mut total: Option<Vec<f64>> = None;
    for member in members {
        let values = importances(member)?;
        match &mut total {
            Some(t) => t.iter_mut().zip(&values).for_each(|(a, b)| *a += b),
            None => total = Some(values),
        }
    }
    total
}

/// Mean of the members' predictions.
fn mean_of<M: Sync>(
    members: &[M],
    rows: usize,
    predict: impl Fn(&M) -> Result<Vec<f64>> + Sync + Send,
) -> Result<Vec<f64>> {
    let all: Vec<Vec<f64>> = members.par_iter().map(predict).collect::<Result<_>>()?;
    let mut mean = vec![0.0; rows];
    for predictions in &all {
        for (m, p) in mean.iter_mut().zip(predictions) {
            *m += p / all.len() as f64;
        }
    }
    Ok(mean)
}

/// SplitMix64: a fixed, well-known mixing of (seed, tree index) into a tree seed.
fn tree_seed(seed: u64, tree: u64) -> u64 {
    let mut z = seed ^ tree.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl ForestClassifier {
    pub(super) fn fit(
        x: &DenseMatrix<f64>,
        y: &Vec<i32>,
        classes: usize,
        p: &ForestParams,
        seed: u64,
        width: usize,
    ) -> Result<Self> {
        let m = p.features_per_split(width, true);
        let trees = grow(p.n_trees, seed, |tree_seed| {
            let mut params = RandomForestClassifierParameters::default()
                .with_n_trees(1)
                .with_m(m)
                .with_min_samples_leaf(p.min_samples_leaf)
                .with_min_samples_split(p.min_samples_split)
                .with_criterion(split_criterion(p.criterion))
                .with_seed(tree_seed);
            if let Some(depth) = p.max_depth {
                params = params.with_max_depth(depth);
            }
            trained("random_forest", TreeC::fit(x, y, params))
        })?;
        Ok(Self { trees, classes })
    }

    /// Vote shares per class, `rows × classes`.
    pub fn predict_proba(&self, x: &DenseMatrix<f64>, rows: usize) -> Result<Vec<Vec<f64>>> {
        let votes: Vec<Vec<i32>> = self
            .trees
            .par_iter()
            .map(|tree| trained("random_forest", tree.predict(x)))
            .collect::<Result<_>>()?;
        // Count votes as integers and divide once, so shares are exact ratios.
        let mut counts = vec![vec![0u32; self.classes]; rows];
        for tree_votes in &votes {
            for (row, &class) in tree_votes.iter().enumerate() {
                if let Some(c) = counts[row].get_mut(class as usize) {
                    *c += 1;
                }
            }
        }
        let trees = self.trees.len() as f64;
        let proba = counts
            .into_iter()
            .map(|row| row.into_iter().map(|c| f64::from(c) / trees).collect())
            .collect();
        Ok(proba)
    }
}

impl ForestRegressor {
    pub(super) fn fit(
        x: &DenseMatrix<f64>,
        y: &Vec<f64>,
        p: &ForestParams,
        seed: u64,
        width: usize,
    ) -> Result<Self> {
        let m = p.features_per_split(width, false);
        let trees = grow(p.n_trees, seed, |tree_seed| {
            let mut params = RandomForestRegressorParameters::default()
                .with_n_trees(1)
                .with_m(m)
                .with_min_samples_leaf(p.min_samples_leaf)
                .with_min_samples_split(p.min_samples_split)
                .with_seed(tree_seed);
            if let Some(depth) = p.max_depth {
                params = params.with_max_depth(depth);
            }
            trained("random_forest", TreeR::fit(x, y, params))
        })?;
        Ok(Self { trees })
    }

    /// Mean of the trees' predictions.
    pub fn predict(&self, x: &DenseMatrix<f64>, rows: usize) -> Result<Vec<f64>> {
        mean_of(&self.trees, rows, |tree| {
            trained("random_forest", tree.predict(x))
        })
    }
}

impl ForestClassifier {
    /// Summed impurity importances of the trees. smartcore keeps a
    /// classification forest's trees private, so each one-tree forest is read
    /// back through its serde form (training-time only: the report and card).
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        type Tree = DecisionTreeClassifier<f64, i32, DenseMatrix<f64>, Vec<i32>>;
        summed_importances(&self.trees, |forest| {
            let mut value = serde_json::to_value(forest).ok()?;
            let trees: Vec<Tree> = serde_json::from_value(value.get_mut("trees")?.take()).ok()?;
            summed_importances(&trees, |tree| Some(tree.compute_feature_importances(false)))
        })
    }
}

impl ForestRegressor {
    /// Summed impurity importances of the trees.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        summed_importances(&self.trees, |t| t.compute_feature_importances().ok())
    }
}

impl ExtraTrees {
    /// Summed impurity importances of the trees.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        summed_importances(&self.trees, |t| t.compute_feature_importances().ok())
    }

    pub(super) fn fit(
        x: &DenseMatrix<f64>,
        y: &Vec<f64>,
        p: &ForestParams,
        seed: u64,
        width: usize,
    ) -> Result<Self> {
        let m = p.features_per_split(width, false);
        let trees = grow(p.n_trees, seed, |tree_seed| {
            let mut params = ExtraTreesRegressorParameters::default()
                .with_n_trees(1)
                .with_m(m)
                .with_min_samples_leaf(p.min_samples_leaf)
                .with_min_samples_split(p.min_samples_split)
                .with_seed(tree_seed);
            if let Some(depth) = p.max_depth {
                params = params.with_max_depth(depth);
            }
            trained("extra_trees", TreeE::fit(x, y, params))
        })?;
        Ok(Self { trees })
    }

    /// Mean of the trees' predictions.
    pub fn predict(&self, x: &DenseMatrix<f64>, rows: usize) -> Result<Vec<f64>> {
        mean_of(&self.trees, rows, |tree| {
            trained("extra_trees", tree.predict(x))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::tree_seed;

    #[test]
    fn tree_seeds_differ_and_are_stable() {
        assert_ne!(tree_seed(42, 0), tree_seed(42, 1));
        assert_eq!(tree_seed(42, 7), tree_seed(42, 7));
    }
}
