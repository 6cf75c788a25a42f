//! Typed hyperparameters of each algorithm, with defaults and checks. Each
//! struct rejects unknown keys, so a typo names the valid ones.

use serde::{Deserialize, Serialize};

use crate::error::{Result, params};

/// `logistic_regression`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticParams {
    /// L2 regularisation strength (0: none). scikit-learn's `C` is
    /// `1 / alpha`; the default 1 is scikit-learn's `C = 1`.
    pub alpha: f64,
    /// L-BFGS iterations at most (scikit-learn's `max_iter`).
    pub max_iter: usize,
    /// Stop when the gradient's norm is below this (scikit-learn's `tol`).
    pub tol: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iter: 100,
            tol: 1e-4,
        }
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

    /// The `max_features` rule used for a task when none is configured
    /// (scikit-learn's defaults), so that cards show the value used.
    pub(super) fn with_task_defaults(mut self, classification: bool) -> Self {
        if self.max_features.is_none() {
            let rule = if classification { "sqrt" } else { "all" };
            self.max_features = Some(MaxFeatures::Rule(rule.into()));
        }
        self
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

/// The kernel of `svm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelName {
    /// Dot product.
    Linear,
    /// Radial basis function.
    Rbf,
    /// Polynomial.
    Poly,
    /// Hyperbolic tangent.
    Sigmoid,
}

/// How `svm`'s γ is chosen, as in scikit-learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaRule {
    /// `1 / (features × variance of the training matrix)`.
    Scale,
    /// `1 / features`.
    Auto,
}

impl GammaRule {
    /// γ for `features` columns whose values have `variance`.
    pub fn gamma(self, features: usize, variance: f64) -> f64 {
        let features = features.max(1) as f64;
        match self {
            Self::Scale if variance > 0.0 => 1.0 / (features * variance),
            Self::Scale | Self::Auto => 1.0 / features,
        }
    }
}

/// `svm`'s γ: a number or a rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Gamma {
    /// A fixed γ > 0.
    Value(f64),
    /// `scale` or `auto`.
    Rule(GammaRule),
}

/// `svm`: support vector classifier (one-vs-one over class pairs) or
/// epsilon-insensitive regressor, solved by smartcore's SMO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SvmParams {
    /// `linear`, `rbf`, `poly` or `sigmoid`.
    pub kernel: KernelName,
    /// Penalty on margin violations (> 0).
    pub c: f64,
    /// Kernel coefficient for `rbf`, `poly`, `sigmoid`: a number, `scale` or `auto`.
    pub gamma: Gamma,
    /// Degree of `poly`.
    pub degree: f64,
    /// Constant term of `poly` and `sigmoid`.
    pub coef0: f64,
    /// Width of the no-penalty tube (regression).
    pub epsilon: f64,
    /// Solver tolerance (> 0).
    pub tol: f64,
    /// Passes of the classification solver over the data (≥ 1).
    pub epochs: usize,
}

impl<'de> Deserialize<'de> for Gamma {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Gamma;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number > 0, 'scale' or 'auto'")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Gamma, E> {
                match v {
                    "scale" => Ok(Gamma::Rule(GammaRule::Scale)),
                    "auto" => Ok(Gamma::Rule(GammaRule::Auto)),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            kernel: KernelName::Rbf,
            c: 1.0,
            gamma: Gamma::Rule(GammaRule::Scale),
            degree: 3.0,
            coef0: 0.0,
            epsilon: 0.1,
            tol: 1e-3,
            epochs: 2,
        }
    }
}

impl SvmParams {
    pub(super) fn check(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.c) {
            return Err(params("params.c", "must be > 0"));
        }
        if let Gamma::Value(g) = self.gamma
            && !positive(g)
        {
            return Err(params("params.gamma", "must be > 0, 'scale' or 'auto'"));
        }
        if !(self.degree.is_finite() && self.degree >= 1.0) {
            return Err(params("params.degree", "must be ≥ 1"));
        }
        if !self.coef0.is_finite() {
            return Err(params("params.coef0", "must be a number"));
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(params("params.epsilon", "must be ≥ 0"));
        }
        if !positive(self.tol) {
            return Err(params("params.tol", "must be > 0"));
        }
        if self.epochs == 0 {
            return Err(params("params.epochs", "must be at least 1"));
        }
        Ok(())
    }
}
