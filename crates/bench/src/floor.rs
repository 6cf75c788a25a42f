//! The I/O floor of inference: read a Parquet input in batches and write an
//! output of inference's shape (`id`, `prediction`, `proba_0`, `proba_1`,
//! `model_version`, `_error`) with no model, using the same `common` reader and
//! writer, batch size and compression as `inference`. Inference cannot be
//! faster than this; the bench reports how close it gets.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::storage::{Location, ParquetSink, ParquetSource, ParquetWriteOptions};
use futures::TryStreamExt;
use serde::Serialize;

use crate::{Error, Result};

/// What the floor run did.
#[derive(Debug, Clone, Serialize)]
pub struct FloorReport {
    /// Rows read and written.
    pub rows: u64,
    /// Size of the input file.
    pub input_bytes: u64,
    /// Size of the output file.
    pub output_bytes: u64,
    /// Wall time of the read + write.
    pub seconds: f64,
}

/// Reads `input` (which needs an `id` column and float columns `x1`, `x2`)
/// and writes `output` with `batch_size`-row batches.
pub async fn io_floor(
    input: &Location,
    output: &Location,
    batch_size: usize,
) -> Result<FloorReport> {
    let started = Instant::now();
    let source = ParquetSource::open(input).await?;
    let in_schema = source.schema();
    let column = |batch: &RecordBatch, name: &str| -> Result<ArrayRef> {
        batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("{input}: no column '{name}'")))
    };
    let id = in_schema
        .field_with_name("id")
        .map_err(|_| Error::Invalid(format!("{input}: no column 'id'")))?;
    let schema = Arc::new(Schema::new(vec![
        id.clone().with_nullable(true),
        Field::new("prediction", DataType::Utf8, true),
        Field::new("proba_0", DataType::Float64, true),
        Field::new("proba_1", DataType::Float64, true),
        Field::new("model_version", DataType::Utf8, false),
        Field::new("_error", DataType::Utf8, true),
    ]));
    let mut sink =
        ParquetSink::create(output, Arc::clone(&schema), &ParquetWriteOptions::default())?;
    let mut stream = source.stream(batch_size, None)?;
    while let Some(batch) = stream.try_next().await? {
        let rows = batch.num_rows();
        let x1 = column(&batch, "x1")?;
        let x2 = column(&batch, "x2")?;
        // A label per row from one feature: the cheapest stand-in for a model.
        let prediction: StringArray = x1
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| Error::Invalid(format!("{input}: column 'x1' is not float64")))?
            .iter()
            .map(|v| Some(if v.unwrap_or(0.0) > 10.0 { "1" } else { "0" }))
            .collect();
        let out = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                column(&batch, "id")?,
                Arc::new(prediction),
                x1,
                x2,
                Arc::new(StringArray::from(vec!["v0"; rows])),
                arrow::array::new_null_array(&DataType::Utf8, rows),
            ],
        )
        .map_err(|source| Error::Arrow {
            context: format!("{output}: building a batch"),
            source,
        })?;
        sink.write(&out).await?;
    }
    let written = sink.finish().await?;
    Ok(FloorReport {
        rows: written.rows,
        input_bytes: source.size(),
        output_bytes: written.bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
