//! `model` is the fitted model that inference runs: a feature pipeline
//! (imputation, scaling, one-hot encoding) plus an estimator (smartcore's, or
//! Cauce's own histogram trees, logistic regression, naive Bayes and SVM
//! decision function), with prediction on Arrow batches and a versioned,
//! checksummed artifact format.
//! It knows nothing of where bytes are stored.
//!
//! Parameters and fitted models are different types, as in linfa:
//! [`ModelParams`] is checked before any data is touched, then
//! [`ModelParams::fit`] returns a [`Model`].
//!
//! ```
//! # fn main() -> model::Result<()> {
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use model::{EstimatorParams, FeatureParams, Model, ModelParams, Prediction, Task};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("x", DataType::Float64, true),
//!     Field::new("label", DataType::Utf8, false),
//! ]));
//! let x: Vec<f64> = (0..40).map(f64::from).collect();
//! let labels: Vec<&str> = x.iter().map(|v| if *v < 20.0 { "low" } else { "high" }).collect();
//! let train = RecordBatch::try_new(schema, vec![
//!     Arc::new(Float64Array::from(x)), Arc::new(StringArray::from(labels)),
//! ]).unwrap();
//!
//! let params = ModelParams {
//!     name: "demo".into(),
//!     task: Task::Classification,
//!     target: "label".into(),
//!     features: FeatureParams { numeric: vec!["x".into()], ..FeatureParams::default() },
//!     estimator: EstimatorParams::new("decision_tree", Task::Classification, &serde_json::Value::Null)?,
//!     seed: 42,
//! };
//! let fitted = params.fit(&train)?;
//! let bytes = fitted.to_bytes()?;                 // the artifact
//! let model = Model::load(&bytes)?;               // what inference loads
//! let predictions = model.predict_batch(&train)?;
//! assert!(matches!(&predictions[0], Prediction::Class { label, .. } if label == "low"));
//! # Ok(()) }
//! ```

pub mod artifact;
mod error;
pub mod estimator;
pub mod features;
mod labels;
pub mod onnx;

use arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

pub use error::{Error, Result};
pub use estimator::{EstimatorParams, Fitted, Output, Proba, Target, Task};
pub use features::{FeatureParams, FittedFeatures, InputColumn};
pub use labels::LabelType;

/// Everything needed to fit a model, checked before fitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    /// Model name.
    pub name: String,
    /// Classification or regression.
    pub task: Task,
    /// Target column.
    pub target: String,
    /// Preprocessing and feature columns.
    pub features: FeatureParams,
    /// Algorithm and hyperparameters.
    pub estimator: EstimatorParams,
    /// Seed of every random choice.
    pub seed: u64,
}

/// A fitted model.
#[derive(Debug, Serialize, Deserialize)]
pub struct Model {
    /// Model name.
    pub name: String,
    /// Classification or regression.
    pub task: Task,
    /// Target column it predicts.
    pub target: String,
    /// Class labels in index order (empty for regression).
    pub classes: Vec<String>,
    /// The type of the target's labels, which predictions come back in
    /// (artifacts written before it existed: text).
    #[serde(default)]
    pub label_type: LabelType,
    /// The fitted preprocessing.
    pub features: FittedFeatures,
    /// The parameters it was fitted with.
    pub params: EstimatorParams,
    /// The fitted estimator.
    pub estimator: Fitted,
}

/// The predictions of a batch, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Class indexes into [`Model::classes`] (and probabilities), or values.
    pub output: Output,
    /// Per row: why it could not be scored (its prediction is then not
    /// meaningful).
    pub errors: Vec<Option<String>>,
}

/// One row's prediction.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// A class, and its probabilities (in [`Model::classes`] order) when the estimator has them.
    Class {
        /// The predicted class.
        label: String,
        /// Probability per class.
        probabilities: Option<Vec<f64>>,
    },
    /// A value.
    Value(f64),
    /// The row cannot be scored (e.g. an unseen category with the `error` policy).
    Error(String),
}

impl ModelParams {
    /// Checks the parameters without data.
    pub fn check(&self) -> Result<()> {
        self.features.check()?;
        if self.features.numeric_imputer == features::NumericImputer::None
            && !self.estimator.takes_missing_values()
        {
            return Err(error::params(
                "preprocessing.numeric_imputer",
                format!(
                    "'none' leaves nulls missing, which {} cannot take; use mean, median or constant (or gradient_boosting)",
                    self.estimator.name()
                ),
            ));
        }
        self.estimator.check(self.task)
    }

    /// Fits preprocessing then the estimator on the training rows. The target
    /// must have no nulls.
    pub fn fit(&self, train: &RecordBatch) -> Result<Model> {
        self.fit_with(train, None)
    }

    /// [`fit`](Self::fit) with validation rows (the ETL's validation split)
    /// for an estimator that stops early on them (see
    /// [`EstimatorParams::uses_validation`]); others ignore them. Validation
    /// rows go through the preprocessing fitted on the training rows; a row
    /// that cannot be encoded, has a null target or a class the training rows
    /// lack is left out.
    pub fn fit_with(&self, train: &RecordBatch, validation: Option<&RecordBatch>) -> Result<Model> {
        self.check()?;
        if train.num_rows() == 0 {
            return Err(Error::Data("the training data has no rows".into()));
        }
        let features = self.features.fit(train)?;
        let (matrix, errors) = features.transform(train)?;
        if let Some(error) = errors.iter().flatten().next() {
            return Err(Error::Data(format!(
                "training row cannot be encoded: {error}"
            )));
        }
        let x = dense(matrix, train.num_rows(), features.width())?;
        let (target, classes) = self.encode_target(train)?;
        let label_type = match self.task {
            Task::Classification => {
                let schema = train.schema();
                let label_type = schema
                    .field_with_name(&self.target)
                    .map(|f| LabelType::of(f.data_type()))
                    .unwrap_or_default();
                labels::check_classes(label_type, &classes)?;
                label_type
            }
            Task::Regression => LabelType::Text,
        };
        let validation = match validation {
            Some(rows) if rows.num_rows() > 0 && self.estimator.uses_validation() => {
                self.encode_validation(&features, &classes, rows)?
            }
            _ => None,
        };
        let validation = validation
            .as_ref()
            .map(|(x, y)| estimator::Validation { x, y });
        let estimator = self
            .estimator
            .fit_with(&x, &target, validation.as_ref(), self.seed)?;
        Ok(Model {
            name: self.name.clone(),
            task: self.task,
            target: self.target.clone(),
            classes,
            label_type,
            features,
            params: self.estimator.clone(),
            estimator,
        })
    }

    /// Validation rows as the estimator sees them: encoded with the fitted
    /// preprocessing and the training classes; rows that cannot be are left out.
    fn encode_validation(
        &self,
        features: &FittedFeatures,
        classes: &[String],
        rows: &RecordBatch,
    ) -> Result<Option<(DenseMatrix<f64>, Target)>> {
        let (matrix, errors) = features.transform(rows)?;
        let width = features.width();
        let mut keep: Vec<bool> = errors.iter().map(Option::is_none).collect();
        let target = match self.task {
            Task::Classification => {
                let labels = features::text_values(rows, &self.target)?;
                let known = labels.iter().map(|label| {
                    let class = label.as_ref().and_then(|l| classes.binary_search(l).ok());
                    class.map(|c| c as i32)
                });
                Target::Classes(kept(known, &mut keep), classes.len())
            }
            Task::Regression => {
                let values = features::numeric_values(rows, &self.target)?;
                Target::Values(kept(values.into_iter(), &mut keep))
            }
        };
        let left_out = keep.iter().filter(|k| !**k).count();
        if left_out > 0 {
            log::warn!(
                "{left_out} validation row(s) left out: null target, a class the training rows lack, or a value that cannot be encoded"
            );
        }
        let kept: Vec<f64> = matrix
            .chunks_exact(width.max(1))
            .zip(&keep)
            .filter(|(_, k)| **k)
            .flat_map(|(row, _)| row.iter().copied())
            .collect();
        let n = keep.iter().filter(|k| **k).count();
        if n == 0 {
            return Ok(None);
        }
        Ok(Some((dense(kept, n, width)?, target)))
    }

    fn encode_target(&self, train: &RecordBatch) -> Result<(Target, Vec<String>)> {
        let nulls = |n: usize| {
            Error::Data(format!(
                "target column '{}' has {n} null value(s)",
                self.target
            ))
        };
        match self.task {
            Task::Classification => {
                let labels = features::text_values(train, &self.target)?;
                let missing = labels.iter().filter(|l| l.is_none()).count();
                if missing > 0 {
                    return Err(nulls(missing));
                }
                let mut classes: Vec<String> = labels.iter().flatten().cloned().collect();
                classes.sort();
                classes.dedup();
                if classes.len() < 2 {
                    return Err(Error::Data(format!(
                        "target column '{}' has {} class(es); classification needs at least 2",
                        self.target,
                        classes.len()
                    )));
                }
                let y = labels
                    .iter()
                    .flatten()
                    .map(|l| classes.binary_search(l).map(|i| i as i32).unwrap_or(0))
                    .collect();
                Ok((Target::Classes(y, classes.len()), classes))
            }
            Task::Regression => {
                let values = features::numeric_values(train, &self.target)?;
                let missing = values.iter().filter(|v| v.is_none()).count();
                if missing > 0 {
                    return Err(nulls(missing));
                }
                Ok((
                    Target::Values(values.into_iter().flatten().collect()),
                    Vec::new(),
                ))
            }
        }
    }
}

/// Marks the rows whose output is not a finite number (an input such as
/// ±1e308 overflows a linear score, and ∞ − ∞ is NaN) as rows that cannot be
/// scored, so no NaN or infinite prediction or probability is written as if
/// it were one.
fn flag_non_finite(output: &Output, errors: &mut [Option<String>]) {
    let finite: Vec<bool> = match output {
        Output::Classes(_, Some(proba)) => proba
            .iter()
            .map(|row| row.iter().all(|p| p.is_finite()))
            .collect(),
        Output::Classes(_, None) => return,
        Output::Values(values) => values.iter().map(|v| v.is_finite()).collect(),
    };
    for (error, finite) in errors.iter_mut().zip(finite) {
        if error.is_none() && !finite {
            *error = Some(
                "the model's output for this row is not a finite number \
                 (an input value too large for its arithmetic)"
                    .into(),
            );
        }
    }
}

impl Model {
    /// Predicts every row of `batch` (extra columns are ignored), column by
    /// column: class indexes into [`Model::classes`] (with probabilities) or
    /// values, and per row the reason it could not be scored, if any. No
    /// allocation per row; what batch scoring should use.
    pub fn predict_columns(&self, batch: &RecordBatch) -> Result<Predictions> {
        let rows = batch.num_rows();
        if rows == 0 {
            let output = match self.task {
                Task::Classification => {
                    let proba = self.has_probabilities().then(|| Proba {
                        classes: self.classes.len(),
                        values: Vec::new(),
                    });
                    Output::Classes(Vec::new(), proba)
                }
                Task::Regression => Output::Values(Vec::new()),
            };
            return Ok(Predictions {
                output,
                errors: Vec::new(),
            });
        }
        let (matrix, mut errors) = self.features.transform(batch)?;
        let x = dense(matrix, rows, self.features.width())?;
        let output = self.estimator.predict(&x)?;
        flag_non_finite(&output, &mut errors);
        Ok(Predictions { output, errors })
    }

    /// Predicts every row of `batch` (extra columns are ignored), one
    /// [`Prediction`] per row.
    pub fn predict_batch(&self, batch: &RecordBatch) -> Result<Vec<Prediction>> {
        let Predictions { output, errors } = self.predict_columns(batch)?;
        let predictions = match output {
            Output::Classes(labels, probabilities) => labels
                .into_iter()
                .enumerate()
                .map(|(i, label)| Prediction::Class {
                    label: self.classes.get(label).cloned().unwrap_or_default(),
                    probabilities: probabilities.as_ref().map(|p| p.row(i).to_vec()),
                })
                .collect::<Vec<_>>(),
            Output::Values(values) => values.into_iter().map(Prediction::Value).collect(),
        };
        Ok(predictions
            .into_iter()
            .zip(errors)
            .map(|(prediction, error)| match error {
                Some(message) => Prediction::Error(message),
                None => prediction,
            })
            .collect())
    }

    /// Whether predictions carry class probabilities.
    pub fn has_probabilities(&self) -> bool {
        self.task == Task::Classification && self.estimator.has_probabilities()
    }

    /// The artifact bytes of this model.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        artifact::to_bytes(self)
    }

    /// Loads a model from artifact bytes (see [`artifact`] for the checks
    /// made), then checks its structure (see [`Model::validate`]).
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let model = artifact::from_bytes(bytes)?;
        model.validate()?;
        Ok(model)
    }

    /// Checks that the parts of a decoded model fit together: the task and
    /// its classes, and the estimator's shape against the features' width
    /// and the classes (see [`Fitted::validate`]).
    pub fn validate(&self) -> Result<()> {
        let classes = match self.task {
            Task::Classification if self.classes.len() < 2 => {
                return Err(Error::Artifact(format!(
                    "malformed model: a classifier with {} class(es)",
                    self.classes.len()
                )));
            }
            Task::Classification => self.classes.len(),
            Task::Regression if !self.classes.is_empty() => {
                return Err(Error::Artifact(
                    "malformed model: a regressor with classes".into(),
                ));
            }
            Task::Regression => 0,
        };
        self.estimator.validate(self.features.width(), classes)
    }

    /// Same as [`Model::load`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::load(bytes)
    }

    /// Feature importances of tree models, `(feature, importance)` sorted by
    /// importance (one-hot features named `column=value`).
    pub fn feature_importances(&self) -> Option<Vec<(String, f64)>> {
        let values = self.estimator.feature_importances()?;
        let mut pairs: Vec<(String, f64)> = self
            .features
            .feature_names()
            .into_iter()
            .zip(values)
            .collect();
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Some(pairs)
    }

    /// The input columns inference must provide, with types and categories.
    pub fn inputs(&self) -> Vec<InputColumn> {
        self.features.inputs()
    }
}

/// The targets of the rows still kept that have one; a row without one is
/// no longer kept.
fn kept<T>(targets: impl Iterator<Item = Option<T>>, keep: &mut [bool]) -> Vec<T> {
    targets
        .zip(keep.iter_mut())
        .filter_map(|(target, keep)| {
            let target = target.filter(|_| *keep);
            *keep = target.is_some();
            target
        })
        .collect()
}

fn dense(values: Vec<f64>, rows: usize, width: usize) -> Result<DenseMatrix<f64>> {
    DenseMatrix::new(rows, width, values, false).map_err(|e| Error::Data(e.to_string()))
}
