//! `random_forest`: the hyperparameters (shared with `extra_trees`) and
//! their checks; the forests are in [`model`].

mod model;

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use model::{ForestClassifier, ForestRegressor};
pub(crate) use model::Randomness;

use super::algorithm::{Algorithm, Estimator, regression};
use super::decision_tree::check_tree;
use super::hist_tree::Criterion;
use super::{Fitted, Output, Target, Task, from_proba};
use crate::error::{Result, params};
use crate::onnx::{Graph, Head};

/// Features tried at each split of a forest's trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxFeatures {
    /// `sqrt`, `log2` or `all`.
    Rule(String),
    /// An exact count.
    Count(usize),
}

/// `random_forest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForestParams {
    /// Number of trees.
    pub n_trees: u16,
    /// Maximum depth of each tree.
    pub max_depth: Option<u16>,
    /// Minimum rows in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum rows to split a node.
    pub min_samples_split: usize,
    /// Features tried per split: `sqrt` (classification default), `all`
    /// (regression default, as scikit-learn), `log2`, or a number.
    pub max_features: Option<MaxFeatures>,
    /// Split criterion (classification only).
    pub criterion: Criterion,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            criterion: Criterion::Gini,
        }
    }
}

impl ForestParams {
    pub(crate) fn check(&self) -> Result<()> {
        if self.n_trees == 0 {
            return Err(params("params.n_trees", "must be at least 1"));
        }
        check_tree(
            self.max_depth,
            self.min_samples_leaf,
            self.min_samples_split,
        )?;
        match &self.max_features {
            Some(MaxFeatures::Rule(rule)) if !["sqrt", "log2", "all"].contains(&rule.as_str()) => {
                Err(params(
                    "params.max_features",
                    format!("'{rule}' is not one of 'sqrt', 'log2', 'all' or a number"),
                ))
            }
            Some(MaxFeatures::Count(0)) => Err(params("params.max_features", "must be at least 1")),
            _ => Ok(()),
        }
    }

    /// The `max_features` rule used for a task when none is configured
    /// (scikit-learn's defaults), so that cards show the value used.
    pub(crate) fn with_task_defaults(mut self, task: Task) -> Self {
        if self.max_features.is_none() {
            let rule = if task == Task::Classification { "sqrt" } else { "all" };
            self.max_features = Some(MaxFeatures::Rule(rule.into()));
        }
        self
    }

    /// Features per split for `width` features.
    pub(crate) fn features_per_split(&self, width: usize, classification: bool) -> usize {
        let rule = match &self.max_features {
            Some(MaxFeatures::Count(n)) => return (*n).clamp(1, width.max(1)),
            Some(MaxFeatures::Rule(rule)) => rule.as_str(),
            None if classification => "sqrt",
            None => "all",
        };
        let n = match rule {
            "sqrt" => (width as f64).sqrt().floor() as usize,
            "log2" => (width as f64).log2().floor() as usize,
            _ => width,
        };
        n.clamp(1, width.max(1))
    }
}

impl Algorithm for ForestParams {
    const NAME: &'static str = "random_forest";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];

    fn check(&self) -> Result<()> {
        ForestParams::check(self)
    }

    fn with_task_defaults(self, task: Task) -> Self {
        ForestParams::with_task_defaults(self, task)
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        let randomness = Randomness::Bootstrap;
        Ok(match y {
            Target::Classes(y, classes) => Fitted::ForestClassifier(ForestClassifier::fit(
                x, y, *classes, self, seed, randomness,
            )?),
            Target::Values(y) => {
                Fitted::ForestRegressor(ForestRegressor::fit(x, y, self, seed, randomness)?)
            }
        })
    }
}

impl Estimator for ForestClassifier {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(from_proba(self.predict_proba(x)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Probabilities(ForestClassifier::onnx(self, graph, x)))
    }

    fn has_probabilities(&self) -> bool {
        true
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        ForestClassifier::validate(self, features, classes)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        ForestClassifier::feature_importances(self)
    }
}

impl Estimator for ForestRegressor {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(Output::Values(ForestRegressor::predict(self, x)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        Ok(Head::Values(ForestRegressor::onnx(self, graph, x)))
    }

    fn has_probabilities(&self) -> bool {
        false
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        regression(classes)?;
        ForestRegressor::validate(self, features)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        ForestRegressor::feature_importances(self)
    }
}
