//! Forests trained on both cores. Random forests grow [`hist_tree`] trees
//! (bootstrap rows, `max_features` candidates per split) on rayon, each with
//! its own seed derived from the master seed, so the same seed gives the same
//! model whatever the thread count; the features are binned once for the whole
//! forest. Class probabilities are the mean of the trees' leaf distributions,
//! as in scikit-learn. Extra trees (regression) are one-tree smartcore forests
//! grown the same way.
//!
//! [`hist_tree`]: super::hist_tree

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::extra_trees_regressor::{
    ExtraTreesRegressor, ExtraTreesRegressorParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::compiled::{Compiled, Lazy};
use super::hist_tree::{Binned, Growth, LANES, Target, Tree, bootstrap};
use super::params::ForestParams;
use super::{Proba, rows, trained};
use crate::error::Result;

type TreeE = ExtraTreesRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// A fitted classification forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestClassifier {
    trees: Vec<Tree>,
    classes: usize,
    /// The trees compiled for prediction, on first use.
    #[serde(skip)]
    compiled: Lazy<Option<Compiled>>,
}

/// A fitted regression forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestRegressor {
    trees: Vec<Tree>,
    #[serde(skip)]
    compiled: Lazy<Option<Compiled>>,
}

/// Fitted extremely randomized trees (regression): random split thresholds,
/// no bootstrap, grown in parallel like the forests.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExtraTrees {
    trees: Vec<TreeE>,
}

/// Checks decoded forest trees: at least one, each valid for `features`
/// inputs and `width` leaf values.
fn validate_trees(trees: &[Tree], features: usize, width: usize) -> Result<(), String> {
    if trees.is_empty() {
        return Err("the forest has no trees".into());
    }
    trees.iter().try_for_each(|t| t.validate(features, width))
}

impl ForestClassifier {
    /// Checks a decoded forest for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.classes != classes {
            return Err(format!("{} classes, the model has {classes}", self.classes));
        }
        validate_trees(&self.trees, features, classes)
    }
}

impl ForestRegressor {
    /// Checks a decoded forest for `features` inputs.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        validate_trees(&self.trees, features, 1)
    }
}

impl ExtraTrees {
    /// Checks smartcore's trees through their serde form (their fields are
    /// private): some trees, and in every node list, children stored after
    /// their parent and inside the list (a crafted loop would make
    /// prediction spin forever) and split features below `features`.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("the ensemble has no trees".into());
        }
        let value = serde_json::to_value(&self.trees).map_err(|e| e.to_string())?;
        let mut lists = 0;
        super::foreign::check_node_lists(&value, features, &mut lists)?;
        if lists < self.trees.len() {
            return Err(format!("{} trees but {lists} node lists", self.trees.len()));
        }
        Ok(())
    }
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

/// Grows `p.n_trees` trees on bootstrap samples of `x`.
fn grow_forest(
    x: &DenseMatrix<f64>,
    target: &Target<'_>,
    p: &ForestParams,
    seed: u64,
    m: usize,
) -> Result<Vec<Tree>> {
    let data = Binned::new(x);
    let growth = Growth {
        max_depth: p.max_depth,
        min_samples_leaf: p.min_samples_leaf,
        min_samples_split: p.min_samples_split,
        max_features: Some(m),
        parallel: false,
    };
    grow(p.n_trees, seed, |tree_seed| {
        let rows = bootstrap(data.rows(), tree_seed);
        Ok(Tree::grow(
            &data,
            target,
            rows,
            &growth,
            tree_seed.rotate_left(17),
        ))
    })
}

/// Rows walked through every tree before moving on: one tree's nodes stay
/// in cache for the whole block.
const BLOCK: usize = 4096;

/// The mean of the trees' leaves (`width` values per row, row after row)
/// for every row of `x`, into `out`. Blocks of rows run on rayon; within a
/// block the loop is tree-major, so a tree's nodes stay in cache for the
/// whole block.
fn mean_of_leaves(trees: &[Tree], x: &DenseMatrix<f64>, width: usize, out: &mut [f64]) {
    let all: Vec<&[f64]> = rows(x).collect();
    let scale = 1.0 / trees.len().max(1) as f64;
    out.par_chunks_mut(BLOCK * width)
        .zip(all.par_chunks(BLOCK))
        .for_each(|(out, block)| {
            let mut offsets = [0; LANES];
            for tree in trees {
                for (out, rows) in out.chunks_mut(LANES * width).zip(block.chunks(LANES)) {
                    tree.leaves_of(rows, &mut offsets);
                    for (o, &offset) in out.chunks_exact_mut(width).zip(&offsets) {
                        let leaf = tree.value(offset, width);
                        o.iter_mut().zip(leaf).for_each(|(s, v)| *s += v);
                    }
                }
            }
            out.iter_mut().for_each(|v| *v *= scale);
        });
}

/// The mean of the trees' leaves, compiled when the trees allow it.
fn predict_mean(
    trees: &[Tree],
    compiled: &Lazy<Option<Compiled>>,
    x: &DenseMatrix<f64>,
    width: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; x.shape().0 * width];
    match compiled.get_or_init(|| Compiled::new(trees, x.shape().1)) {
        Some(compiled) => compiled.mean_of_leaves(trees, x, width, &mut out),
        None => mean_of_leaves(trees, x, width, &mut out),
    }
    out
}

impl ForestClassifier {
    pub(super) fn fit(
        x: &DenseMatrix<f64>,
        y: &[i32],
        classes: usize,
        p: &ForestParams,
        seed: u64,
        width: usize,
    ) -> Result<Self> {
        let m = p.features_per_split(width, true);
        let target = Target::Classes(y, classes, p.criterion);
        let trees = grow_forest(x, &target, p, seed, m)?;
        Ok(Self {
            trees,
            classes,
            compiled: Lazy::default(),
        })
    }

    /// Mean leaf class distribution of the trees.
    pub fn predict_proba(&self, x: &DenseMatrix<f64>) -> Proba {
        Proba {
            classes: self.classes,
            values: predict_mean(&self.trees, &self.compiled, x, self.classes),
        }
    }

    /// Summed impurity decreases of the trees.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        summed_importances(&self.trees, |t| Some(t.gains().to_vec()))
    }
}

impl ForestRegressor {
    pub(super) fn fit(
        x: &DenseMatrix<f64>,
        y: &[f64],
        p: &ForestParams,
        seed: u64,
        width: usize,
    ) -> Result<Self> {
        let m = p.features_per_split(width, false);
        let trees = grow_forest(x, &Target::Values(y), p, seed, m)?;
        Ok(Self {
            trees,
            compiled: Lazy::default(),
        })
    }

    /// Mean of the trees' predictions.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Vec<f64> {
        predict_mean(&self.trees, &self.compiled, x, 1)
    }

    /// Summed impurity decreases of the trees.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        summed_importances(&self.trees, |t| Some(t.gains().to_vec()))
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
