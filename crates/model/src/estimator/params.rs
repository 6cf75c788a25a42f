//! Typed hyperparameters of each algorithm, with defaults and checks. Each
//! struct rejects unknown keys, so a typo names the valid ones.

use serde::{Deserialize, Serialize};

use crate::error::{Result, params};

/// `logistic_regression`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticParams {
    /// L2 regularisation strength (0: none). scikit-learn's `C` is `1 / alpha`.
    pub alpha: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self { alpha: 0.0 }
    }
}

/// `linear_regression` (ordinary least squares; no hyperparameters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearParams {}

/// `ridge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RidgeParams {
    /// L2 regularisation strength.
    pub alpha: f64,
}

impl Default for RidgeParams {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

/// `lasso` (L1-regularised least squares, coordinate descent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LassoParams {
    /// L1 regularisation strength.
    pub alpha: f64,
    /// Maximum coordinate-descent iterations.
    pub max_iter: usize,
    /// Convergence tolerance.
    pub tol: f64,
}

impl Default for LassoParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

/// `elastic_net` (L1 + L2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticNetParams {
    /// Overall regularisation strength.
    pub alpha: f64,
    /// Share of L1 in the penalty, in [0, 1].
    pub l1_ratio: f64,
    /// Maximum iterations.
    pub max_iter: usize,
    /// Convergence tolerance.
    pub tol: f64,
}

impl Default for ElasticNetParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l1_ratio: 0.5,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

/// `gradient_boosting` (smartcore's gradient-boosted regression trees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoostingParams {
    /// Boosting rounds.
    pub n_estimators: usize,
    /// Shrinkage per round.
    pub learning_rate: f64,
    /// Depth of each tree.
    pub max_depth: u16,
    /// Minimum hessian weight in a child.
    pub min_child_weight: usize,
    /// L2 regularisation of leaf weights.
    pub lambda: f64,
    /// Minimum loss reduction to split.
    pub gamma: f64,
    /// Share of rows sampled per round, in (0, 1].
    pub subsample: f64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            learning_rate: 0.1,
            max_depth: 3,
            min_child_weight: 1,
            lambda: 1.0,
            gamma: 0.0,
            subsample: 1.0,
        }
    }
}

/// Split quality measure of classification trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Gini impurity.
    #[default]
    Gini,
    /// Information gain.
    Entropy,
    /// Misclassification rate.
    ClassificationError,
}

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

/// Features tried at each split of a forest's trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxFeatures {
    /// `sqrt`, `log2` or `all`.
    Rule(String),
    /// An exact count.
    Count(usize),
}

/// `random_forest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForestParams {
    /// Number of trees.
    pub n_trees: u16,
    /// Maximum depth of each tree.
    pub max_depth: Option<u16>,
    /// Minimum rows in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum rows to split a node.
    pub min_samples_split: usize,
    /// Features tried per split: `sqrt` (classification default), `all`
    /// (regression default, as scikit-learn), `log2`, or a number.
    pub max_features: Option<MaxFeatures>,
    /// Split criterion (classification only).
    pub criterion: Criterion,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            criterion: Criterion::Gini,
        }
    }
}

/// Neighbour weighting of `knn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Every neighbour counts the same.
    #[default]
    Uniform,
    /// Closer neighbours count more (1 / distance).
    Distance,
}

/// `knn`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnnParams {
    /// Neighbours consulted.
    pub k: usize,
    /// Their weighting.
    pub weights: Weights,
}

impl Default for KnnParams {
    fn default() -> Self {
        Self {
            k: 5,
            weights: Weights::Uniform,
        }
    }
}

/// `gaussian_nb` (class priors from the data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NbParams {
    /// Fraction of the largest feature variance added to every variance (as scikit-learn).
    pub var_smoothing: f64,
}

impl Default for NbParams {
    fn default() -> Self {
        Self {
            var_smoothing: 1e-9,
        }
    }
}

pub(super) fn check_tree(max_depth: Option<u16>, min_leaf: usize, min_split: usize) -> Result<()> {
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

impl ForestParams {
    pub(super) fn check(&self) -> Result<()> {
        if self.n_trees == 0 {
            return Err(params("params.n_trees", "must be at least 1"));
        }
        check_tree(
            self.max_depth,
            self.min_samples_leaf,
            self.min_samples_split,
        )?;
        match &self.max_features {
            Some(MaxFeatures::Rule(rule)) if !["sqrt", "log2", "all"].contains(&rule.as_str()) => {
                Err(params(
                    "params.max_features",
                    format!("'{rule}' is not one of 'sqrt', 'log2', 'all' or a number"),
                ))
            }
            Some(MaxFeatures::Count(0)) => Err(params("params.max_features", "must be at least 1")),
            _ => Ok(()),
        }
    }

    /// Features per split for `width` features.
    pub(super) fn features_per_split(&self, width: usize, classification: bool) -> usize {
        let rule = match &self.max_features {
            Some(MaxFeatures::Count(n)) => return (*n).clamp(1, width.max(1)),
            Some(MaxFeatures::Rule(rule)) => rule.as_str(),
            None if classification => "sqrt",
            None => "all",
        };
        let n = match rule {
            "sqrt" => (width as f64).sqrt().floor() as usize,
            "log2" => (width as f64).log2().floor() as usize,
            _ => width,
        };
        n.clamp(1, width.max(1))
    }
}
