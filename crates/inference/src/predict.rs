//! Scoring one batch: the passthrough columns, `prediction`, one
//! `proba_<class>` column per class for classifiers, `model_version`, and
//! `_error` for rows that could not be scored (their prediction is null).

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use model::{Model, Prediction, Task};

use crate::error::{Error, Result};

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
        Task::Classification => DataType::Utf8,
        Task::Regression => DataType::Float64,
    };
    fields.push(Field::new("prediction", prediction_type, true));
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

/// Scores `batch` with `model`, labelling rows with `version`.
pub fn predict(
    model: &Model,
    batch: &RecordBatch,
    version: &str,
    passthrough: &[String],
) -> Result<RecordBatch> {
    let schema = output_schema(model, &batch.schema(), passthrough)?;
    let predictions = model.predict_batch(batch)?;
    let rows = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in passthrough {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Internal(format!("passthrough '{name}' vanished")))?;
        columns.push(Arc::clone(column));
    }
    let mut errors = StringBuilder::new();
    match model.task {
        Task::Classification => {
            let mut labels = StringBuilder::new();
            let k = model.classes.len();
            let mut proba: Vec<Float64Builder> = (0..k)
                .map(|_| Float64Builder::with_capacity(rows))
                .collect();
            for prediction in &predictions {
                match prediction {
                    Prediction::Class {
                        label,
                        probabilities,
                    } => {
                        labels.append_value(label);
                        for (c, builder) in proba.iter_mut().enumerate() {
                            builder.append_option(probabilities.as_ref().map(|p| p[c]));
                        }
                        errors.append_null();
                    }
                    other => {
                        labels.append_null();
                        proba.iter_mut().for_each(|b| b.append_null());
                        errors.append_value(error_text(other));
                    }
                }
            }
            columns.push(Arc::new(labels.finish()));
            if model.has_probabilities() {
                columns.extend(proba.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
            }
        }
        Task::Regression => {
            let mut values = Float64Builder::with_capacity(rows);
            for prediction in &predictions {
                match prediction {
                    Prediction::Value(v) => {
                        values.append_value(*v);
                        errors.append_null();
                    }
                    other => {
                        values.append_null();
                        errors.append_value(error_text(other));
                    }
                }
            }
            columns.push(Arc::new(values.finish()));
        }
    }
    columns.push(Arc::new(StringArray::from(vec![version; rows])));
    columns.push(Arc::new(errors.finish()));
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn error_text(prediction: &Prediction) -> String {
    match prediction {
        Prediction::Error(message) => message.clone(),
        other => format!("unexpected prediction {other:?}"),
    }
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
