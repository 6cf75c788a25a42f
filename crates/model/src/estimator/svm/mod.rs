//! `svm`: support vector classifier (one-vs-one over class pairs) and
//! epsilon-insensitive regressor. Hyperparameters in [`params`], the solver
//! and the fitted decision functions in [`model`].

mod model;
mod params;

use smartcore::linalg::basic::matrix::DenseMatrix;

pub use model::{Kernel, SvmClassifier, SvmRegressor};
pub use params::{Gamma, GammaRule, KernelName, SvmParams};

use super::algorithm::{Algorithm, Estimator, regression};
use super::{Fitted, Output, Target, Task};
use crate::error::Result;
use crate::onnx::{Graph, Head};

impl Algorithm for SvmParams {
    const NAME: &'static str = "svm";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];

    fn check(&self) -> Result<()> {
        self.check_values()
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        Ok(match y {
            Target::Classes(y, classes) => {
                Fitted::SvmClassifier(SvmClassifier::fit(x, y, *classes, self, seed)?)
            }
            Target::Values(y) => Fitted::SvmRegressor(SvmRegressor::fit(x, y, self)?),
        })
    }
}

impl Estimator for SvmClassifier {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(Output::Classes(SvmClassifier::predict(self, x), None))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Scores(SvmClassifier::onnx(self, graph, x)))
    }

    /// Margins are not probabilities.
    fn has_probabilities(&self) -> bool {
        false
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        SvmClassifier::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}

impl Estimator for SvmRegressor {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(Output::Values(SvmRegressor::predict(self, x)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Values(SvmRegressor::onnx(self, graph, x)))
    }

    fn has_probabilities(&self) -> bool {
        false
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        regression(classes)?;
        SvmRegressor::validate(self, features)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}
