//! Streaming CSV and NDJSON reads: the object's bytes (gunzipped on the fly
//! when compressed) are pushed through arrow's decoders, so memory is bounded
//! by the batch size whatever the file size.
//!
//! CSV is cut into chunks of whole records by one blocking reader thread
//! ([`RecordChunker`]) and the chunks are decoded in parallel on Tokio's
//! blocking pool, in order. Without a schema, one is inferred from the first
//! rows (`infer_rows`); the sampled bytes are then decoded too, so the object
//! is read only once.

use std::collections::VecDeque;
use std::io::Cursor;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use async_compression::tokio::bufread::GzipDecoder;
use bytes::{Buf, Bytes};
use futures::{StreamExt, TryStreamExt};
use tokio_util::io::{ReaderStream, StreamReader};

use super::csv_split::{CsvDialect, RecordChunk, RecordChunker};
use super::{BatchStream, ByteStream, Compression, Location};
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

/// Opens `location` as a byte stream, decompressing it when `compression` says so.
pub async fn open_bytes(location: &Location, compression: Compression) -> Result<ByteStream> {
    let raw = location.get_stream().await?;
    match compression {
        Compression::None => Ok(raw),
        Compression::Gzip => {
            let reader = StreamReader::new(raw.map_err(std::io::Error::other));
            let mut decoder = GzipDecoder::new(reader);
            decoder.multiple_members(true);
            let name = location.to_string();
            Ok(ReaderStream::with_capacity(decoder, 256 * 1024)
                .map_err(move |source| Error::Io {
                    location: name.clone(),
                    source,
                })
                .boxed())
        }
    }
}

/// Streams a CSV file as record batches; returns the schema used (given or inferred).
pub async fn read_csv(
    location: &Location,
    compression: Compression,
    options: &CsvOptions,
    schema: Option<SchemaRef>,
) -> Result<(SchemaRef, BatchStream)> {
    let name = location.to_string();
    let decode_err = |source| Error::Decode {
        location: name.clone(),
        format: "CSV",
        source,
    };
    let io_err = |source| Error::Io {
        location: location.to_string(),
        source,
    };
    let format = options.format().map_err(decode_err)?;
    let input = location.open_read(compression).await?;

    // The first chunk holds the header and the rows to infer from (or a batch).
    let header = usize::from(options.has_header);
    let batch_size = options.batch_size.max(1);
    let first = header
        + match schema {
            Some(_) => batch_size,
            None => options.infer_rows.max(1),
        };
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let dialect = options.dialect();
    tokio::task::spawn_blocking(move || {
        let mut chunker = RecordChunker::new(input, &dialect);
        let mut records = first;
        loop {
            let next = chunker.next(records).transpose();
            let stop = !matches!(next, Some(Ok(_)));
            if let Some(next) = next
                && tx.blocking_send(next).is_err()
            {
                return;
            }
            if stop {
                return;
            }
            records = batch_size;
        }
    });
    let first = rx.recv().await.transpose().map_err(io_err)?;
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

    let decoder = Arc::new(ChunkDecoder {
        schema: Arc::clone(&schema),
        format,
        has_header: options.has_header,
        batch_size,
        location: name.clone(),
    });
    let chunks = futures::stream::iter(first.map(Ok))
        .chain(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stream = chunks
        .enumerate()
        .map(move |(i, chunk)| {
            let decoder = Arc::clone(&decoder);
            let name = name.clone();
            async move {
                let chunk = chunk.map_err(|source| Error::Io {
                    location: name.clone(),
                    source,
                })?;
                tokio::task::spawn_blocking(move || decoder.decode(chunk, i == 0))
                    .await
                    .map_err(|e| Error::Io {
                        location: name,
                        source: std::io::Error::other(format!("CSV decoding stopped: {e}")),
                    })?
            }
        })
        .buffered(parallel)
        .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
        .try_flatten();
    Ok((schema, stream.boxed()))
}

/// Decodes chunks of whole CSV records into batches of the schema.
struct ChunkDecoder {
    schema: SchemaRef,
    format: arrow::csv::reader::Format,
    has_header: bool,
    batch_size: usize,
    location: String,
}

impl ChunkDecoder {
    /// The batches of one chunk; the first chunk starts with the header.
    fn decode(&self, chunk: RecordChunk, first: bool) -> Result<Vec<RecordBatch>> {
        let header = first && self.has_header;
        let mut builder = arrow::csv::ReaderBuilder::new(Arc::clone(&self.schema))
            .with_format(self.format.clone().with_header(header))
            .with_batch_size(self.batch_size);
        if header {
            builder = builder.with_header_validation(false);
        }
        let mut decoder = builder.build_decoder();
        let err = |source| Error::Decode {
            location: self.location.clone(),
            format: "CSV",
            source: file_lines(source, chunk.records_before),
        };
        let mut batches = Vec::new();
        let mut rest = &chunk.bytes[..];
        loop {
            if rest.is_empty() {
                // The end: an empty decode finishes a last line without newline.
                decoder.decode(&[]).map_err(err)?;
                batches.extend(decoder.flush().map_err(err)?);
                return Ok(batches);
            }
            let consumed = decoder.decode(rest).map_err(err)?;
            rest = &rest[consumed..];
            if decoder.capacity() == 0 || consumed == 0 {
                batches.extend(decoder.flush().map_err(err)?);
            }
        }
    }
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
    let mut bytes = open_bytes(location, compression).await?;
    let (schema, sampled) = match schema {
        Some(schema) => (schema, VecDeque::new()),
        None => {
            let sampled = sample(&mut bytes, infer_rows).await?;
            let text = whole_lines(&sampled);
            let (inferred, _) =
                arrow::json::reader::infer_json_schema(Cursor::new(text), Some(infer_rows))
                    .map_err(decode_err)?;
            (Arc::new(inferred), sampled)
        }
    };
    let decoder = arrow::json::ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(batch_size)
        .build_decoder()
        .map_err(decode_err)?;
    let decoder = JsonDecoder {
        inner: decoder,
        batch_size,
    };
    Ok((
        schema,
        decode_stream(location, "NDJSON", bytes, sampled, decoder),
    ))
}

/// Reads chunks until `lines` newlines have been seen, the sample reaches 64 MiB, or EOF.
async fn sample(bytes: &mut ByteStream, lines: usize) -> Result<VecDeque<Bytes>> {
    const MAX_SAMPLE: usize = 64 << 20;
    let mut chunks = VecDeque::new();
    let (mut seen_lines, mut seen_bytes) = (0, 0);
    while seen_lines < lines && seen_bytes < MAX_SAMPLE {
        let Some(chunk) = bytes.next().await else {
            break;
        };
        let chunk = chunk?;
        seen_lines += chunk.iter().filter(|&&b| b == b'\n').count();
        seen_bytes += chunk.len();
        chunks.push_back(chunk);
    }
    Ok(chunks)
}

/// The sampled bytes cut after the last newline, so that inference never sees
/// a truncated last row (unless the whole sample is one line).
fn whole_lines(chunks: &VecDeque<Bytes>) -> Vec<u8> {
    let mut text: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    if let Some(last_newline) = text.iter().rposition(|&b| b == b'\n') {
        text.truncate(last_newline + 1);
    }
    text
}

/// The shape of arrow's push decoders (JSON) that [`decode_stream`] drives.
trait PushDecoder: Send + 'static {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError>;
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError>;
    /// A full batch is buffered and must be flushed before decoding more.
    fn is_full(&self) -> bool;
}

struct JsonDecoder {
    inner: arrow::json::reader::Decoder,
    batch_size: usize,
}

impl PushDecoder for JsonDecoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError> {
        self.inner.decode(buf)
    }
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        self.inner.flush()
    }
    fn is_full(&self) -> bool {
        self.inner.len() >= self.batch_size
    }
}

struct DecodeState<D> {
    bytes: ByteStream,
    pending: VecDeque<Bytes>,
    current: Bytes,
    decoder: D,
    finished: bool,
    location: String,
    format: &'static str,
}

/// Drives a push decoder over a byte stream, yielding a batch whenever one is full
/// and the remainder at end of input.
fn decode_stream<D: PushDecoder>(
    location: &Location,
    format: &'static str,
    bytes: ByteStream,
    pending: VecDeque<Bytes>,
    decoder: D,
) -> BatchStream {
    let state = DecodeState {
        bytes,
        pending,
        current: Bytes::new(),
        decoder,
        finished: false,
        location: location.to_string(),
        format,
    };
    futures::stream::try_unfold(state, |mut st| async move {
        loop {
            if st.finished {
                return Ok(None);
            }
            if st.current.is_empty() {
                let next = match st.pending.pop_front() {
                    Some(chunk) => Some(chunk),
                    None => st.bytes.next().await.transpose()?,
                };
                match next {
                    Some(chunk) => st.current = chunk,
                    None => {
                        // End of input: an empty decode finishes a last line without newline.
                        st.finished = true;
                        st.decoder.decode(&[]).map_err(|e| st.error(e))?;
                        let batch = st.decoder.flush().map_err(|e| st.error(e))?;
                        return Ok(batch.map(|b| (b, st)));
                    }
                }
            }
            let consumed = st.decoder.decode(&st.current).map_err(|e| st.error(e))?;
            st.current.advance(consumed);
            if st.decoder.is_full()
                && let Some(batch) = st.decoder.flush().map_err(|e| st.error(e))?
            {
                return Ok(Some((batch, st)));
            }
        }
    })
    .boxed()
}

impl<D> DecodeState<D> {
    fn error(&self, source: ArrowError) -> Error {
        Error::Decode {
            location: self.location.clone(),
            format: self.format,
            source,
        }
    }
}
