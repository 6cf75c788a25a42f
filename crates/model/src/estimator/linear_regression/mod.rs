//! `linear_regression`: ordinary least squares (no hyperparameters); solved by the shared [`linear`](super::linear) engine.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::Algorithm;
use super::linear::{LinearModel, Penalty};
use super::{Fitted, Target, Task, values_of};
use crate::error::Result;

/// `linear_regression` (ordinary least squares; no hyperparameters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearParams {}

impl Algorithm for LinearParams {
    const NAME: &'static str = "linear_regression";
    const TASKS: &'static [Task] = &[Task::Regression];

    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let y = values_of(Self::NAME, y)?;
        let penalty = Penalty::Ridge { alpha: 0.0 };
        Ok(Fitted::Linear(LinearModel::fit(x, y, penalty, Self::NAME)?))
    }
}
