//! Output datasets: each split (and the quarantine) is a folder of Parquet
//! part files, a new part every `max_rows_per_file` rows.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::{Location, ParquetSink, ParquetWriteOptions, WrittenFile};

use crate::error::Result;
use crate::transform::Invalid;

/// Writes one dataset folder as numbered parts.
#[derive(Debug)]
pub struct DatasetWriter {
    folder: Location,
    schema: SchemaRef,
    options: ParquetWriteOptions,
    max_rows: usize,
    current: Option<ParquetSink>,
    written: Vec<WrittenFile>,
}

impl DatasetWriter {
    /// A writer for `folder` (e.g. `runs/<id>/train`).
    pub fn new(
        folder: Location,
        schema: SchemaRef,
        options: ParquetWriteOptions,
        max_rows: usize,
    ) -> Self {
        Self {
            folder,
            schema,
            options,
            max_rows: max_rows.max(1),
            current: None,
            written: Vec::new(),
        }
    }

    /// Appends rows, starting new parts as needed.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                let name = format!("part-{:05}.parquet", self.written.len());
                let sink = ParquetSink::create(
                    &self.folder.join(&name)?,
                    Arc::clone(&self.schema),
                    &self.options,
                )?;
                self.current = Some(sink);
            }
            let Some(sink) = self.current.as_mut() else {
                break;
            };
            let room = self.max_rows - sink.rows() as usize;
            let take = room.min(batch.num_rows() - offset);
            sink.write(&batch.slice(offset, take)).await?;
            offset += take;
            if sink.rows() as usize >= self.max_rows {
                self.roll().await?;
            }
        }
        Ok(())
    }

    async fn roll(&mut self) -> Result<()> {
        if let Some(sink) = self.current.take() {
            self.written.push(sink.finish().await?);
        }
        Ok(())
    }

    /// Finishes the last part. With `always`, a dataset that got no rows still
    /// gets one empty part, so readers learn its schema.
    pub async fn finish(mut self, always: bool) -> Result<Vec<WrittenFile>> {
        if self.current.is_none() && self.written.is_empty() && always {
            let name = format!("part-{:05}.parquet", 0);
            let sink = ParquetSink::create(
                &self.folder.join(&name)?,
                Arc::clone(&self.schema),
                &self.options,
            )?;
            self.current = Some(sink);
        }
        self.roll().await?;
        Ok(self.written)
    }

    /// Discards the part in progress (on failure).
    pub async fn abort(mut self) {
        if let Some(sink) = self.current.take() {
            let _ = sink.abort().await;
        }
    }
}

/// The quarantine schema: every output column as text (original values),
/// then `_reason`, `_rule`, `_source` and `_raw`.
pub fn quarantine_schema(output: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = output
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), DataType::Utf8, true))
        .collect();
    fields.push(Field::new("_reason", DataType::Utf8, false));
    fields.push(Field::new("_rule", DataType::Utf8, false));
    fields.push(Field::new("_source", DataType::Utf8, false));
    fields.push(Field::new("_raw", DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

/// Builds a quarantine batch; `source_name(file)` gives a file's display name.
pub fn quarantine_batch(
    schema: &SchemaRef,
    rows: &[Invalid],
    source_name: &dyn Fn(usize) -> String,
) -> Result<RecordBatch> {
    let width = schema.fields().len() - 4;
    let mut values: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
    let (mut reason, mut rule, mut source, mut raw) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for row in rows {
        for (j, builder) in values.iter_mut().enumerate() {
            builder.append_option(row.values.get(j).cloned().flatten());
        }
        reason.append_value(row.reason.to_string());
        rule.append_value(row.reason.key());
        source.append_value(format!("{}:{}", source_name(row.file), row.row));
        raw.append_option(row.raw.as_deref());
    }
    let mut columns: Vec<ArrayRef> = values
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    for mut builder in [reason, rule, source, raw] {
        columns.push(Arc::new(builder.finish()));
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
