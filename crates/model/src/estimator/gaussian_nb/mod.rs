//! `gaussian_nb`: the hyperparameters and their checks; the fitted model is
//! in [`model`].

mod model;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use model::GaussianNb;

use super::algorithm::{Algorithm, Estimator};
use super::{Fitted, Output, Proba, Target, Task, classes_of, from_proba, nonnegative};
use crate::error::{Result, params};
use crate::onnx::{Graph, Head};

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

impl Algorithm for NbParams {
    const NAME: &'static str = "gaussian_nb";
    const TASKS: &'static [Task] = &[Task::Classification];

    fn check(&self) -> Result<()> {
        if !nonnegative(self.var_smoothing) {
            return Err(params("params.var_smoothing", "must be ≥ 0"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let (y, classes) = classes_of(Self::NAME, y)?;
        Ok(Fitted::GaussianNb(GaussianNb::fit(x, y, classes, self.var_smoothing)?))
    }
}

impl Estimator for GaussianNb {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        let proba = self.predict_proba(x);
        let classes = proba.first().map_or(0, Vec::len);
        Ok(from_proba(Proba::from_rows(proba, classes)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Probabilities(GaussianNb::onnx(self, graph, x)))
    }

    fn has_probabilities(&self) -> bool {
        true
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        GaussianNb::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}
