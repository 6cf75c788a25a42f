//! Shared machinery of the text readers: a blocking `Read` that counts
//! progress, and a sink that builds all-string batches and sends them on.

use std::io::Read;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use tokio::sync::mpsc;

use super::{Message, RawBatch, Rejected};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Counts the bytes read from `inner` into `progress`.
pub(super) struct Counted<R> {
    pub(super) inner: R,
    pub(super) progress: Progress,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Collects rows as strings and sends a batch every `batch_size` rows.
pub(super) struct Sink {
    tx: mpsc::Sender<Result<Message>>,
    file: usize,
    batch_size: usize,
    names: Vec<String>,
    builders: Vec<StringBuilder>,
    rows: Vec<u64>,
    rejected: Vec<Rejected>,
}

impl Sink {
    pub(super) fn new(tx: mpsc::Sender<Result<Message>>, file: usize, batch_size: usize) -> Self {
        Self {
            tx,
            file,
            batch_size,
            names: Vec::new(),
            builders: Vec::new(),
            rows: Vec::new(),
            rejected: Vec::new(),
        }
    }

    /// Announces the column names; must come before any row.
    pub(super) fn columns(&mut self, names: Vec<String>) -> Result<()> {
        self.builders = names.iter().map(|_| StringBuilder::new()).collect();
        self.names = names.clone();
        self.send(Message::Columns(names))
    }

    pub(super) fn name(&self, index: usize) -> &str {
        self.names.get(index).map(String::as_str).unwrap_or("?")
    }

    pub(super) fn width(&self) -> usize {
        self.names.len()
    }

    /// Appends one row; `values` has exactly [`width`](Self::width) entries.
    pub(super) fn row<'a>(
        &mut self,
        line: u64,
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<()> {
        for (builder, value) in self.builders.iter_mut().zip(values) {
            builder.append_option(value);
        }
        self.rows.push(line);
        if self.rows.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    /// Sets a row aside.
    pub(super) fn reject(&mut self, rejected: Rejected) -> Result<()> {
        self.rejected.push(rejected);
        if self.rejected.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends what is buffered (also at end of file).
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.rows.is_empty() && self.rejected.is_empty() {
            return Ok(());
        }
        let fields: Vec<Field> = self
            .names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect();
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(self.rows.len()));
        let batch =
            RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options)?;
        let raw = RawBatch {
            file: self.file,
            batch,
            rows: std::mem::take(&mut self.rows),
            rejected: std::mem::take(&mut self.rejected),
        };
        self.send(Message::Batch(raw))
    }

    fn send(&self, message: Message) -> Result<()> {
        // The receiver is gone only when the run is already failing or was cancelled.
        self.tx
            .blocking_send(Ok(message))
            .map_err(|_| Error::Internal("input reader cancelled".into()))
    }
}
