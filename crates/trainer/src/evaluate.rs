//! Evaluation on the test split, beside a baseline that needs no learning:
//! the training split's majority class (with its class frequencies as
//! probabilities), or the training mean.

use arrow::array::RecordBatch;
use model::{Model, Prediction, Task};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::{ClassificationMetrics, RegressionMetrics, classification, regression};

/// Test metrics of the model and of the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Evaluation {
    /// Classification.
    Classification {
        /// The model on the test split.
        model: ClassificationMetrics,
        /// The majority class on the test split.
        baseline: ClassificationMetrics,
        /// Test rows scored.
        rows: u64,
    },
    /// Regression.
    Regression {
        /// The model on the test split.
        model: RegressionMetrics,
        /// The training mean on the test split.
        baseline: RegressionMetrics,
        /// Test rows scored.
        rows: u64,
    },
}

impl Evaluation {
    /// The model's value of one metric (`accuracy`, `rmse`, …).
    pub fn metric(&self, name: &str) -> Option<f64> {
        match self {
            Evaluation::Classification { model, .. } => model.get(name),
            Evaluation::Regression { model, .. } => model.get(name),
        }
    }

    /// `metric → value` for the card: the model's metrics, then `baseline_<metric>`.
    pub fn card_metrics(&self) -> Vec<(String, f64)> {
        let (model, baseline) = match self {
            Evaluation::Classification {
                model, baseline, ..
            } => (model.summary(), baseline.summary()),
            Evaluation::Regression {
                model, baseline, ..
            } => (model.summary(), baseline.summary()),
        };
        let mut out: Vec<(String, f64)> =
            model.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        out.extend(
            baseline
                .into_iter()
                .map(|(k, v)| (format!("baseline_{k}"), v)),
        );
        out
    }
}

/// Scores `test` with `model` and with the baseline learned from `train`.
pub fn evaluate(model: &Model, train: &RecordBatch, test: &RecordBatch) -> Result<Evaluation> {
    let predictions = model.predict_batch(test)?;
    match model.task {
        Task::Classification => {
            let index = |label: &str| {
                model
                    .classes
                    .binary_search_by(|c| c.as_str().cmp(label))
                    .ok()
            };
            let truth_all = text(test, &model.target)?;
            let (mut truth, mut predicted, mut proba) = (Vec::new(), Vec::new(), Vec::new());
            for (t, p) in truth_all.iter().zip(&predictions) {
                let (
                    Some(t),
                    Prediction::Class {
                        label,
                        probabilities,
                    },
                ) = (t.as_deref().and_then(index), p)
                else {
                    continue;
                };
                truth.push(t);
                predicted.push(index(label).unwrap_or(0));
                proba.push(probabilities.clone());
            }
            let proba: Option<Vec<Vec<f64>>> = proba.into_iter().collect();
            let k = model.classes.len();
            let mut counts = vec![0usize; k];
            for label in text(train, &model.target)?.iter().flatten() {
                if let Some(i) = index(label) {
                    counts[i] += 1;
                }
            }
            let total = counts.iter().sum::<usize>().max(1) as f64;
            let majority = counts
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |m| m.0);
            let frequencies: Vec<f64> = counts.iter().map(|&c| c as f64 / total).collect();
            let baseline_proba = vec![frequencies; truth.len()];
            Ok(Evaluation::Classification {
                model: classification(&truth, &predicted, proba.as_deref(), &model.classes),
                baseline: classification(
                    &truth,
                    &vec![majority; truth.len()],
                    Some(&baseline_proba),
                    &model.classes,
                ),
                rows: truth.len() as u64,
            })
        }
        Task::Regression => {
            let truth_all = numbers(test, &model.target)?;
            let (mut truth, mut predicted) = (Vec::new(), Vec::new());
            for (t, p) in truth_all.iter().zip(&predictions) {
                if let (Some(t), Prediction::Value(v)) = (t, p) {
                    truth.push(*t);
                    predicted.push(*v);
                }
            }
            let train_values: Vec<f64> = numbers(train, &model.target)?
                .into_iter()
                .flatten()
                .collect();
            let mean = train_values.iter().sum::<f64>() / train_values.len().max(1) as f64;
            Ok(Evaluation::Regression {
                model: regression(&truth, &predicted),
                baseline: regression(&truth, &vec![mean; truth.len()]),
                rows: truth.len() as u64,
            })
        }
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a arrow::array::ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| Error::Data {
        location: "test split".into(),
        message: format!("no column '{name}'"),
    })
}

fn text(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    use arrow::array::AsArray;
    let array = arrow::compute::cast(column(batch, name)?, &arrow::datatypes::DataType::Utf8)
        .map_err(|e| Error::Data {
            location: name.into(),
            message: e.to_string(),
        })?;
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn numbers(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    use arrow::array::AsArray;
    let array = arrow::compute::cast(column(batch, name)?, &arrow::datatypes::DataType::Float64)
        .map_err(|e| Error::Data {
            location: name.into(),
            message: e.to_string(),
        })?;
    Ok(array
        .as_primitive::<arrow::datatypes::Float64Type>()
        .iter()
        .collect())
}
