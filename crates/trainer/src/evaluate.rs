//! Evaluation on the test split, beside a baseline that needs no learning:
//! the training split's majority class (with its class frequencies as
//! probabilities), or the training mean.
//!
//! Every test row counts. A test row whose class never appears in training
//! is a wrong prediction (its class is added to the labels, with
//! probability 0). A row the model cannot score (an unseen category under
//! `unknown_category: error`) is counted in `unscored`: a wrong prediction
//! for classification; regression metrics, which need a value, cover the
//! scored rows. `rows` is always the number of test rows.

use arrow::array::RecordBatch;
use model::{Model, Prediction, Task};
pub use records::training::Evaluation;

use crate::error::{Error, Result};
use records::curves::Curves;

use crate::metrics::{classification, regression};

/// Scores `test` with `model` and with the baseline learned from `train`.
/// Rows with a null target must have been removed.
pub fn evaluate(model: &Model, train: &RecordBatch, test: &RecordBatch) -> Result<Evaluation> {
    Ok(scored(model, train, test, false)?.0)
}

/// The same, with the points of the report's curves (from the scored test
/// rows; a classifier without probabilities has none).
pub fn evaluate_with_curves(
    model: &Model,
    train: &RecordBatch,
    test: &RecordBatch,
) -> Result<(Evaluation, Option<Curves>)> {
    scored(model, train, test, true)
}

fn scored(
    model: &Model,
    train: &RecordBatch,
    test: &RecordBatch,
    with_curves: bool,
) -> Result<(Evaluation, Option<Curves>)> {
    let predictions = model.predict_batch(test)?;
    let rows = test.num_rows() as u64;
    let unscored = predictions
        .iter()
        .filter(|p| matches!(p, Prediction::Error(_)))
        .count() as u64;
    if unscored > 0 {
        log::warn!(
            "{unscored} of {rows} test row(s) could not be scored (e.g. an unseen category with unknown_category: error); they count as wrong"
        );
    }
    match model.task {
        Task::Classification => {
            let truth_text: Vec<String> = text(test, &model.target)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            // The model's classes, then the test's classes it never saw.
            let mut labels = model.classes.clone();
            let mut unseen: Vec<&str> = truth_text
                .iter()
                .map(String::as_str)
                .filter(|t| {
                    model
                        .classes
                        .binary_search_by(|c| c.as_str().cmp(t))
                        .is_err()
                })
                .collect();
            unseen.sort_unstable();
            unseen.dedup();
            if !unseen.is_empty() {
                let count = truth_text
                    .iter()
                    .filter(|t| unseen.binary_search(&t.as_str()).is_ok())
                    .count();
                log::warn!(
                    "{count} test row(s) have a class the training split never had ({}); they count as wrong",
                    unseen.join(", ")
                );
            }
            labels.extend(unseen.iter().map(|u| u.to_string()));
            let index = |label: &str| {
                model
                    .classes
                    .binary_search_by(|c| c.as_str().cmp(label))
                    .ok()
                    .or_else(|| {
                        unseen
                            .binary_search(&label)
                            .ok()
                            .map(|i| model.classes.len() + i)
                    })
                    .unwrap_or(0)
            };
            let truth: Vec<usize> = truth_text.iter().map(|t| index(t)).collect();
            let mut predicted = Vec::with_capacity(truth.len());
            let mut proba = Vec::with_capacity(truth.len());
            let mut has_proba = true;
            for p in &predictions {
                match p {
                    Prediction::Class {
                        label,
                        probabilities,
                    } => {
                        predicted.push(Some(index(label)));
                        match probabilities {
                            Some(p) => proba.push(p.clone()),
                            None => has_proba = false,
                        }
                    }
                    _ => {
                        predicted.push(None);
                        proba.push(Vec::new());
                    }
                }
            }
            let k = model.classes.len();
            let mut counts = vec![0usize; k];
            for label in text(train, &model.target)?.iter().flatten() {
                if let Ok(i) = model.classes.binary_search_by(|c| c.as_str().cmp(label)) {
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
            let curves = (with_curves && has_proba).then(|| {
                let (scored_truth, scored_proba): (Vec<usize>, Vec<Vec<f64>>) = truth
                    .iter()
                    .zip(&predicted)
                    .zip(&proba)
                    .filter(|((_, p), _)| p.is_some())
                    .map(|((t, _), p)| (*t, p.clone()))
                    .unzip();
                records::curves::classification(&scored_truth, &scored_proba, &model.classes)
            });
            let evaluation = Evaluation::Classification {
                model: classification(
                    &truth,
                    &predicted,
                    has_proba.then_some(proba.as_slice()),
                    &labels,
                ),
                baseline: classification(
                    &truth,
                    &vec![Some(majority); truth.len()],
                    Some(&baseline_proba),
                    &labels,
                ),
                rows,
                unscored,
            };
            Ok((evaluation, curves))
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
            let all_truth: Vec<f64> = truth_all.iter().flatten().copied().collect();
            let curves = with_curves.then(|| records::curves::regression(&truth, &predicted));
            let evaluation = Evaluation::Regression {
                model: regression(&truth, &predicted),
                baseline: regression(&all_truth, &vec![mean; all_truth.len()]),
                rows,
                unscored,
            };
            Ok((evaluation, curves))
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

/// One line of the main test metric against the baseline.
pub fn headline(evaluation: &Evaluation) -> String {
    match evaluation {
        Evaluation::Classification {
            model,
            baseline,
            rows,
            ..
        } => format!(
            "accuracy {:.4} (baseline {:.4}), f1_macro {:.4} on {rows} rows",
            model.accuracy, baseline.accuracy, model.f1_macro
        ),
        Evaluation::Regression {
            model,
            baseline,
            rows,
            ..
        } => {
            format!(
                "rmse {:.4} (baseline {:.4}), r2 {:.4} on {rows} rows",
                model.rmse, baseline.rmse, model.r2
            )
        }
    }
}
