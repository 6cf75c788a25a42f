//! Estimators, one folder each. A folder holds an algorithm's
//! hyperparameters with their checks (an [`Algorithm`]), its fitted model
//! (an [`Estimator`]) and its tests; the engines several share (histogram
//! trees, the compiled tree walker, the linear solvers) sit beside them.
//! [`EstimatorParams`] (unfitted, what config and cards hold) and [`Fitted`]
//! (what artifacts hold) are generated from the one list below, so adding an
//! estimator is a folder plus a line, and a missed method does not compile.

#[macro_use]
mod dispatch;
mod algorithm;
mod compiled;
mod ensemble;
mod hist_tree;
pub mod linear;
mod shape;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use algorithm::{Algorithm, Estimator, Validation};
pub use hist_tree::Criterion;

use crate::error::{Error, Result, params as invalid};

pub use records::training::Task;

// The estimators: folder (a public module), config variant with its
// parameters, and the fitted variants its `fit` returns. Adding one is its
// folder plus a line.
estimators! {
    /// Logistic regression (classification).
    logistic_regression: LogisticRegression(logistic_regression::LogisticParams) => [Logistic(logistic_regression::Logistic)],
    /// Ordinary least squares (regression).
    linear_regression: LinearRegression(linear_regression::LinearParams) => [Linear(linear::LinearModel)],
    /// Ridge regression (regression).
    ridge: Ridge(ridge::RidgeParams) => [Ridge(linear::LinearModel)],
    /// Lasso (regression).
    lasso: Lasso(lasso::LassoParams) => [Lasso(linear::LinearModel)],
    /// Elastic net (regression).
    elastic_net: ElasticNet(elastic_net::ElasticNetParams) => [ElasticNet(linear::LinearModel)],
    /// Extremely randomized trees (both).
    extra_trees: ExtraTrees(extra_trees::ExtraTreesParams) => [ExtraTreesClassifier(random_forest::ForestClassifier), ExtraTreesRegressor(random_forest::ForestRegressor)],
    /// Gradient-boosted trees (both).
    gradient_boosting: GradientBoosting(gradient_boosting::BoostingParams) => [Boosted(gradient_boosting::Booster)],
    /// CART decision tree (both).
    decision_tree: DecisionTree(decision_tree::TreeParams) => [TreeClassifier(decision_tree::DecisionTree), TreeRegressor(decision_tree::DecisionTree)],
    /// Random forest (both).
    random_forest: RandomForest(random_forest::ForestParams) => [ForestClassifier(random_forest::ForestClassifier), ForestRegressor(random_forest::ForestRegressor)],
    /// k nearest neighbours (both).
    knn: Knn(knn::KnnParams) => [KnnClassifier(knn::Knn), KnnRegressor(knn::Knn)],
    /// Support vector machine (both).
    svm: Svm(svm::SvmParams) => [SvmClassifier(svm::SvmClassifier), SvmRegressor(svm::SvmRegressor)],
    /// Gaussian naive Bayes (classification).
    gaussian_nb: GaussianNb(gaussian_nb::NbParams) => [GaussianNb(gaussian_nb::GaussianNb)],
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
        let estimator = Self::parse(algorithm, params).unwrap_or_else(|| {
            Err(invalid(
                "algorithm",
                format!(
                    "unknown algorithm '{algorithm}', expected one of {}",
                    ALGORITHMS.join(", ")
                ),
            ))
        })?;
        estimator.check(task)?;
        Ok(estimator)
    }

    /// Checks the parameters and that the algorithm supports `task`.
    pub fn check(&self, task: Task) -> Result<()> {
        if !self.tasks().contains(&task) {
            return Err(invalid(
                "algorithm",
                format!("{} does not do {task:?}", self.name()).to_lowercase(),
            ));
        }
        self.check_values()
    }

    /// Fits on a row-major matrix. `y` holds class indexes (classification)
    /// or values (regression).
    pub fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        self.fit_with(x, y, None, seed)
    }

    /// [`fit`](Self::fit) with a validation set, which algorithms that stop
    /// early use instead of holding out training rows.
    pub fn fit_with(
        &self,
        x: &DenseMatrix<f64>,
        y: &Target,
        validation: Option<&Validation<'_>>,
        seed: u64,
    ) -> Result<Fitted> {
        let task = match y {
            Target::Classes(..) => Task::Classification,
            Target::Values(_) => Task::Regression,
        };
        self.check(task)?;
        self.fit_checked(x, y, validation, seed)
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
        self.model().predict(x)
    }

    /// Whether [`predict`](Self::predict) gives class probabilities: every
    /// classifier except the SVM, whose margins are not probabilities.
    pub fn has_probabilities(&self) -> bool {
        self.model().has_probabilities()
    }

    /// Checks a decoded estimator's structure against the model around it:
    /// `features` inputs and `classes` classes (0 for regression). Indexes,
    /// lengths and counts that prediction relies on are checked here, so a
    /// crafted artifact whose checksum is valid is refused with one line
    /// instead of panicking at prediction.
    pub fn validate(&self, features: usize, classes: usize) -> Result<()> {
        self.model()
            .validate(features, classes)
            .map_err(|problem| Error::Artifact(format!("malformed model: {problem}")))
    }

    /// Impurity- or gain-based feature importances (summing to 1) of tree
    /// models, in feature order; `None` for models without them.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        let raw = self.model().feature_importances()?;
        let total: f64 = raw.iter().sum();
        (total > 0.0).then(|| raw.iter().map(|v| v / total).collect())
    }
}

impl Fitted {
    /// What fitting recorded beyond the model (see
    /// [`Estimator::training_history`]).
    pub fn training_history(&self) -> Option<records::training::LossHistory> {
        self.model().training_history()
    }
}

/// The target a classifier needs, or an error naming the algorithm.
pub(crate) fn classes_of<'a>(algorithm: &str, y: &'a Target) -> Result<(&'a [i32], usize)> {
    match y {
        Target::Classes(y, classes) => Ok((y, *classes)),
        Target::Values(_) => Err(invalid(
            "algorithm",
            format!("{algorithm} does not do regression"),
        )),
    }
}

/// The target a regressor needs, or an error naming the algorithm.
pub(crate) fn values_of<'a>(algorithm: &str, y: &'a Target) -> Result<&'a [f64]> {
    match y {
        Target::Values(y) => Ok(y),
        Target::Classes(..) => Err(invalid(
            "algorithm",
            format!("{algorithm} does not do classification"),
        )),
    }
}

/// Class probabilities as a classifier's output.
pub(crate) fn from_proba(proba: Proba) -> Output {
    Output::Classes(proba.labels(), Some(proba))
}

/// True for finite values ≥ 0 (false for NaN).
pub(crate) fn nonnegative(value: f64) -> bool {
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

pub(crate) fn argmax(values: &[f64]) -> usize {
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
pub(crate) fn trained<T>(
    algorithm: &'static str,
    result: Result<T, smartcore::error::Failed>,
) -> Result<T> {
    result.map_err(|e| Error::Estimator {
        algorithm,
        message: e.to_string(),
    })
}
