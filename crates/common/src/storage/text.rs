//! Streaming CSV and NDJSON reads: the object's bytes (gunzipped on the fly
//! when compressed) are pushed through arrow's push decoders, so memory is
//! bounded by the batch size whatever the file size.
//!
//! Without a schema, one is inferred from the first rows (`infer_rows`); the
//! sampled bytes are then decoded too, so the object is read only once.

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
    let decode_err = |source| Error::Decode {
        location: location.to_string(),
        format: "CSV",
        source,
    };
    let mut bytes = open_bytes(location, compression).await?;
    let format = options.format().map_err(decode_err)?;
    let (schema, sampled) = match schema {
        Some(schema) => (schema, VecDeque::new()),
        None => {
            let sampled = sample(&mut bytes, options.infer_rows + 1).await?;
            let text = whole_lines(&sampled);
            let (inferred, _) = format
                .infer_schema(Cursor::new(text), Some(options.infer_rows))
                .map_err(decode_err)?;
            (Arc::new(inferred), sampled)
        }
    };
    let mut builder = arrow::csv::ReaderBuilder::new(Arc::clone(&schema))
        .with_format(format)
        .with_batch_size(options.batch_size);
    if options.has_header {
        builder = builder.with_header_validation(false);
    }
    let decoder = CsvDecoder(builder.build_decoder());
    Ok((
        schema,
        decode_stream(location, "CSV", bytes, sampled, decoder),
    ))
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

/// The common shape of arrow's CSV and JSON push decoders.
trait PushDecoder: Send + 'static {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError>;
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError>;
    /// A full batch is buffered and must be flushed before decoding more.
    fn is_full(&self) -> bool;
}

struct CsvDecoder(arrow::csv::reader::Decoder);

impl PushDecoder for CsvDecoder {
    fn decode(&mut self, buf: &[u8]) -> Result<usize, ArrowError> {
        self.0.decode(buf)
    }
    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        self.0.flush()
    }
    fn is_full(&self) -> bool {
        self.0.capacity() == 0
    }
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
