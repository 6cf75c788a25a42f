//! Output datasets: each split (and the quarantine) is a folder of Parquet
//! part files, a new part every `max_rows_per_file` rows.
//!
//! Encoding and compressing Parquet is the most expensive step after parsing,
//! so each dataset is written by its own task: the run loop hands batches
//! over a short channel (two batches deep, so memory stays bounded) and goes
//! on with the next batch while train, test and quarantine encode in parallel.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::{Location, ParquetSink, ParquetWriteOptions, WrittenFile};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::transform::Invalid;

/// Batches queued per dataset before `write` waits for its task.
const QUEUE: usize = 2;

/// What the run loop asks of a dataset's task.
enum Command {
    Write(RecordBatch),
    Finish { always: bool },
}

/// Writes one dataset folder as numbered parts, on a task of its own.
/// Dropping it without [`DatasetWriter::finish`] discards the part in progress.
#[derive(Debug)]
pub struct DatasetWriter {
    commands: Option<mpsc::Sender<Command>>,
    task: Option<JoinHandle<Result<Vec<WrittenFile>>>>,
}

impl DatasetWriter {
    /// Starts the task that writes `folder` (e.g. `runs/<id>/train`). Call
    /// within a Tokio runtime.
    pub fn new(
        folder: Location,
        schema: SchemaRef,
        options: ParquetWriteOptions,
        max_rows: usize,
    ) -> Self {
        let (commands, mut queue) = mpsc::channel(QUEUE);
        let mut parts = Parts::new(folder, schema, options, max_rows);
        let task = tokio::spawn(async move {
            while let Some(command) = queue.recv().await {
                match command {
                    Command::Write(batch) => {
                        if let Err(e) = parts.write(&batch).await {
                            parts.abort().await;
                            return Err(e);
                        }
                    }
                    Command::Finish { always } => return parts.finish(always).await,
                }
            }
            // The run loop dropped its handle: the run failed.
            parts.abort().await;
            Ok(Vec::new())
        });
        Self {
            commands: Some(commands),
            task: Some(task),
        }
    }

    /// Queues rows for writing. An error of an earlier write surfaces here.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let sent = match &self.commands {
            Some(commands) => commands.send(Command::Write(batch)).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The task stopped early: its result holds the reason.
        self.commands = None;
        match self.join().await {
            Err(e) => Err(e),
            Ok(_) => Err(Error::Internal(
                "a dataset writer stopped before its input ended".into(),
            )),
        }
    }

    /// Writes the last part and returns every part written. With `always`, a
    /// dataset that got no rows still gets one empty part, so readers learn
    /// its schema.
    pub async fn finish(mut self, always: bool) -> Result<Vec<WrittenFile>> {
        if let Some(commands) = self.commands.take() {
            // A closed channel means the task ended; `join` says why.
            let _ = commands.send(Command::Finish { always }).await;
        }
        self.join().await
    }

    /// Discards the part in progress (on failure) and waits for the task.
    pub async fn abort(mut self) {
        self.commands = None;
        let _ = self.join().await;
    }

    async fn join(&mut self) -> Result<Vec<WrittenFile>> {
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| Error::Internal(format!("a dataset writer failed: {e}")))?,
            None => Err(Error::Internal(
                "a dataset writer was already finished".into(),
            )),
        }
    }
}

/// The numbered part files of one dataset.
#[derive(Debug)]
struct Parts {
    folder: Location,
    schema: SchemaRef,
    options: ParquetWriteOptions,
    max_rows: usize,
    current: Option<ParquetSink>,
    written: Vec<WrittenFile>,
}

impl Parts {
    fn new(
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
    async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
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

    /// Finishes the last part (and makes an empty one with `always` if none).
    async fn finish(mut self, always: bool) -> Result<Vec<WrittenFile>> {
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
    async fn abort(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn batch(schema: &SchemaRef, values: std::ops::Range<i64>) -> RecordBatch {
        let column: ArrayRef = Arc::new(values.collect::<Int64Array>());
        RecordBatch::try_new(Arc::clone(schema), vec![column]).unwrap()
    }

    fn schema(name: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, false)]))
    }

    #[tokio::test]
    async fn parts_roll_at_max_rows_and_keep_the_order() {
        let folder = Location::parse("memory://write-roll/train").unwrap();
        let schema = schema("x");
        let mut writer =
            DatasetWriter::new(folder.clone(), Arc::clone(&schema), Default::default(), 4);
        writer.write(batch(&schema, 0..3)).await.unwrap();
        writer.write(batch(&schema, 3..10)).await.unwrap();
        let parts = writer.finish(true).await.unwrap();
        let rows: Vec<u64> = parts.iter().map(|p| p.rows).collect();
        assert_eq!(rows, [4, 4, 2]);
        let mut seen = Vec::new();
        for part in &parts {
            let location = Location::parse(&part.location).unwrap();
            let source = common::storage::ParquetSource::open(&location)
                .await
                .unwrap();
            let batches: Vec<RecordBatch> =
                futures::TryStreamExt::try_collect(source.stream(1024, None).unwrap())
                    .await
                    .unwrap();
            for b in batches {
                let column = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                seen.extend(column.values().iter().copied());
            }
        }
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_failed_write_surfaces_and_aborting_leaves_no_part() {
        let folder = Location::parse("memory://write-fail/train").unwrap();
        let mut writer = DatasetWriter::new(folder.clone(), schema("x"), Default::default(), 100);
        writer.write(batch(&schema("x"), 0..3)).await.unwrap();
        // A batch of another schema fails in the task; the error reaches the
        // caller on a later call, and the part in progress is discarded.
        let text = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, false)]));
        let column: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["a"]));
        let wrong = RecordBatch::try_new(text, vec![column]).unwrap();
        let _ = writer.write(wrong).await;
        let mut failed = false;
        for _ in 0..QUEUE + 2 {
            if writer.write(batch(&schema("x"), 0..1)).await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the write error never surfaced");
        assert!(folder.list().await.unwrap().is_empty());

        let folder = Location::parse("memory://write-abort/train").unwrap();
        let mut writer = DatasetWriter::new(folder.clone(), schema("x"), Default::default(), 100);
        writer.write(batch(&schema("x"), 0..3)).await.unwrap();
        writer.abort().await;
        assert!(folder.list().await.unwrap().is_empty());
    }
}
