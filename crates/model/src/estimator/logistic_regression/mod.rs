//! `logistic_regression`: the hyperparameters and their checks; the solver
//! and the fitted model are in [`model`].

mod model;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use model::Logistic;

use super::algorithm::{Algorithm, Estimator};
use super::{Fitted, Output, Target, Task, classes_of, from_proba, nonnegative};
use crate::error::{Result, params};
use crate::onnx::{Graph, Head};

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

impl Algorithm for LogisticParams {
    const NAME: &'static str = "logistic_regression";
    const TASKS: &'static [Task] = &[Task::Classification];

    fn check(&self) -> Result<()> {
        if !nonnegative(self.alpha) {
            return Err(params("params.alpha", "must be ≥ 0"));
        }
        if self.max_iter == 0 || !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(params("params", "max_iter must be at least 1 and tol > 0"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let (y, classes) = classes_of(Self::NAME, y)?;
        Ok(Fitted::Logistic(Logistic::fit(x, y, classes, self)?))
    }
}

impl Estimator for Logistic {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(from_proba(self.predict_proba(x)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Probabilities(Logistic::onnx(self, graph, x)))
    }

    fn has_probabilities(&self) -> bool {
        true
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        Logistic::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}
