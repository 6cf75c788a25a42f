//! Scoring one batch: the passthrough columns, `prediction`, one
//! `proba_<class>` column per class for classifiers, `model_version`, and
//! `_error` for rows that could not be scored (their prediction is null).

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use model::{Model, Output, Predictions, Task};

use crate::error::{Error, Result};

/// The predicted label or value column of the output.
pub const PREDICTION: &str = "prediction";

/// The output schema for `model` with the given passthrough columns of `input`.
pub fn output_schema(model: &Model, input: &Schema, passthrough: &[String]) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = Vec::new();
    for name in passthrough {
        let field = input.field_with_name(name).map_err(|_| Error::Config {
            key: "inference.passthrough".into(),
            message: format!("no input column '{name}'"),
        })?;
        fields.push(field.clone().with_nullable(true));
    }
    let prediction_type = match model.task {
        Task::Classification => model.label_type.data_type(),
        Task::Regression => DataType::Float64,
    };
    fields.push(Field::new(PREDICTION, prediction_type, true));
    if model.has_probabilities() {
        for class in &model.classes {
            fields.push(Field::new(
                format!("proba_{class}"),
                DataType::Float64,
                true,
            ));
        }
    }
    fields.push(Field::new("model_version", DataType::Utf8, false));
    fields.push(Field::new("_error", DataType::Utf8, true));
    Ok(Arc::new(Schema::new(fields)))
}

/// Scores `batch` with `model`, labelling rows with `version`. A row with a
/// `read_errors` entry (found while reading it; empty: none) gets that error
/// and no prediction, whatever the model made of it.
pub fn predict(
    model: &Model,
    batch: &RecordBatch,
    version: &str,
    passthrough: &[String],
    read_errors: &[Option<String>],
) -> Result<RecordBatch> {
    let schema = output_schema(model, &batch.schema(), passthrough)?;
    let Predictions { output, mut errors } = model.predict_columns(batch)?;
    for (error, read) in errors.iter_mut().zip(read_errors) {
        if read.is_some() {
            error.clone_from(read);
        }
    }
    let rows = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in passthrough {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Internal(format!("passthrough '{name}' vanished")))?;
        columns.push(Arc::clone(column));
    }
    let scored = |i: usize| errors.get(i).is_some_and(Option::is_none);
    match (model.task, output) {
        (Task::Classification, Output::Classes(labels, proba)) => {
            let mut text = StringBuilder::with_capacity(rows, rows * 8);
            for (i, &label) in labels.iter().enumerate() {
                match model.classes.get(label) {
                    Some(class) if scored(i) => text.append_value(class),
                    _ => text.append_null(),
                }
            }
            columns.push(model.label_type.column(text.finish())?);
            if model.has_probabilities() {
                let proba = proba
                    .filter(|p| p.classes == model.classes.len())
                    .ok_or_else(|| {
                        Error::Internal("the model gave no probability for each class".into())
                    })?;
                for class in 0..proba.classes {
                    let column: Float64Array = proba
                        .iter()
                        .enumerate()
                        .map(|(i, p)| scored(i).then_some(p[class]))
                        .collect();
                    columns.push(Arc::new(column));
                }
            }
        }
        (Task::Regression, Output::Values(values)) => {
            let column: Float64Array = values
                .iter()
                .enumerate()
                .map(|(i, v)| scored(i).then_some(*v))
                .collect();
            columns.push(Arc::new(column));
        }
        (task, _) => {
            return Err(Error::Internal(format!(
                "the model's output does not match its task ({task:?})"
            )));
        }
    }
    columns.push(Arc::new(StringArray::from(vec![version; rows])));
    columns.push(Arc::new(
        errors.iter().map(Option::as_deref).collect::<StringArray>(),
    ));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Splits a scored batch into the rows with a prediction and the failed rows
/// as quarantine records: every input column as text, plus `_error`.
pub fn split_errors(
    input: &RecordBatch,
    scored: &RecordBatch,
) -> Result<(RecordBatch, RecordBatch)> {
    use arrow::array::{Array, BooleanArray};
    use arrow::compute::{cast, filter, filter_record_batch};
    let errors = scored.column(scored.num_columns() - 1);
    let ok: BooleanArray = (0..errors.len()).map(|i| Some(errors.is_null(i))).collect();
    let failed: BooleanArray = (0..errors.len())
        .map(|i| Some(errors.is_valid(i)))
        .collect();
    let mut fields: Vec<Field> = input
        .schema()
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), DataType::Utf8, true))
        .collect();
    fields.push(Field::new("_error", DataType::Utf8, true));
    let mut columns: Vec<ArrayRef> = input
        .columns()
        .iter()
        .map(|c| Ok(filter(&cast(c, &DataType::Utf8)?, &failed)?))
        .collect::<Result<_>>()?;
    columns.push(filter(errors, &failed)?);
    let quarantined = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    Ok((filter_record_batch(scored, &ok)?, quarantined))
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::Int64Type;
    use model::{EstimatorParams, FeatureParams, LabelType, ModelParams};

    use super::*;

    /// Issue 11.8: integer class labels came out as the strings "0" and "1".
    #[test]
    fn predictions_have_the_target_type() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("label", DataType::Int64, true),
        ]));
        let x: Vec<f64> = (0..40).map(f64::from).collect();
        let label: Vec<i64> = (0..40).map(|i| if i < 20 { 0 } else { 10 }).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(x)),
                Arc::new(Int64Array::from(label)),
            ],
        )
        .unwrap();
        let params = ModelParams {
            name: "ints".into(),
            task: Task::Classification,
            target: "label".into(),
            features: FeatureParams {
                numeric: vec!["x".into()],
                ..FeatureParams::default()
            },
            estimator: EstimatorParams::new(
                "decision_tree",
                Task::Classification,
                &serde_json::json!({}),
            )
            .unwrap(),
            seed: 1,
        };
        let model = params.fit(&batch).unwrap();
        assert_eq!(model.label_type, LabelType::Integer);
        let out = predict(&model, &batch, "v1", &[], &[]).unwrap();
        let prediction = out.column_by_name(PREDICTION).unwrap();
        assert_eq!(prediction.data_type(), &DataType::Int64);
        let prediction = prediction.as_primitive::<Int64Type>();
        assert_eq!((prediction.value(0), prediction.value(39)), (0, 10));
        assert!(out.column_by_name("proba_10").is_some());
    }
}
