//! `knn`: the hyperparameters and their checks; the KD-tree and the fitted
//! model are in [`model`].

mod model;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use model::Knn;
use model::KnnTarget;

use super::algorithm::{Algorithm, Estimator};
use super::{Fitted, Output, Target, Task, from_proba};
use crate::error::{Result, params};
use crate::onnx::{Graph, Head};

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

impl Algorithm for KnnParams {
    const NAME: &'static str = "knn";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];

    fn check(&self) -> Result<()> {
        if self.k == 0 {
            return Err(params("params.k", "must be at least 1"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        Ok(match y {
            Target::Classes(y, classes) => {
                let y = y.iter().map(|&c| c as u32).collect();
                let target = KnnTarget::Classes(y, *classes);
                Fitted::KnnClassifier(Knn::fit(x, target, self.k, self.weights)?)
            }
            Target::Values(y) => {
                let target = KnnTarget::Values(y.clone());
                Fitted::KnnRegressor(Knn::fit(x, target, self.k, self.weights)?)
            }
        })
    }
}

impl Estimator for Knn {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(match self.classes() {
            Some(_) => from_proba(self.predict_proba(x)?),
            None => Output::Values(self.predict_values(x)?),
        })
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Knn::onnx(self, graph, x))
    }

    fn has_probabilities(&self) -> bool {
        self.classes().is_some()
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        Knn::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}
