//! `lasso`: L1-regularised least squares; solved by the shared [`linear`](super::linear) engine.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::Algorithm;
use super::linear::{LinearModel, Penalty};
use super::{Fitted, Target, Task, nonnegative, values_of};
use crate::error::{Result, params};

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

impl Algorithm for LassoParams {
    const NAME: &'static str = "lasso";
    const TASKS: &'static [Task] = &[Task::Regression];

    fn check(&self) -> Result<()> {
        if !nonnegative(self.alpha) || self.max_iter == 0 {
            return Err(params("params", "alpha must be ≥ 0 and max_iter at least 1"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let y = values_of(Self::NAME, y)?;
        let penalty = Penalty::ElasticNet {
            alpha: self.alpha,
            l1_ratio: 1.0,
            max_iter: self.max_iter,
            tol: self.tol,
        };
        Ok(Fitted::Lasso(LinearModel::fit(x, y, penalty, Self::NAME)?))
    }
}
