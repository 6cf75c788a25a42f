//! The model's SQL transform replayed on the rows inference scores (see
//! `sql::Transform::replay`): after the cleaning, each batch's typed
//! columns go through the same query etl ran, with the same reference
//! tables, so the model sees the features training saw. Every input row
//! gets a result: the query's filters are not applied here, and a row the
//! query cannot compute gets a null prediction and an `_error`.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, take};
use arrow::datatypes::{Field, Schema, SchemaRef};
use records::prediction::{AppliedTransform, ModelRecord};

use crate::config::{InferenceConfig, TransformSource, TransformTables};
use crate::error::{Error, Result};
use crate::input::Prepared;

/// Whether a column of type `found` can be read as `expected` without
/// turning its values into nulls (text is parsed row by row, with errors).
fn readable_as(found: &arrow::datatypes::DataType, expected: &arrow::datatypes::DataType) -> bool {
    use arrow::datatypes::DataType as T;
    let text = matches!(
        found,
        T::Utf8 | T::LargeUtf8 | T::Utf8View | T::Dictionary(..)
    );
    match expected {
        _ if found == expected || matches!(found, T::Null) => true,
        e if e.is_numeric() => found.is_numeric() || matches!(found, T::Boolean),
        T::Boolean => matches!(found, T::Boolean) || found.is_integer(),
        e if e.is_temporal() => found.is_temporal(),
        T::Utf8 | T::LargeUtf8 | T::Utf8View => {
            text || matches!(found, T::Boolean) || found.is_integer() || found.is_temporal()
        }
        _ => text,
    }
}

/// A transform ready to replay.
#[derive(Debug)]
pub struct Replay {
    transform: sql::Transform,
    /// The cleaned columns the query reads, with their recorded types.
    before: SchemaRef,
    applied: AppliedTransform,
}

impl Replay {
    /// The model's transform planned for replay, unless it has none or the
    /// config turns it off; `keep` names the columns the model and the
    /// passthrough need from its result.
    pub async fn for_model(
        config: &InferenceConfig,
        record: &ModelRecord,
        keep: &[String],
    ) -> Result<Option<Self>> {
        let Some(recorded) = &record.transform else {
            return Ok(None);
        };
        if config.transform == TransformSource::None {
            log::info!("the model's transform is not replayed (inference.transform: none)");
            return Ok(None);
        }
        let check = match config.transform_tables {
            TransformTables::Recorded => sql::TableCheck::Recorded,
            TransformTables::Current => sql::TableCheck::Current,
        };
        let transform = sql::Transform::replay(recorded, check, keep).await?;
        let before = Arc::new(Schema::new(
            transform
                .record()
                .columns_before
                .iter()
                .map(|c| {
                    let data_type = c.data_type.parse().map_err(|e| Error::Config {
                        key: "model card: transform".into(),
                        message: format!("column '{}' has type '{}': {e}", c.name, c.data_type),
                    })?;
                    Ok(Field::new(&c.name, data_type, true))
                })
                .collect::<Result<Vec<_>>>()?,
        ));
        let applied = AppliedTransform {
            tables: transform.record().tables.clone(),
            tables_check: match check {
                sql::TableCheck::Recorded => "recorded",
                sql::TableCheck::Current => "current",
            }
            .into(),
            required_inputs: transform.required_inputs().to_vec(),
        };
        log::info!(
            "replaying the model's transform: reads {}",
            applied.required_inputs.join(", ")
        );
        Ok(Some(Self {
            transform,
            before,
            applied,
        }))
    }

    /// What the prediction manifest records.
    pub fn applied(&self) -> &AppliedTransform {
        &self.applied
    }

    /// The input columns the query reads, with the types it reads them as.
    pub fn required(&self) -> Vec<Field> {
        self.applied
            .required_inputs
            .iter()
            .filter_map(|name| self.before.field_with_name(name).ok().cloned())
            .collect()
    }

    /// Refuses an input that lacks a column the query reads, or a
    /// passthrough column the query does not make (all named at once), or
    /// has one of a type the query cannot read it as.
    pub fn check_input(&self, schema: &Schema, passthrough: &[String], file: &str) -> Result<()> {
        let output = self.transform.output_schema();
        let mut missing: Vec<String> = Vec::new();
        let wanted = self
            .applied
            .required_inputs
            .iter()
            .chain(passthrough.iter().filter(|p| output.index_of(p).is_err()));
        for name in wanted {
            let quoted = format!("'{name}'");
            if schema.index_of(name).is_err() && !missing.contains(&quoted) {
                missing.push(quoted);
            }
        }
        if !missing.is_empty() {
            return Err(Error::Schema {
                file: file.to_string(),
                message: format!(
                    "missing column(s) {} that the model's transform (or passthrough) reads (to score rows that already went through the transform, such as etl's output, set inference.transform: none)",
                    missing.join(", ")
                ),
            });
        }
        for expected in self.required() {
            let Ok(found) = schema.field_with_name(expected.name()) else {
                continue;
            };
            if !readable_as(found.data_type(), expected.data_type()) {
                return Err(Error::Schema {
                    file: file.to_string(),
                    message: format!(
                        "column '{}' has type {}, the model's transform reads it as {}",
                        expected.name(),
                        found.data_type(),
                        expected.data_type()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The schema of the rows the model gets: the query's result, then the
    /// passthrough columns it does not make, from the input.
    pub fn model_schema(&self, input: &Schema, passthrough: &[String]) -> SchemaRef {
        let output = self.transform.output_schema();
        let mut fields: Vec<Field> = output.fields().iter().map(|f| f.as_ref().clone()).collect();
        for name in passthrough {
            if output.index_of(name).is_err()
                && let Ok(field) = input.field_with_name(name)
            {
                fields.push(field.clone());
            }
        }
        Arc::new(Schema::new(fields))
    }

    /// Runs the query on a prepared batch: its typed columns become the
    /// query's result, row for row; rows it could not compute get an error.
    pub async fn apply(&self, ready: Prepared, passthrough: &[String]) -> Result<Prepared> {
        let Prepared {
            input,
            typed,
            errors,
        } = ready;
        let rows = typed.num_rows();
        let internal = |e: arrow::error::ArrowError| Error::Internal(e.to_string());
        let safe = CastOptions {
            safe: true,
            ..CastOptions::default()
        };
        let columns: Vec<ArrayRef> = self
            .before
            .fields()
            .iter()
            .map(|field| match typed.column_by_name(field.name()) {
                Some(column) => {
                    cast_with_options(column, field.data_type(), &safe).map_err(internal)
                }
                None => Ok(new_null_array(field.data_type(), rows)),
            })
            .collect::<Result<_>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(Arc::clone(&self.before), columns, &options)
            .map_err(internal)?;
        let applied = self.transform.apply(batch).await?;
        let mut position: Vec<Option<u32>> = vec![None; rows];
        for (j, &i) in applied.kept.iter().enumerate() {
            position[i] = Some(j as u32);
        }
        let indices = UInt32Array::from(position.clone());
        let schema = self.model_schema(&typed.schema(), passthrough);
        let mut out: Vec<ArrayRef> = applied
            .batch
            .columns()
            .iter()
            .map(|c| take(c.as_ref(), &indices, None).map_err(internal))
            .collect::<Result<_>>()?;
        for field in schema.fields().iter().skip(out.len()) {
            let column = typed.column_by_name(field.name()).ok_or_else(|| {
                Error::Internal(format!("passthrough column '{}' vanished", field.name()))
            })?;
            out.push(Arc::clone(column));
        }
        let typed = RecordBatch::try_new_with_options(schema, out, &options).map_err(internal)?;
        let mut errors = if errors.is_empty() {
            vec![None; rows]
        } else {
            errors
        };
        for (i, message) in &applied.failed {
            if errors[*i].is_none() {
                errors[*i] = Some(format!("transform: {message}"));
            }
        }
        // A failed row has its error by now; any other row without a result
        // was left out by the query.
        for (i, at) in position.iter().enumerate() {
            if at.is_none() && errors[i].is_none() {
                errors[i] = Some("transform: the query left this row out".into());
            }
        }
        Ok(Prepared::new(input, typed, errors))
    }
}
