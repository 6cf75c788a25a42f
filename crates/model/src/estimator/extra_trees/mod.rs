//! `extra_trees`: extremely randomized trees (regression): random split
//! thresholds, no bootstrap; one-tree smartcore forests grown in parallel
//! like the random forest's trees. The hyperparameters are the random
//! forest's.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::extra_trees_regressor::{
    ExtraTreesRegressor, ExtraTreesRegressorParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::{Algorithm, Estimator, regression};
use super::ensemble::{grow, summed_importances};
use super::random_forest::ForestParams;
use super::{Fitted, Output, Target, Task, guarded, trained, values_of};
use crate::error::Result;

type TreeE = ExtraTreesRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// `extra_trees`: the random forest's parameters, under their own name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExtraTreesParams(pub ForestParams);

impl Algorithm for ExtraTreesParams {
    const NAME: &'static str = "extra_trees";
    const TASKS: &'static [Task] = &[Task::Regression];

    fn check(&self) -> Result<()> {
        self.0.check()
    }

    fn with_task_defaults(self, task: Task) -> Self {
        Self(self.0.with_task_defaults(task))
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        let y = values_of(Self::NAME, y)?.to_vec();
        Ok(Fitted::ExtraTrees(ExtraTrees::fit(x, &y, &self.0, seed)?))
    }
}

/// Fitted extremely randomized trees (regression): random split thresholds,
/// no bootstrap, grown in parallel like the forests.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExtraTrees {
    trees: Vec<TreeE>,
}

impl ExtraTrees {
    /// Checks smartcore's trees through their serde form (their fields are
    /// private): some trees, and in every node list, children stored after
    /// their parent and inside the list (a crafted loop would make
    /// prediction spin forever) and split features below `features`.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("the ensemble has no trees".into());
        }
        let value = serde_json::to_value(&self.trees).map_err(|e| e.to_string())?;
        let mut lists = 0;
        super::foreign::check_node_lists(&value, features, &mut lists)?;
        if lists < self.trees.len() {
            return Err(format!("{} trees but {lists} node lists", self.trees.len()));
        }
        Ok(())
    }
}

impl ExtraTrees {
    /// Summed impurity importances of the trees.
    pub fn feature_importances(&self) -> Option<Vec<f64>> {
        summed_importances(&self.trees, |t| t.compute_feature_importances().ok())
    }

    fn fit(
        x: &DenseMatrix<f64>,
        y: &Vec<f64>,
        p: &ForestParams,
        seed: u64,
    ) -> Result<Self> {
        let m = p.features_per_split(x.shape().1, false);
        let trees = grow(p.n_trees, seed, |tree_seed| {
            let mut params = ExtraTreesRegressorParameters::default()
                .with_n_trees(1)
                .with_m(m)
                .with_min_samples_leaf(p.min_samples_leaf)
                .with_min_samples_split(p.min_samples_split)
                .with_seed(tree_seed);
            if let Some(depth) = p.max_depth {
                params = params.with_max_depth(depth);
            }
            trained("extra_trees", TreeE::fit(x, y, params))
        })?;
        Ok(Self { trees })
    }

    /// Mean of the trees' predictions.
    pub fn predict(&self, x: &DenseMatrix<f64>, rows: usize) -> Result<Vec<f64>> {
        mean_of(&self.trees, rows, |tree| {
            trained("extra_trees", tree.predict(x))
        })
    }
}


/// Mean of the members' predictions.
fn mean_of<M: Sync>(
    members: &[M],
    rows: usize,
    predict: impl Fn(&M) -> Result<Vec<f64>> + Sync + Send,
) -> Result<Vec<f64>> {
    let all: Vec<Vec<f64>> = members.par_iter().map(predict).collect::<Result<_>>()?;
    let mut mean = vec![0.0; rows];
    for predictions in &all {
        for (m, p) in mean.iter_mut().zip(predictions) {
            *m += p / all.len() as f64;
        }
    }
    Ok(mean)
}

impl Estimator for ExtraTrees {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        let rows = x.shape().0;
        Ok(Output::Values(guarded(Self::NAME, || {
            ExtraTrees::predict(self, x, rows)
        })?))
    }

    fn has_probabilities(&self) -> bool {
        false
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        regression(classes)?;
        ExtraTrees::validate(self, features)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        ExtraTrees::feature_importances(self)
    }
}

impl ExtraTrees {
    const NAME: &'static str = "extra_trees";
}
