//! The two traits every estimator folder implements, linfa-style: the
//! unfitted hyperparameters ([`Algorithm`]: named, checked before any data is
//! touched, then fitted) and the fitted model ([`Estimator`]: predicts,
//! checks itself after decoding, reports importances). The enums that
//! serialize them ([`EstimatorParams`](super::EstimatorParams),
//! [`Fitted`](super::Fitted)) are generated from one list in
//! [`estimator`](super) and only dispatch to these methods.

use serde::Serialize;
use serde::de::DeserializeOwned;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::{Fitted, Output, Target, Task};
use crate::error::Result;
use crate::onnx::{Graph, Head};

/// An algorithm's hyperparameters: `Default` is what an empty `params:`
/// means; unknown keys are refused by serde.
pub trait Algorithm:
    Sized + Default + Clone + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned
{
    /// The name written in config (`model.algorithm`).
    const NAME: &'static str;
    /// The tasks it does.
    const TASKS: &'static [Task];
    /// Whether it takes missing values (NaN) in its input and learns where
    /// they go, so that numeric nulls may stay unimputed.
    const MISSING_VALUES: bool = false;

    /// Checks the values (ranges, combinations) before any data is read.
    fn check(&self) -> Result<()>;

    /// The parameters with every task-dependent default made explicit, as
    /// recorded in cards and artifacts (a forest's `max_features`).
    fn with_task_defaults(self, _task: Task) -> Self {
        self
    }

    /// Fits on a row-major matrix; `y` matches one of [`TASKS`](Self::TASKS)
    /// (checked by the caller). `seed` drives every random choice.
    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted>;

    /// Fits with a validation set beside the training rows (the ETL's
    /// validation split), for algorithms that use one (early stopping).
    /// Others ignore it.
    fn fit_validated(
        &self,
        x: &DenseMatrix<f64>,
        y: &Target,
        _validation: &Validation<'_>,
        seed: u64,
    ) -> Result<Fitted> {
        self.fit(x, y, seed)
    }

    /// Whether [`fit_validated`](Self::fit_validated) uses the validation set.
    fn uses_validation(&self) -> bool {
        false
    }
}

/// Validation rows encoded like the training rows.
#[derive(Debug, Clone, Copy)]
pub struct Validation<'a> {
    /// The features, row-major, as wide as the training matrix.
    pub x: &'a DenseMatrix<f64>,
    /// The targets, encoded with the training classes.
    pub y: &'a Target,
}

/// A fitted model.
pub trait Estimator {
    /// Predicts every row of `x`.
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output>;

    /// This model's part of an ONNX graph, from the feature matrix `x`
    /// (`[N, width]` doubles, as [`predict`](Self::predict) sees it): class
    /// probabilities or values ([`crate::onnx`]); an estimator ONNX cannot
    /// express returns [`crate::onnx::unsupported`] with the reason.
    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head>;

    /// Whether [`predict`](Self::predict) gives class probabilities.
    fn has_probabilities(&self) -> bool;

    /// Checks a decoded model against the model around it: `features`
    /// inputs and `classes` classes (0 for regression). Everything
    /// prediction indexes with is checked here, so a crafted artifact whose
    /// checksum is valid is refused with one line instead of panicking.
    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String>;

    /// Raw (unnormalised) importance per feature, for models that have them.
    fn feature_importances(&self) -> Option<Vec<f64>>;

    /// What fitting recorded beyond the model, for the card: a booster's
    /// loss per round and the round kept. Most estimators have nothing.
    fn training_history(&self) -> Option<records::training::LossHistory> {
        None
    }
}

/// A regressor's model must have no classes.
pub(crate) fn regression(classes: usize) -> std::result::Result<(), String> {
    match classes {
        0 => Ok(()),
        n => Err(format!("a regressor in a model with {n} classes")),
    }
}
