//! Shared machinery of the text readers: a blocking `Read` that counts
//! progress, all-string columns that become a [`RawBatch`], and the sender
//! of a file's pieces.

use std::io::Read;
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryBuilder, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::storage::{RecordChunk, RecordChunker};
use tokio::sync::mpsc;

use super::{Message, Piece, RawBatch, Rejected};
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

/// Rows as strings, column by column, with their source lines and the rows
/// set aside: what becomes one [`RawBatch`]. Cells are collected as bytes
/// and checked as UTF-8 once per column when the batch is made (one pass
/// over the column instead of a check per cell).
pub(super) struct Columns {
    file: usize,
    names: Arc<[String]>,
    builders: Vec<BinaryBuilder>,
    rows: Vec<u64>,
    rejected: Vec<Rejected>,
}

impl Columns {
    /// Empty columns with room for `rows` rows of about `bytes` bytes of text
    /// in all.
    pub(super) fn with_capacity(
        file: usize,
        names: Arc<[String]>,
        rows: usize,
        bytes: usize,
    ) -> Self {
        let per_column = bytes / names.len().max(1);
        Self {
            file,
            builders: names
                .iter()
                .map(|_| BinaryBuilder::with_capacity(rows, per_column))
                .collect(),
            names,
            rows: Vec::with_capacity(rows),
            rejected: Vec::new(),
        }
    }

    pub(super) fn name(&self, index: usize) -> &str {
        self.names.get(index).map(String::as_str).unwrap_or("?")
    }

    pub(super) fn width(&self) -> usize {
        self.names.len()
    }

    /// Appends one row; `values` has exactly [`width`](Self::width)
    /// entries. Bytes that are not UTF-8 make [`into_batch`](Self::into_batch)
    /// give `None`.
    pub(super) fn row<'a>(&mut self, line: u64, values: impl Iterator<Item = Option<&'a [u8]>>) {
        for (builder, value) in self.builders.iter_mut().zip(values) {
            builder.append_option(value);
        }
        self.rows.push(line);
    }

    /// Sets a row aside.
    pub(super) fn reject(&mut self, rejected: Rejected) {
        self.rejected.push(rejected);
    }

    /// The rows as a batch. `None` when a cell is not UTF-8 (rows with such
    /// cells must be rejected one by one instead).
    pub(super) fn into_batch(mut self) -> Result<Option<RawBatch>> {
        let fields: Vec<Field> = self
            .names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for builder in &mut self.builders {
            match StringArray::try_from_binary(builder.finish()) {
                Ok(text) => columns.push(Arc::new(text)),
                Err(_) => return Ok(None),
            }
        }
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(self.rows.len()));
        let batch =
            RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options)?;
        Ok(Some(RawBatch {
            file: self.file,
            batch,
            rows: self.rows,
            rejected: self.rejected,
        }))
    }
}

/// The next `records` records of a text file; a read error names the last
/// line read before it.
pub(super) fn next_chunk<R: Read>(
    chunker: &mut RecordChunker<R>,
    records: usize,
) -> Result<Option<RecordChunk>> {
    let line = chunker.line();
    chunker.next(records).map_err(|e| Error::File {
        file: String::new(),
        message: format!("read error after line {}: {e}", line.saturating_sub(1)),
    })
}

/// Sends the column names, then pieces of the file, to the run.
pub(super) struct Out {
    tx: mpsc::Sender<Result<Message>>,
}

impl Out {
    pub(super) fn new(tx: mpsc::Sender<Result<Message>>) -> Self {
        Self { tx }
    }

    /// Announces the column names; must come before any piece.
    pub(super) fn columns(&self, names: Vec<String>) -> Result<()> {
        self.send(Message::Columns(names))
    }

    pub(super) fn piece(&self, piece: Piece) -> Result<()> {
        self.send(Message::Piece(piece))
    }

    fn send(&self, message: Message) -> Result<()> {
        // The receiver is gone only when the run is already failing or was cancelled.
        self.tx
            .blocking_send(Ok(message))
            .map_err(|_| Error::Internal("input reader cancelled".into()))
    }
}
