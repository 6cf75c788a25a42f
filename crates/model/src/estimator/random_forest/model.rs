//! Random forests trained on both cores: [`hist_tree`] trees (bootstrap
//! rows, `max_features` candidates per split) grown on rayon, each with its
//! own seed derived from the master seed, so the same seed gives the same
//! model whatever the thread count; the features are binned once for the
//! whole forest. Class probabilities are the mean of the trees' leaf
//! distributions, as in scikit-learn. `extra_trees` fits the same types
//! the extremely randomized way ([`Randomness::ExtraTrees`]).
//!
//! [`hist_tree`]: crate::estimator::hist_tree

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::ForestParams;
use crate::estimator::compiled::{CompiledForest, Lazy};
use crate::estimator::ensemble::{grow, summed_importances};
use crate::estimator::hist_tree::{Binned, Growth, LANES, Target, Tree, bootstrap};
use crate::estimator::{Proba, rows};
use crate::error::Result;

/// A fitted classification forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestClassifier {
    trees: Vec<Tree>,
    classes: usize,
    /// The trees compiled for prediction, on first use.
    #[serde(skip)]
    compiled: Lazy<Option<CompiledForest>>,
}

/// A fitted regression forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestRegressor {
    trees: Vec<Tree>,
    #[serde(skip)]
    compiled: Lazy<Option<CompiledForest>>,
}

/// Checks decoded forest trees: at least one, each valid for `features`
/// inputs and `width` leaf values (class probabilities for `classes`).
fn validate_trees(
    trees: &[Tree],
    features: usize,
    width: usize,
    classes: bool,
) -> Result<(), String> {
    if trees.is_empty() {
        return Err("the forest has no trees".into());
    }
    trees
        .iter()
        .try_for_each(|t| t.validate(features, width, classes))
}

impl ForestClassifier {
    /// Checks a decoded forest for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.classes != classes {
            return Err(format!("{} classes, the model has {classes}", self.classes));
        }
        validate_trees(&self.trees, features, classes, true)
    }
}

impl ForestRegressor {
    /// Checks a decoded forest for `features` inputs.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        validate_trees(&self.trees, features, 1, false)
    }

    /// The mean of the trees' values, as an ONNX node.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        onnx_mean(&self.trees, 1, graph, x)
    }
}


/// Where a forest's trees differ from each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Randomness {
    /// A random forest: bootstrap rows, best splits.
    Bootstrap,
    /// Extremely randomized trees: every row, one random cut per feature
    /// tried (scikit-learn's `ExtraTrees*` defaults).
    ExtraTrees,
}

/// Grows `p.n_trees` trees on `x`.
fn grow_forest(
    x: &DenseMatrix<f64>,
    target: &Target<'_>,
    p: &ForestParams,
    seed: u64,
    m: usize,
    randomness: Randomness,
) -> Result<Vec<Tree>> {
    let data = Binned::new(x);
    let growth = Growth {
        max_depth: p.max_depth,
        min_samples_leaf: p.min_samples_leaf,
        min_samples_split: p.min_samples_split,
        max_features: Some(m),
        parallel: false,
        random_splits: randomness == Randomness::ExtraTrees,
    };
    grow(p.n_trees, seed, |tree_seed| {
        let rows = match randomness {
            Randomness::Bootstrap => bootstrap(data.rows(), tree_seed),
            Randomness::ExtraTrees => (0..data.rows() as u32).collect(),
        };
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
    compiled: &Lazy<Option<CompiledForest>>,
    x: &DenseMatrix<f64>,
    width: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; x.shape().0 * width];
    match compiled.get_or_init(|| CompiledForest::new(trees, x.shape().1)) {
        Some(compiled) => compiled.mean_of_leaves(trees, x, width, &mut out),
        None => mean_of_leaves(trees, x, width, &mut out),
    }
    out
}

impl ForestClassifier {
    pub(crate) fn fit(
        x: &DenseMatrix<f64>,
        y: &[i32],
        classes: usize,
        p: &ForestParams,
        seed: u64,
        randomness: Randomness,
    ) -> Result<Self> {
        let m = p.features_per_split(x.shape().1, true);
        let target = Target::Classes(y, classes, p.criterion);
        let trees = grow_forest(x, &target, p, seed, m, randomness)?;
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

    /// The mean of the trees' class distributions, as an ONNX node.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        onnx_mean(&self.trees, self.classes, graph, x)
    }
}

/// The mean of `trees`' leaf values (`width` per leaf) as one
/// `TreeEnsemble` node over `x` (each tree's weights divided by the count).
fn onnx_mean(trees: &[Tree], width: usize, graph: &mut crate::onnx::Graph, x: &str) -> String {
    let mut ensemble = crate::onnx::Ensemble::default();
    let scale = 1.0 / trees.len() as f64;
    for tree in trees {
        for value in 0..width {
            tree.onnx(&mut ensemble, (value, width), value, scale);
        }
    }
    ensemble.finish(graph, x, width)
}

impl ForestRegressor {
    pub(crate) fn fit(
        x: &DenseMatrix<f64>,
        y: &[f64],
        p: &ForestParams,
        seed: u64,
        randomness: Randomness,
    ) -> Result<Self> {
        let m = p.features_per_split(x.shape().1, false);
        let trees = grow_forest(x, &Target::Values(y), p, seed, m, randomness)?;
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

