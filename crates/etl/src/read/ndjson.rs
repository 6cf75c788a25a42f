//! Newline-delimited JSON: one object per line. Keys of the first rows fix the
//! columns; a later key outside them, a line that is not an object, or
//! malformed JSON makes that row rejected (with its line) instead of failing
//! the file. Missing keys are nulls. Scalars become their text; nested values
//! their compact JSON.

use std::io::Read;
use std::sync::Arc;

use common::storage::{RecordChunk, RecordChunker};
use serde_json::{Map, Value};

use super::strings::{Columns, Out, next_chunk};
use super::{Piece, RawBatch, Rejected};
use crate::error::{Error, Result};
use crate::reason::Reason;

/// Lines read to discover the columns when they are not given.
const DISCOVER_LINES: usize = 1000;

/// A parsed line: the object, or the row set aside.
type Parsed = std::result::Result<Map<String, Value>, Rejected>;

/// Finds the columns (the keys of the first lines, unless `columns` gives
/// them), then sends the file as chunks of `batch_size` lines, parsed later
/// on the rayon pool.
pub(super) fn read(
    input: impl Read,
    columns: Option<Vec<String>>,
    file: usize,
    batch_size: usize,
    out: Out,
) -> Result<()> {
    let mut chunker = RecordChunker::lines(input);
    let mut next = |lines: usize| next_chunk(&mut chunker, lines);
    let mut first = None;
    let names = match columns {
        Some(names) => names,
        None => {
            first = next(DISCOVER_LINES)?;
            let mut names: Vec<String> = Vec::new();
            for (_, line) in first.iter().flat_map(lines) {
                if let Some(Ok(object)) = parse(line, 0) {
                    for key in object.keys() {
                        if !names.contains(key) {
                            names.push(key.clone());
                        }
                    }
                }
            }
            names
        }
    };
    out.columns(names.clone())?;
    let names: Arc<[String]> = Arc::from(names);
    let chunk = |records: RecordChunk| {
        Piece::Ndjson(Chunk {
            names: Arc::clone(&names),
            file,
            records,
        })
    };
    if let Some(records) = first {
        out.piece(chunk(records))?;
    }
    while let Some(records) = next(batch_size)? {
        out.piece(chunk(records))?;
    }
    Ok(())
}

/// Whole lines of an NDJSON file, not parsed yet.
#[derive(Debug)]
pub struct Chunk {
    names: Arc<[String]>,
    file: usize,
    records: RecordChunk,
}

impl Chunk {
    /// Parses the lines into string columns.
    pub fn parse(self) -> Result<RawBatch> {
        let mut columns = Columns::with_capacity(
            self.file,
            Arc::clone(&self.names),
            self.records.records + 1,
            self.records.bytes.len(),
        );
        for (line, bytes) in lines(&self.records) {
            if let Some(parsed) = parse(bytes, line) {
                push(line, parsed, &self.names, &mut columns);
            }
        }
        // Every cell came from a JSON string: UTF-8 already.
        columns
            .into_batch()?
            .ok_or_else(|| Error::Internal("an NDJSON cell is not UTF-8".into()))
    }
}

/// The lines of a chunk with their numbers.
fn lines(chunk: &RecordChunk) -> impl Iterator<Item = (u64, &[u8])> {
    let bytes = &chunk.bytes[..];
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    (chunk.first_line..)
        .zip(body.split(|&b| b == b'\n'))
        .filter(move |_| !bytes.is_empty())
}

/// Parses one line; `None` for a blank line.
fn parse(bytes: &[u8], line: u64) -> Option<Parsed> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return None;
    }
    let raw = || String::from_utf8_lossy(trimmed).into_owned();
    Some(match serde_json::from_slice::<Value>(trimmed) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(Rejected {
            row: line,
            values: Vec::new(),
            raw: raw(),
            reason: Reason::json(format!("expected a JSON object, found {}", kind(&other))),
        }),
        Err(e) => Err(Rejected {
            row: line,
            values: Vec::new(),
            raw: raw(),
            reason: Reason::json(e.to_string()),
        }),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn push(line: u64, parsed: Parsed, names: &[String], columns: &mut Columns) {
    let object = match parsed {
        Ok(object) => object,
        Err(rejected) => return columns.reject(rejected),
    };
    if let Some(unknown) = object.keys().find(|k| !names.contains(k)) {
        let raw = Value::Object(object.clone()).to_string();
        return columns.reject(Rejected {
            row: line,
            values: names.iter().map(|n| object.get(n).and_then(text)).collect(),
            raw,
            reason: Reason::unknown_field(unknown),
        });
    }
    let values: Vec<Option<String>> = names.iter().map(|n| object.get(n).and_then(text)).collect();
    columns.row(line, values.iter().map(|v| v.as_deref().map(str::as_bytes)));
}

/// A JSON value as cell text; `null` is a missing value.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        nested => Some(nested.to_string()),
    }
}
