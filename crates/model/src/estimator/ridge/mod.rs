//! `ridge`: L2-regularised least squares; solved by the shared [`linear`](super::linear) engine.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::Algorithm;
use super::linear::{LinearModel, Penalty};
use super::{Fitted, Target, Task, nonnegative, values_of};
use crate::error::{Result, params};

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

impl Algorithm for RidgeParams {
    const NAME: &'static str = "ridge";
    const TASKS: &'static [Task] = &[Task::Regression];

    fn check(&self) -> Result<()> {
        if !nonnegative(self.alpha) {
            return Err(params("params.alpha", "must be ≥ 0"));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let y = values_of(Self::NAME, y)?;
        let penalty = Penalty::Ridge { alpha: self.alpha };
        Ok(Fitted::Ridge(LinearModel::fit(x, y, penalty, Self::NAME)?))
    }
}
