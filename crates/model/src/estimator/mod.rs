//! Estimators: one enum of typed, validated hyperparameters
//! ([`EstimatorParams`], unfitted) and one enum of fitted models
//! ([`Fitted`]). Swapping an implementation touches only this module (as
//! when smartcore's trees and logistic regression gave way to `hist_tree` and
//! `logistic`): features, artifact format and inference see the enums.

mod compiled;
mod foreign;
mod forest;
mod hist_tree;
mod knn;
mod linear;
mod logistic;
mod naive_bayes;
mod params;
mod svm;
mod tree;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::xgboost::{XGRegressor, XGRegressorParameters};

pub use forest::{ExtraTrees, ForestClassifier, ForestRegressor};
pub use knn::Knn;
use knn::KnnTarget;
pub use linear::LinearModel;
use linear::Penalty;
pub use logistic::Logistic;
pub use naive_bayes::GaussianNb;
pub use params::{
    BoostingParams, Criterion, ElasticNetParams, ForestParams, Gamma, GammaRule, KernelName,
    KnnParams, LassoParams, LinearParams, LogisticParams, MaxFeatures, NbParams, RidgeParams,
    SvmParams, TreeParams, Weights,
};
pub use svm::{Kernel, SvmClassifier, SvmRegressor};
pub use tree::DecisionTree;

use crate::error::{Error, Result, params as invalid};

/// What is predicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A class label (with probabilities where the estimator has them).
    Classification,
    /// A number.
    Regression,
}

/// Algorithm names as written in config.
pub const ALGORITHMS: &[&str] = &[
    "logistic_regression",
    "linear_regression",
    "ridge",
    "lasso",
    "elastic_net",
    "decision_tree",
    "random_forest",
    "extra_trees",
    "gradient_boosting",
    "knn",
    "svm",
    "gaussian_nb",
];

/// Unfitted estimator: algorithm plus validated hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", content = "params", rename_all = "snake_case")]
pub enum EstimatorParams {
    /// Logistic regression (classification).
    LogisticRegression(LogisticParams),
    /// Ordinary least squares (regression).
    LinearRegression(LinearParams),
    /// Ridge regression (regression).
    Ridge(RidgeParams),
    /// Lasso (regression).
    Lasso(LassoParams),
    /// Elastic net (regression).
    ElasticNet(ElasticNetParams),
    /// Extremely randomized trees (regression).
    ExtraTrees(ForestParams),
    /// Gradient-boosted trees (regression).
    GradientBoosting(BoostingParams),
    /// CART decision tree (both).
    DecisionTree(TreeParams),
    /// Random forest (both).
    RandomForest(ForestParams),
    /// k nearest neighbours (both).
    Knn(KnnParams),
    /// Support vector machine (both).
    Svm(SvmParams),
    /// Gaussian naive Bayes (classification).
    GaussianNb(NbParams),
}

fn from_value<T: serde::de::DeserializeOwned + Default>(params: &serde_json::Value) -> Result<T> {
    if params.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(params.clone())
        .map_err(|e| invalid("params", e.to_string().replace('`', "'")))
}

impl EstimatorParams {
    /// Builds and checks the parameters of `algorithm` for `task` from a
    /// JSON/YAML mapping (null: all defaults). Unknown keys name the valid ones.
    pub fn new(algorithm: &str, task: Task, params: &serde_json::Value) -> Result<Self> {
        let estimator = match algorithm {
            "logistic_regression" => Self::LogisticRegression(from_value(params)?),
            "linear_regression" => Self::LinearRegression(from_value(params)?),
            "ridge" => Self::Ridge(from_value(params)?),
            "lasso" => Self::Lasso(from_value(params)?),
            "elastic_net" => Self::ElasticNet(from_value(params)?),
            "extra_trees" => Self::ExtraTrees(from_value(params)?),
            "gradient_boosting" => Self::GradientBoosting(from_value(params)?),
            "decision_tree" => Self::DecisionTree(from_value(params)?),
            "random_forest" => Self::RandomForest(from_value(params)?),
            "knn" => Self::Knn(from_value(params)?),
            "svm" => Self::Svm(from_value(params)?),
            "gaussian_nb" => Self::GaussianNb(from_value(params)?),
            other => {
                return Err(invalid(
                    "algorithm",
                    format!(
                        "unknown algorithm '{other}', expected one of {}",
                        ALGORITHMS.join(", ")
                    ),
                ));
            }
        };
        estimator.check(task)?;
        Ok(estimator)
    }

    /// The parameters with every task-dependent default made explicit (a
    /// forest's `max_features: sqrt` for classification, `all` for
    /// regression), as recorded in cards and artifacts.
    pub fn with_task_defaults(self, task: Task) -> Self {
        let classification = task == Task::Classification;
        match self {
            Self::RandomForest(p) => Self::RandomForest(p.with_task_defaults(classification)),
            Self::ExtraTrees(p) => Self::ExtraTrees(p.with_task_defaults(classification)),
            other => other,
        }
    }

    /// The algorithm's config name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LogisticRegression(_) => "logistic_regression",
            Self::LinearRegression(_) => "linear_regression",
            Self::Ridge(_) => "ridge",
            Self::Lasso(_) => "lasso",
            Self::ElasticNet(_) => "elastic_net",
            Self::ExtraTrees(_) => "extra_trees",
            Self::GradientBoosting(_) => "gradient_boosting",
            Self::DecisionTree(_) => "decision_tree",
            Self::RandomForest(_) => "random_forest",
            Self::Knn(_) => "knn",
            Self::Svm(_) => "svm",
            Self::GaussianNb(_) => "gaussian_nb",
        }
    }

    /// Checks the parameters and that the algorithm supports `task`.
    pub fn check(&self, task: Task) -> Result<()> {
        let classification_only = matches!(self, Self::LogisticRegression(_) | Self::GaussianNb(_));
        let regression_only = matches!(
            self,
            Self::LinearRegression(_)
                | Self::Ridge(_)
                | Self::Lasso(_)
                | Self::ElasticNet(_)
                | Self::ExtraTrees(_)
                | Self::GradientBoosting(_)
        );
        if (classification_only && task == Task::Regression)
            || (regression_only && task == Task::Classification)
        {
            return Err(invalid(
                "algorithm",
                format!("{} does not do {task:?}", self.name()).to_lowercase(),
            ));
        }
        match self {
            Self::LogisticRegression(p) if !nonnegative(p.alpha) => {
                Err(invalid("params.alpha", "must be ≥ 0"))
            }
            Self::LogisticRegression(p)
                if p.max_iter == 0 || !(p.tol.is_finite() && p.tol > 0.0) =>
            {
                Err(invalid("params", "max_iter must be at least 1 and tol > 0"))
            }
            Self::Ridge(p) if !nonnegative(p.alpha) => Err(invalid("params.alpha", "must be ≥ 0")),
            Self::DecisionTree(p) => {
                params::check_tree(p.max_depth, p.min_samples_leaf, p.min_samples_split)
            }
            Self::RandomForest(p) | Self::ExtraTrees(p) => p.check(),
            Self::Lasso(p) if !nonnegative(p.alpha) || p.max_iter == 0 => Err(invalid(
                "params",
                "alpha must be ≥ 0 and max_iter at least 1",
            )),
            Self::ElasticNet(p)
                if !nonnegative(p.alpha)
                    || !(0.0..=1.0).contains(&p.l1_ratio)
                    || p.max_iter == 0 =>
            {
                Err(invalid(
                    "params",
                    "alpha must be ≥ 0, l1_ratio in [0, 1] and max_iter at least 1",
                ))
            }
            Self::GradientBoosting(p)
                if p.n_estimators == 0
                    || p.max_depth == 0
                    || !(p.subsample > 0.0 && p.subsample <= 1.0)
                    || !nonnegative(p.learning_rate) =>
            {
                Err(invalid(
                    "params",
                    "n_estimators and max_depth must be at least 1, subsample in (0, 1], learning_rate ≥ 0",
                ))
            }
            Self::Knn(p) if p.k == 0 => Err(invalid("params.k", "must be at least 1")),
            Self::Svm(p) => p.check(),
            Self::GaussianNb(p) if !nonnegative(p.var_smoothing) => {
                Err(invalid("params.var_smoothing", "must be ≥ 0"))
            }
            _ => Ok(()),
        }
    }

    /// Fits on a row-major matrix. `y` holds class indexes (classification)
    /// or values (regression).
    pub fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        let width = x.shape().1;
        let fitted = match (self, y) {
            (Self::LogisticRegression(p), Target::Classes(y, classes)) => {
                Fitted::Logistic(Logistic::fit(x, y, *classes, p)?)
            }
            (Self::LinearRegression(_), Target::Values(y)) => Fitted::Linear(LinearModel::fit(
                x,
                y,
                Penalty::Ridge { alpha: 0.0 },
                self.name(),
            )?),
            (Self::Ridge(p), Target::Values(y)) => Fitted::Ridge(LinearModel::fit(
                x,
                y,
                Penalty::Ridge { alpha: p.alpha },
                self.name(),
            )?),
            (Self::Lasso(p), Target::Values(y)) => {
                let penalty = Penalty::ElasticNet {
                    alpha: p.alpha,
                    l1_ratio: 1.0,
                    max_iter: p.max_iter,
                    tol: p.tol,
                };
                Fitted::Lasso(LinearModel::fit(x, y, penalty, self.name())?)
            }
            (Self::ElasticNet(p), Target::Values(y)) => {
                let penalty = Penalty::ElasticNet {
                    alpha: p.alpha,
                    l1_ratio: p.l1_ratio,
                    max_iter: p.max_iter,
                    tol: p.tol,
                };
                Fitted::ElasticNet(LinearModel::fit(x, y, penalty, self.name())?)
            }
            (Self::ExtraTrees(p), Target::Values(y)) => {
                Fitted::ExtraTrees(ExtraTrees::fit(x, y, p, seed, width)?)
            }
            (Self::GradientBoosting(p), Target::Values(y)) => {
                let params = XGRegressorParameters::default()
                    .with_n_estimators(p.n_estimators)
                    .with_learning_rate(p.learning_rate)
                    .with_max_depth(p.max_depth)
                    .with_min_child_weight(p.min_child_weight)
                    .with_lambda(p.lambda)
                    .with_gamma(p.gamma)
                    .with_subsample(p.subsample)
                    .with_seed(seed);
                Fitted::GradientBoosting(trained(self.name(), XGRegressor::fit(x, y, params))?)
            }
            (Self::DecisionTree(p), Target::Classes(y, classes)) => {
                let target = hist_tree::Target::Classes(y, *classes, p.criterion);
                Fitted::TreeClassifier(DecisionTree::fit(x, &target, p, seed))
            }
            (Self::DecisionTree(p), Target::Values(y)) => {
                Fitted::TreeRegressor(DecisionTree::fit(x, &hist_tree::Target::Values(y), p, seed))
            }
            (Self::RandomForest(p), Target::Classes(y, classes)) => {
                Fitted::ForestClassifier(ForestClassifier::fit(x, y, *classes, p, seed, width)?)
            }
            (Self::RandomForest(p), Target::Values(y)) => {
                Fitted::ForestRegressor(ForestRegressor::fit(x, y, p, seed, width)?)
            }
            (Self::Knn(p), Target::Classes(y, classes)) => {
                let y = y.iter().map(|&c| c as u32).collect();
                let target = KnnTarget::Classes(y, *classes);
                Fitted::KnnClassifier(Knn::fit(x, target, p.k, p.weights)?)
            }
            (Self::Knn(p), Target::Values(y)) => {
                let target = KnnTarget::Values(y.clone());
                Fitted::KnnRegressor(Knn::fit(x, target, p.k, p.weights)?)
            }
            (Self::Svm(p), Target::Classes(y, classes)) => {
                Fitted::SvmClassifier(SvmClassifier::fit(x, y, *classes, p, seed)?)
            }
            (Self::Svm(p), Target::Values(y)) => Fitted::SvmRegressor(SvmRegressor::fit(x, y, p)?),
            (Self::GaussianNb(p), Target::Classes(y, classes)) => {
                Fitted::GaussianNb(GaussianNb::fit(x, y, *classes, p.var_smoothing)?)
            }
            _ => {
                return Err(invalid(
                    "algorithm",
                    format!("{} cannot fit this target", self.name()),
                ));
            }
        };
        Ok(fitted)
    }
}

/// The training target, encoded.
#[derive(Debug, Clone)]
pub enum Target {
    /// Class indexes `0..n_classes` and the number of classes.
    Classes(Vec<i32>, usize),
    /// Numbers.
    Values(Vec<f64>),
}

/// A fitted estimator.
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum Fitted {
    /// Logistic regression.
    Logistic(Logistic),
    /// Least squares.
    Linear(LinearModel),
    /// Ridge.
    Ridge(LinearModel),
    /// Lasso.
    Lasso(LinearModel),
    /// Elastic net.
    ElasticNet(LinearModel),
    /// Extra trees.
    ExtraTrees(ExtraTrees),
    /// Gradient boosting.
    GradientBoosting(XGRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>),
    /// Classification tree.
    TreeClassifier(DecisionTree),
    /// Regression tree.
    TreeRegressor(DecisionTree),
    /// Classification forest.
    ForestClassifier(ForestClassifier),
    /// Regression forest.
    ForestRegressor(ForestRegressor),
    /// kNN classifier.
    KnnClassifier(Knn),
    /// kNN regressor.
    KnnRegressor(Knn),
    /// Support vector classifier.
    SvmClassifier(SvmClassifier),
    /// Support vector regressor.
    SvmRegressor(SvmRegressor),
    /// Gaussian naive Bayes.
    GaussianNb(GaussianNb),
}

/// What a fitted estimator returns for a matrix.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Class indexes, and probabilities when available.
    Classes(Vec<usize>, Option<Proba>),
    /// Values.
    Values(Vec<f64>),
}

/// Class probabilities of many rows in one buffer, row after row
/// (`values[row * classes + class]`): no allocation per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Proba {
    /// Number of classes (row length).
    pub classes: usize,
    /// The probabilities, `rows × classes`.
    pub values: Vec<f64>,
}

impl Proba {
    /// From one vector per row, each `classes` long.
    pub fn from_rows(rows: Vec<Vec<f64>>, classes: usize) -> Self {
        Self {
            classes,
            values: rows.into_iter().flatten().collect(),
        }
    }

    /// The rows' probabilities, in row order.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, f64> {
        self.values.chunks_exact(self.classes.max(1))
    }

    /// The probabilities of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.classes..(i + 1) * self.classes]
    }

    /// The most likely class of every row.
    pub fn labels(&self) -> Vec<usize> {
        self.iter().map(argmax).collect()
    }
}

impl Fitted {
    /// Predicts every row of `x`.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        let rows = x.shape().0;
        let from_proba = |proba: Proba| Output::Classes(proba.labels(), Some(proba));
        let from_rows =
            |proba: Vec<Vec<f64>>, classes: usize| from_proba(Proba::from_rows(proba, classes));
        Ok(match self {
            Fitted::Logistic(m) => from_proba(m.predict_proba(x)),
            Fitted::Linear(m) | Fitted::Ridge(m) | Fitted::Lasso(m) | Fitted::ElasticNet(m) => {
                Output::Values(m.predict(x))
            }
            Fitted::ExtraTrees(m) => Output::Values(guarded("extra_trees", || m.predict(x, rows))?),
            Fitted::GradientBoosting(m) => Output::Values(guarded("gradient_boosting", || {
                trained("gradient_boosting", m.predict(x))
            })?),
            Fitted::TreeClassifier(m) => from_rows(m.predict(x), m.width()),
            Fitted::TreeRegressor(m) => {
                Output::Values(m.predict(x).into_iter().map(|v| v[0]).collect())
            }
            Fitted::ForestClassifier(m) => from_proba(m.predict_proba(x)),
            Fitted::ForestRegressor(m) => Output::Values(m.predict(x)),
            Fitted::KnnClassifier(m) => from_proba(m.predict_proba(x)?),
            Fitted::KnnRegressor(m) => Output::Values(m.predict_values(x)?),
            Fitted::SvmClassifier(m) => Output::Classes(m.predict(x), None),
            Fitted::SvmRegressor(m) => Output::Values(m.predict(x)),
            Fitted::GaussianNb(m) => {
                let proba = m.predict_proba(x);
                let classes = proba.first().map_or(0, Vec::len);
                from_rows(proba, classes)
            }
        })
    }

    /// Whether [`predict`](Self::predict) gives class probabilities: every
    /// classifier except the SVM, whose margins are not probabilities.
    pub fn has_probabilities(&self) -> bool {
        matches!(
            self,
            Fitted::Logistic(_)
                | Fitted::TreeClassifier(_)
                | Fitted::ForestClassifier(_)
                | Fitted::KnnClassifier(_)
                | Fitted::GaussianNb(_)
        )
    }
}
impl Fitted {
    /// Checks a decoded estimator's structure against the model around it:
    /// `features` inputs and `classes` classes (0 for regression). Indexes,
    /// lengths and counts that prediction relies on are checked here, so a
    /// crafted artifact whose checksum is valid is refused with one line
    /// instead of panicking at prediction. smartcore's own types (extra
    /// trees, gradient boosting) keep their fields private; their
    /// predictions run guarded instead (see [`predict`](Self::predict)).
    pub fn validate(&self, features: usize, classes: usize) -> Result<()> {
        let checked = match self {
            Fitted::Logistic(m) => m.validate(features, classes),
            Fitted::Linear(m) | Fitted::Ridge(m) | Fitted::Lasso(m) | Fitted::ElasticNet(m) => {
                regression(classes).and_then(|()| m.validate(features))
            }
            Fitted::ExtraTrees(m) => regression(classes).and_then(|()| m.validate(features)),
            Fitted::GradientBoosting(m) => regression(classes).and_then(|()| {
                let value = serde_json::to_value(m).map_err(|e| e.to_string())?;
                foreign::check_boosted_trees(&value, features)
            }),
            Fitted::TreeClassifier(m) => m.validate(features, classes),
            Fitted::TreeRegressor(m) => regression(classes).and_then(|()| m.validate(features, 0)),
            Fitted::ForestClassifier(m) => m.validate(features, classes),
            Fitted::ForestRegressor(m) => regression(classes).and_then(|()| m.validate(features)),
            Fitted::KnnClassifier(m) => m.validate(features, classes),
            Fitted::KnnRegressor(m) => regression(classes).and_then(|()| m.validate(features, 0)),
            Fitted::SvmClassifier(m) => m.validate(features, classes),
            Fitted::SvmRegressor(m) => regression(classes).and_then(|()| m.validate(features)),
            Fitted::GaussianNb(m) => m.validate(features, classes),
        };
        checked.map_err(|problem| Error::Artifact(format!("malformed model: {problem}")))
    }
}

/// A regressor's model must have no classes.
fn regression(classes: usize) -> std::result::Result<(), String> {
    match classes {
        0 => Ok(()),
        n => Err(format!("a regressor in a model with {n} classes")),
    }
}

impl Fitted {
    /// Impurity-based feature importances (summing to 1) of tree models, in
    /// feature order; `None` for models without them.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        let raw = match self {
            Fitted::TreeClassifier(m) | Fitted::TreeRegressor(m) => Some(m.feature_importances()),
            Fitted::ForestClassifier(m) => m.feature_importances(),
            Fitted::ForestRegressor(m) => m.feature_importances(),
            Fitted::ExtraTrees(m) => m.feature_importances(),
            _ => None,
        }?;
        let total: f64 = raw.iter().sum();
        (total > 0.0).then(|| raw.iter().map(|v| v / total).collect())
    }
}

/// True for finite values ≥ 0 (false for NaN).
fn nonnegative(value: f64) -> bool {
    value.is_finite() && value >= 0.0
}

/// A seeded stream of numbers in [0, 1) for the estimators' tests (an LCG:
/// the tests need fixed data, not good randomness).
#[cfg(test)]
fn test_uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// The rows of `x` as slices. Invariant: every matrix in `model` is built
/// row-major (`DenseMatrix::new(.., false)`), so its values are its rows end
/// to end.
pub(crate) fn rows(x: &DenseMatrix<f64>) -> std::slice::ChunksExact<'_, f64> {
    let width = x.shape().1.max(1);
    x.iter().as_slice().chunks_exact(width)
}

/// Maps smartcore's `Failed` into [`Error::Estimator`].
/// Runs a smartcore prediction, whose fitted types cannot be validated from
/// outside: a panic (a decoded model with inconsistent private fields)
/// becomes an error naming the estimator instead of aborting the process.
fn guarded<T>(algorithm: &'static str, predict: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(predict)).unwrap_or_else(|_| {
        Err(Error::Artifact(format!(
            "malformed model: {algorithm} failed to predict (is the artifact crafted or damaged?)"
        )))
    })
}

pub(crate) fn trained<T>(
    algorithm: &'static str,
    result: Result<T, smartcore::error::Failed>,
) -> Result<T> {
    result.map_err(|e| Error::Estimator {
        algorithm,
        message: e.to_string(),
    })
}
