//! Reference tables: read whole into memory from any location etl reads
//! (CSV with a header and inferred types, empty / `NA` / `null` cells null;
//! Parquet; NDJSON; `.gz` for the text formats), with
//! the SHA-256 of the exact bytes parsed, so the record names what was
//! joined and a replay can tell whether the table changed since.

use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use common::storage::{Compression, FileFormat, Location};
use records::transform::ReferenceTable;

use crate::ROW_ID;
use crate::error::{Error, Result};

/// Rows per batch of a reference table in memory.
const BATCH_ROWS: usize = 65_536;

/// A reference table to read: the name the SQL uses and where it is.
#[derive(Debug, Clone)]
pub struct TableSource {
    /// The name the SQL uses.
    pub name: String,
    /// Where the file is.
    pub location: Location,
}

impl TableSource {
    /// The table `name` read from `location`.
    pub fn new(name: impl Into<String>, location: Location) -> Self {
        Self {
            name: name.into(),
            location,
        }
    }
}

/// A reference table in memory, with its record.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    /// What was read: location, format, checksum, rows.
    pub record: ReferenceTable,
    /// Its schema.
    pub schema: SchemaRef,
    /// Its rows.
    pub batches: Vec<RecordBatch>,
}

impl TableSource {
    /// Reads the whole table and checksums the bytes read.
    pub async fn read(&self) -> Result<ReferenceData> {
        let fail = |message: String| Error::Table {
            name: self.name.clone(),
            location: self.location.to_string(),
            message,
        };
        let name = self.location.file_name().to_string();
        let (format, compression) = FileFormat::from_name(&name).ok_or_else(|| {
            fail("not a .csv, .parquet or .ndjson file (with .gz for CSV and NDJSON)".into())
        })?;
        let bytes = self.location.get().await.map_err(|e| fail(e.to_string()))?;
        let sha256 = common::checksum::sha256_hex(&bytes);
        let size = bytes.len() as u64;
        let (schema, batches) = parse(format, compression, bytes).map_err(fail)?;
        if schema.fields().iter().any(|f| f.name() == ROW_ID) {
            return Err(fail(format!("the column name '{ROW_ID}' is reserved")));
        }
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok(ReferenceData {
            record: ReferenceTable {
                name: self.name.clone(),
                location: self.location.to_string(),
                format: format.name().to_string(),
                sha256,
                bytes: size,
                rows,
            },
            schema,
            batches,
        })
    }
}

fn parse(
    format: FileFormat,
    compression: Compression,
    bytes: Bytes,
) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    let text = match compression {
        Compression::None => bytes.to_vec(),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes.as_ref())
                .read_to_end(&mut out)
                .map_err(|e| format!("not gzip: {e}"))?;
            out
        }
    };
    match format {
        FileFormat::Csv => csv(text),
        FileFormat::Ndjson => ndjson(text),
        FileFormat::Parquet => parquet(bytes),
    }
}

/// Cells read as null in a CSV reference table: etl's default
/// `null_tokens` (empty, `NA`, `null`), so R's and pandas' exports read as
/// their numbers with gaps, not as text.
const NULLS: &str = "^(|NA|null|NULL)$";

fn csv(text: Vec<u8>) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    use arrow::csv::reader::{Format, ReaderBuilder};
    let nulls = regex::Regex::new(NULLS).map_err(|e| e.to_string())?;
    let format = Format::default().with_header(true).with_null_regex(nulls);
    let (schema, _) = format
        .infer_schema(Cursor::new(&text), None)
        .map_err(|e| format!("not readable as CSV: {e}"))?;
    let schema = Arc::new(schema);
    let reader = ReaderBuilder::new(Arc::clone(&schema))
        .with_format(format)
        .with_batch_size(BATCH_ROWS)
        .build(Cursor::new(text))
        .map_err(|e| format!("not readable as CSV: {e}"))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("not readable as CSV: {e}"))?;
    Ok((schema, batches))
}

fn ndjson(text: Vec<u8>) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    use arrow::json::ReaderBuilder;
    use arrow::json::reader::infer_json_schema_from_seekable;
    let (schema, _) = infer_json_schema_from_seekable(Cursor::new(&text), None)
        .map_err(|e| format!("not readable as NDJSON: {e}"))?;
    let schema = Arc::new(schema);
    let reader = ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(BATCH_ROWS)
        .build(Cursor::new(text))
        .map_err(|e| format!("not readable as NDJSON: {e}"))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("not readable as NDJSON: {e}"))?;
    Ok((schema, batches))
}

fn parquet(bytes: Bytes) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| format!("not readable as Parquet: {e}"))?;
    let schema = Arc::clone(builder.schema());
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| format!("not readable as Parquet: {e}"))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("not readable as Parquet: {e}"))?;
    Ok((schema, batches))
}
