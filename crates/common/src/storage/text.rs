//! Streaming CSV and NDJSON reads. One blocking thread reads the object
//! (gunzipped on the fly when compressed) and cuts it into chunks of whole
//! records ([`RecordChunker`]: CSV records, or lines); the chunks are decoded
//! by arrow's decoders in parallel on Tokio's blocking pool and come out in
//! order. Memory is bounded by the batch size times the chunks in flight,
//! whatever the file size.
//!
//! Without a schema, one is inferred from the first chunk (`infer_rows`
//! records); that chunk is then decoded too, so the object is read only once.

use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use super::chunks::{CsvDialect, RecordChunk, RecordChunker};
use super::{BatchStream, Compression, Location};
use crate::error::{Error, Result};

/// Default number of rows per record batch.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// How to parse a CSV file.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field separator (default `,`).
    pub delimiter: u8,
    /// Whether the first line holds column names (default true).
    pub has_header: bool,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Escape character inside quoted fields (default none: quotes are doubled).
    pub escape: Option<u8>,
    /// Lines starting with this byte are skipped (default none).
    pub comment: Option<u8>,
    /// Cell values read as null (default `""`, `NA`, `null`).
    pub null_tokens: Vec<String>,
    /// Rows per record batch.
    pub batch_size: usize,
    /// Rows sampled for schema inference when no schema is given.
    pub infer_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            has_header: true,
            quote: b'"',
            escape: None,
            comment: None,
            null_tokens: vec![String::new(), "NA".into(), "null".into()],
            batch_size: DEFAULT_BATCH_SIZE,
            infer_rows: 1000,
        }
    }
}

impl CsvOptions {
    fn dialect(&self) -> CsvDialect {
        CsvDialect {
            delimiter: self.delimiter,
            quote: self.quote,
            escape: self.escape,
            comment: self.comment,
        }
    }

    fn null_regex(&self) -> Result<regex::Regex, ArrowError> {
        let alternatives: Vec<String> = self.null_tokens.iter().map(|t| regex::escape(t)).collect();
        regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
            .map_err(|e| ArrowError::InvalidArgumentError(format!("null tokens: {e}")))
    }

    fn format(&self) -> Result<arrow::csv::reader::Format, ArrowError> {
        let mut format = arrow::csv::reader::Format::default()
            .with_header(self.has_header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote)
            .with_null_regex(self.null_regex()?);
        if let Some(escape) = self.escape {
            format = format.with_escape(escape);
        }
        if let Some(comment) = self.comment {
            format = format.with_comment(comment);
        }
        Ok(format)
    }
}

/// Streams a CSV file as record batches; returns the schema used (given or inferred).
pub async fn read_csv(
    location: &Location,
    compression: Compression,
    options: &CsvOptions,
    schema: Option<SchemaRef>,
) -> Result<(SchemaRef, BatchStream)> {
    let decode_err = |source| Error::Decode {
        location: location.to_string(),
        format: "CSV",
        source,
    };
    let format = options.format().map_err(decode_err)?;
    let input = location.open_read(compression).await?;
    let batch_size = options.batch_size.max(1);
    // The first chunk holds the header and the rows to infer from (or a batch).
    let first = usize::from(options.has_header)
        + match schema {
            Some(_) => batch_size,
            None => options.infer_rows.max(1),
        };
    let chunker = RecordChunker::new(input, &options.dialect());
    let (first, rest) = chunks(location, chunker, first, batch_size).await?;
    let schema = match schema {
        Some(schema) => schema,
        None => {
            let text = first.as_ref().map_or(&[][..], |c| &c.bytes[..]);
            let (inferred, _) = format
                .infer_schema(Cursor::new(text), Some(options.infer_rows))
                .map_err(decode_err)?;
            Arc::new(inferred)
        }
    };
    let decoder = CsvChunks {
        schema: Arc::clone(&schema),
        format,
        has_header: options.has_header,
        batch_size,
    };
    let stream = decode_chunks(location, "CSV", first, rest, move |chunk, index| {
        decoder.decode(chunk, index == 0)
    });
    Ok((schema, stream))
}

/// Streams a newline-delimited JSON file as record batches; returns the schema used.
pub async fn read_ndjson(
    location: &Location,
    compression: Compression,
    batch_size: usize,
    infer_rows: usize,
    schema: Option<SchemaRef>,
) -> Result<(SchemaRef, BatchStream)> {
    let decode_err = |source| Error::Decode {
        location: location.to_string(),
        format: "NDJSON",
        source,
    };
    let input = location.open_read(compression).await?;
    let batch_size = batch_size.max(1);
    let first = match schema {
        Some(_) => batch_size,
        None => infer_rows.max(1),
    };
    let chunker = RecordChunker::lines(input);
    let (first, rest) = chunks(location, chunker, first, batch_size).await?;
    let schema = match schema {
        Some(schema) => schema,
        None => {
            let text = first.as_ref().map_or(&[][..], |c| &c.bytes[..]);
            let (inferred, _) =
                arrow::json::reader::infer_json_schema(Cursor::new(text), Some(infer_rows))
                    .map_err(decode_err)?;
            Arc::new(inferred)
        }
    };
    let decoded = Arc::clone(&schema);
    let stream = decode_chunks(location, "NDJSON", first, rest, move |chunk, _| {
        decode_json(&decoded, batch_size, &chunk)
    });
    Ok((schema, stream))
}

/// Chunks still to come from the reader thread.
type Chunks = mpsc::Receiver<std::io::Result<RecordChunk>>;

/// Starts the reader thread: a first chunk of `first` records, then chunks
/// of `batch_size`. Returns the first chunk (`None` for an empty object) and
/// the channel of the others.
async fn chunks(
    location: &Location,
    mut chunker: RecordChunker<Box<dyn Read + Send>>,
    first: usize,
    batch_size: usize,
) -> Result<(Option<RecordChunk>, Chunks)> {
    let (tx, mut rx) = mpsc::channel(2);
    // Reading blocks (a remote object is read through the runtime that
    // opened it), so it runs on a blocking thread; it stops when the
    // receiver is dropped.
    tokio::task::spawn_blocking(move || {
        let mut records = first;
        loop {
            let next = chunker.next(records).transpose();
            let more = matches!(next, Some(Ok(_)));
            if let Some(next) = next
                && tx.blocking_send(next).is_err()
            {
                return;
            }
            if !more {
                return;
            }
            records = batch_size;
        }
    });
    let first = rx.recv().await.transpose().map_err(|source| Error::Io {
        location: location.to_string(),
        source,
    })?;
    Ok((first, rx))
}

/// Decodes `first` and the chunks after it with `decode(chunk, index)` on the
/// blocking pool, as many at once as there are cores, keeping their order.
fn decode_chunks(
    location: &Location,
    format: &'static str,
    first: Option<RecordChunk>,
    mut rest: Chunks,
    decode: impl Fn(RecordChunk, usize) -> Result<Vec<RecordBatch>, ArrowError> + Send + Sync + 'static,
) -> BatchStream {
    let name = location.to_string();
    let decode = Arc::new(decode);
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    futures::stream::iter(first.map(Ok))
        .chain(futures::stream::poll_fn(move |cx| rest.poll_recv(cx)))
        .enumerate()
        .map(move |(index, chunk)| {
            let decode = Arc::clone(&decode);
            let name = name.clone();
            async move {
                let io = |source| Error::Io {
                    location: name.clone(),
                    source,
                };
                let chunk = chunk.map_err(io)?;
                tokio::task::spawn_blocking(move || decode(chunk, index))
                    .await
                    .map_err(|e| {
                        io(std::io::Error::other(format!(
                            "{format} decoding stopped: {e}"
                        )))
                    })?
                    .map_err(|source| Error::Decode {
                        location: name.clone(),
                        format,
                        source,
                    })
            }
        })
        .buffered(parallel)
        .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// Decodes chunks of whole CSV records into batches of the schema.
struct CsvChunks {
    schema: SchemaRef,
    format: arrow::csv::reader::Format,
    has_header: bool,
    batch_size: usize,
}

impl CsvChunks {
    /// The batches of one chunk; the first chunk starts with the header.
    fn decode(&self, chunk: RecordChunk, first: bool) -> Result<Vec<RecordBatch>, ArrowError> {
        let header = first && self.has_header;
        let mut builder = arrow::csv::ReaderBuilder::new(Arc::clone(&self.schema))
            .with_format(self.format.clone().with_header(header))
            .with_batch_size(self.batch_size);
        if header {
            builder = builder.with_header_validation(false);
        }
        decode_all(&mut builder.build_decoder(), &chunk.bytes)
            .map_err(|e| file_lines(e, chunk.records_before))
    }
}

/// Arrow's push decoders (CSV, JSON), as [`decode_all`] drives them.
trait PushDecoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError>;
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError>;
    /// A full batch is buffered: flush before decoding more.
    fn is_full(&self) -> bool;
}

impl PushDecoder for arrow::csv::reader::Decoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError> {
        arrow::csv::reader::Decoder::decode(self, buf)
    }
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        arrow::csv::reader::Decoder::flush(self)
    }
    fn is_full(&self) -> bool {
        self.capacity() == 0
    }
}

/// Arrow's JSON decoder with its batch size (it does not say when it is full).
struct JsonDecoder(arrow::json::reader::Decoder, usize);

impl PushDecoder for JsonDecoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError> {
        self.0.decode(buf)
    }
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        self.0.flush()
    }
    fn is_full(&self) -> bool {
        self.0.len() >= self.1
    }
}

/// Every batch in `bytes`, which hold whole records.
fn decode_all(
    decoder: &mut impl PushDecoder,
    mut bytes: &[u8],
) -> Result<Vec<RecordBatch>, ArrowError> {
    let mut batches = Vec::new();
    while !bytes.is_empty() {
        let consumed = decoder.decode(bytes)?;
        bytes = &bytes[consumed..];
        if decoder.is_full() || consumed == 0 {
            let flushed = decoder.flush()?;
            if consumed == 0 && flushed.is_none() {
                return Err(ArrowError::ParseError(
                    "the decoder made no progress".into(),
                ));
            }
            batches.extend(flushed);
        }
    }
    // The end: an empty decode finishes a last record without a line end.
    decoder.decode(&[])?;
    batches.extend(decoder.flush()?);
    Ok(batches)
}

/// Arrow numbers rows from the start of what it decoded; a chunk starts
/// `records_before` records into the file, so its numbers are moved by that
/// much, to read as they would for the whole file.
fn file_lines(error: ArrowError, records_before: u64) -> ArrowError {
    if records_before == 0 {
        return error;
    }
    let shift = |message: String| {
        let patterns = [" at line ", "fields for line "];
        for pattern in patterns {
            if let Some(at) = message.find(pattern) {
                let start = at + pattern.len();
                let digits = message[start..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(message.len(), |end| start + end);
                if let Ok(line) = message[start..digits].parse::<u64>() {
                    return format!(
                        "{}{}{}",
                        &message[..start],
                        line + records_before,
                        &message[digits..]
                    );
                }
            }
        }
        message
    };
    match error {
        ArrowError::CsvError(message) => ArrowError::CsvError(shift(message)),
        ArrowError::ParseError(message) => ArrowError::ParseError(shift(message)),
        other => other,
    }
}

/// The batches of a chunk of whole NDJSON lines. Arrow's JSON errors carry
/// no position, so the chunk's lines are named.
fn decode_json(
    schema: &SchemaRef,
    batch_size: usize,
    chunk: &RecordChunk,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let lines = |e: ArrowError| {
        let ends = super::line_feeds(&chunk.bytes);
        let partial = u64::from(!chunk.bytes.ends_with(b"\n"));
        let last = (chunk.first_line + ends + partial).saturating_sub(1);
        ArrowError::JsonError(format!(
            "{} (in lines {}-{last})",
            e.to_string().trim_start_matches("Json error: "),
            chunk.first_line
        ))
    };
    let decoder = arrow::json::ReaderBuilder::new(Arc::clone(schema))
        .with_batch_size(batch_size)
        .build_decoder()?;
    decode_all(&mut JsonDecoder(decoder, batch_size), &chunk.bytes).map_err(lines)
}
