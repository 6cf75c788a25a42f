//! `gradient_boosting`: Cauce's own gradient-boosted trees for both tasks,
//! built the way LightGBM and scikit-learn's HistGradientBoosting build them:
//! features cut once into at most 255 bins plus one for missing values
//! ([`bins`]), trees grown leaf-wise on per-bin gradient and hessian
//! histograms with second-order gains ([`grow`]), one tree per round (per
//! class and round for multiclass softmax) on the losses of [`loss`], with
//! seeded row and feature subsampling and early stopping on a seeded
//! holdout ([`booster`]). Prediction walks the fitted trees ([`tree`]).

mod bins;
mod booster;
mod grow;
mod loss;
mod tree;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use booster::{Booster, History};
pub use loss::Loss;

use super::algorithm::{Algorithm, Estimator, Validation};
use super::{Fitted, Output, Target, Task, from_proba, nonnegative};
use crate::error::{Result, params};
use crate::onnx::{Graph, Head};

/// The loss a regression minimises (classification always minimises log loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionLoss {
    /// Squared error (the mean).
    #[default]
    SquaredError,
    /// Absolute error (the median; leaves refitted to median residuals).
    AbsoluteError,
    /// Huber: squared within `huber_delta`, absolute beyond.
    Huber,
}

/// `gradient_boosting`. Defaults are LightGBM's and HistGradientBoosting's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoostingParams {
    /// Boosting rounds (at most, with early stopping).
    pub n_estimators: usize,
    /// Shrinkage of every tree's leaves.
    pub learning_rate: f64,
    /// Leaves per tree (leaf-wise growth: the leaf whose split gains most
    /// is split next).
    pub max_leaves: usize,
    /// Depth limit of each tree (none: only `max_leaves` limits it).
    pub max_depth: Option<u16>,
    /// Minimum training rows in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum sum of hessians in a leaf (LightGBM's
    /// `min_sum_hessian_in_leaf`).
    pub min_child_weight: f64,
    /// L2 penalty on leaf values (LightGBM's `lambda_l2`, XGBoost's `lambda`).
    pub l2_regularization: f64,
    /// Minimum gain for a split (LightGBM's `min_gain_to_split`).
    pub min_gain_to_split: f64,
    /// Share of rows each tree is grown on, in (0, 1], drawn per round.
    pub subsample: f64,
    /// Share of features each tree may split on, in (0, 1], drawn per tree.
    pub colsample_bytree: f64,
    /// Stop when the validation loss has not improved for this many rounds,
    /// keeping the trees up to the best round (none: no early stopping). The
    /// validation rows are the ETL's validation split when it has one, else
    /// a seeded `validation_fraction` of the training rows.
    pub early_stopping_rounds: Option<usize>,
    /// Share of the training rows held out to stop early on, in (0, 1), when
    /// there is no validation split.
    pub validation_fraction: f64,
    /// The regression loss: `squared_error` (the default), `absolute_error`
    /// or `huber`; absent for classification, which minimises log loss (so
    /// a classifier's card does not show a regression loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<RegressionLoss>,
    /// Where `huber` turns from squared to absolute (> 0), in target units.
    pub huber_delta: f64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: None,
            min_samples_leaf: 20,
            min_child_weight: 1e-3,
            l2_regularization: 0.0,
            min_gain_to_split: 0.0,
            subsample: 1.0,
            colsample_bytree: 1.0,
            early_stopping_rounds: None,
            validation_fraction: 0.1,
            loss: None,
            huber_delta: 1.0,
        }
    }
}

impl BoostingParams {
    /// The loss for a regression target.
    fn regression_loss(&self) -> Loss {
        match self.loss.unwrap_or_default() {
            RegressionLoss::SquaredError => Loss::SquaredError,
            RegressionLoss::AbsoluteError => Loss::AbsoluteError,
            RegressionLoss::Huber => Loss::Huber {
                delta: self.huber_delta,
            },
        }
    }
}

impl Algorithm for BoostingParams {
    const NAME: &'static str = "gradient_boosting";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];
    const MISSING_VALUES: bool = true;

    fn with_task_defaults(self, task: Task) -> Self {
        let loss = match task {
            Task::Regression => Some(self.loss.unwrap_or_default()),
            Task::Classification => self.loss,
        };
        Self { loss, ..self }
    }

    fn check(&self) -> Result<()> {
        let share = |v: f64| v > 0.0 && v <= 1.0;
        if self.n_estimators == 0 {
            return Err(params("params.n_estimators", "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(params("params.learning_rate", "must be > 0"));
        }
        if self.max_leaves < 2 {
            return Err(params("params.max_leaves", "must be at least 2"));
        }
        if self.max_depth == Some(0) {
            return Err(params(
                "params.max_depth",
                "must be at least 1 (or omitted for no limit)",
            ));
        }
        if self.min_samples_leaf == 0 {
            return Err(params("params.min_samples_leaf", "must be at least 1"));
        }
        for (key, value) in [
            ("params.min_child_weight", self.min_child_weight),
            ("params.l2_regularization", self.l2_regularization),
            ("params.min_gain_to_split", self.min_gain_to_split),
        ] {
            if !nonnegative(value) {
                return Err(params(key, "must be ≥ 0"));
            }
        }
        if !share(self.subsample) {
            return Err(params("params.subsample", "must be in (0, 1]"));
        }
        if !share(self.colsample_bytree) {
            return Err(params("params.colsample_bytree", "must be in (0, 1]"));
        }
        if self.early_stopping_rounds == Some(0) {
            return Err(params(
                "params.early_stopping_rounds",
                "must be at least 1 (or omitted for no early stopping)",
            ));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(params("params.validation_fraction", "must be in (0, 1)"));
        }
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            return Err(params("params.huber_delta", "must be > 0"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        Ok(Fitted::Boosted(Booster::fit(x, y, None, self, seed)?))
    }

    fn fit_validated(
        &self,
        x: &DenseMatrix<f64>,
        y: &Target,
        validation: &Validation<'_>,
        seed: u64,
    ) -> Result<Fitted> {
        let validation = self.uses_validation().then_some(validation);
        Ok(Fitted::Boosted(Booster::fit(x, y, validation, self, seed)?))
    }

    fn uses_validation(&self) -> bool {
        self.early_stopping_rounds.is_some()
    }
}

impl Estimator for Booster {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(if self.loss().is_classification() {
            from_proba(self.predict_proba(x))
        } else {
            Output::Values(self.predict_values(x))
        })
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Booster::onnx(self, graph, x))
    }

    fn has_probabilities(&self) -> bool {
        self.loss().is_classification()
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        Booster::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        Some(self.gains())
    }

    fn training_history(&self) -> Option<History> {
        Some(self.history().clone())
    }
}
