//! `elastic_net`: L1 + L2-regularised least squares; solved by the shared [`linear`](super::linear) engine.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::Algorithm;
use super::linear::{LinearModel, Penalty};
use super::{Fitted, Target, Task, nonnegative, values_of};
use crate::error::{Result, params};

/// `elastic_net` (L1 + L2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticNetParams {
    /// Overall regularisation strength.
    pub alpha: f64,
    /// Share of L1 in the penalty, in [0, 1].
    pub l1_ratio: f64,
    /// Maximum iterations.
    pub max_iter: usize,
    /// Convergence tolerance.
    pub tol: f64,
}

impl Default for ElasticNetParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l1_ratio: 0.5,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

impl Algorithm for ElasticNetParams {
    const NAME: &'static str = "elastic_net";
    const TASKS: &'static [Task] = &[Task::Regression];

    fn check(&self) -> Result<()> {
        if !nonnegative(self.alpha) || !(0.0..=1.0).contains(&self.l1_ratio) || self.max_iter == 0 {
            return Err(params(
                "params",
                "alpha must be ≥ 0, l1_ratio in [0, 1] and max_iter at least 1",
            ));
        }
        Ok(())
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, _seed: u64) -> Result<Fitted> {
        let y = values_of(Self::NAME, y)?;
        let penalty = Penalty::ElasticNet {
            alpha: self.alpha,
            l1_ratio: self.l1_ratio,
            max_iter: self.max_iter,
            tol: self.tol,
        };
        Ok(Fitted::ElasticNet(LinearModel::fit(x, y, penalty, Self::NAME)?))
    }
}
