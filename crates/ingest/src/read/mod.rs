//! Reading input files into [`RawBatch`]es: the file's own columns, one row per
//! record, with the source line of each row. Text formats (CSV, NDJSON) give
//! all-string columns that the transform step casts; Parquet gives its own
//! types. Rows that cannot even be split into columns (ragged, invalid UTF-8,
//! malformed JSON) are set aside as [`Rejected`] with their raw text.

pub mod csv;
pub mod ndjson;
mod parquet;
mod strings;

/// Fewest lines of an NDJSON file whose keys make its columns.
pub use ndjson::DISCOVER_LINES as NDJSON_DISCOVER_LINES;

use std::sync::Arc;

use arrow::array::RecordBatch;
use common::storage::{Compression, FileFormat, InputFile};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

pub use records::cleaning::CsvConfig;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::reason::Reason;

/// What a key outside the columns does to its NDJSON row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKeys {
    /// The row is set aside (`unknown_field`): etl's strict schema.
    #[default]
    Reject,
    /// The key is ignored: inference reads only the columns it needs, and
    /// a field added upstream after the first lines changes nothing.
    Ignore,
}

/// A batch of rows from one input file, before cleaning.
#[derive(Debug)]
pub struct RawBatch {
    /// Index of the file in the plan.
    pub file: usize,
    /// The rows, in the file's own columns.
    pub batch: RecordBatch,
    /// Source line (text) or 1-based row number (Parquet) of each row.
    pub rows: Vec<u64>,
    /// Rows that could not be split into columns.
    pub rejected: Vec<Rejected>,
}

impl RawBatch {
    /// Strict reading, for callers that want the first error instead of
    /// rejected rows: the batch if no row was set aside, else an error
    /// naming `file`, the first rejected row's line and its reason.
    pub fn strict(self, file: &str) -> Result<Self> {
        match self.rejected.iter().min_by_key(|r| r.row) {
            None => Ok(self),
            Some(first) => Err(Error::File {
                file: file.to_string(),
                message: format!("line {}: {}", first.row, first.reason),
            }),
        }
    }
}

/// A row that could not be parsed into the file's columns.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Source line.
    pub row: u64,
    /// The fields that could be read, by column position (lossy UTF-8).
    pub values: Vec<Option<String>>,
    /// The whole record as text (lossy UTF-8).
    pub raw: String,
    /// Why it was rejected.
    pub reason: Reason,
}

/// One input file and how to read it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Position in the plan (and in the manifest's input list).
    pub index: usize,
    /// Where it is, its size and version.
    pub file: InputFile,
    /// Its format.
    pub format: FileFormat,
    /// Compression around a text format.
    pub compression: Compression,
    /// Parquet only: read just these row groups (a shard's share), rows
    /// still numbered as in the whole file; `None` reads it all.
    pub row_groups: Option<Vec<usize>>,
}

impl SourceFile {
    /// The file as shown in messages and `_source`.
    pub fn name(&self) -> String {
        self.file.location.to_string()
    }
}

/// A piece of one file: a batch, or CSV records still to be parsed (parsing
/// happens where the piece is processed, so it runs in parallel).
#[derive(Debug)]
pub enum Piece {
    /// Rows read already.
    Batch(RawBatch),
    /// Whole CSV records.
    Csv(csv::Chunk),
    /// Whole NDJSON lines.
    Ndjson(ndjson::Chunk),
}

impl Piece {
    /// The rows of the piece, parsing them if needed.
    pub fn into_batch(self) -> Result<RawBatch> {
        match self {
            Piece::Batch(batch) => Ok(batch),
            Piece::Csv(chunk) => chunk.parse(),
            Piece::Ndjson(chunk) => chunk.parse(),
        }
    }
}

/// Pieces of one file, in order.
pub type RawStream = BoxStream<'static, Result<Piece>>;

/// What a reader thread sends: the column names first, then pieces.
enum Message {
    Columns(Vec<String>),
    Piece(Piece),
}

/// Opens `source` and returns its column names (as in the file, before
/// renaming) and a stream of its pieces of `batch_size` rows.
///
/// `columns` fixes the column names where the file does not carry them
/// (headerless CSV, NDJSON after the first file); `None` takes them from the
/// file (CSV header, Parquet schema, keys of the first NDJSON rows).
/// `unknown_keys` says what a later NDJSON key outside them does.
pub async fn open(
    source: &SourceFile,
    csv: &CsvConfig,
    columns: Option<Vec<String>>,
    batch_size: usize,
    unknown_keys: UnknownKeys,
    progress: Progress,
) -> Result<(Vec<String>, RawStream)> {
    if source.format == FileFormat::Parquet {
        return parquet::open(source, batch_size, progress).await;
    }
    let inner = source.file.location.open_read(source.compression).await?;
    let (tx, mut rx) = mpsc::channel::<Result<Message>>(2);
    let reader = strings::Counted { inner, progress };
    let source = Arc::new(source.clone());
    let csv_config = csv.clone();
    let thread_source = Arc::clone(&source);
    tokio::task::spawn_blocking(move || {
        let out = strings::Out::new(tx.clone());
        let result = match thread_source.format {
            FileFormat::Csv => {
                let file = (thread_source.index, Arc::from(thread_source.name()));
                csv::read(reader, &csv_config, columns, file, batch_size, out)
            }
            _ => ndjson::read(
                reader,
                columns,
                thread_source.index,
                batch_size,
                unknown_keys,
                out,
            ),
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let name = source.name();
    let names = match rx.recv().await {
        Some(Ok(Message::Columns(names))) => names,
        Some(Err(e)) => return Err(e.in_file(&name)),
        Some(Ok(Message::Piece(_))) | None => {
            return Err(Error::Internal(format!(
                "{}: reader sent no columns",
                source.name()
            )));
        }
    };
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).filter_map(move |m| {
        let name = name.clone();
        async move {
            match m {
                Ok(Message::Piece(piece)) => Some(Ok(piece)),
                Ok(Message::Columns(_)) => None,
                Err(e) => Some(Err(e.in_file(&name))),
            }
        }
    });
    Ok((names, stream.boxed()))
}
