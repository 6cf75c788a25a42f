//! Newline-delimited JSON: one object per line. Keys of the first rows fix the
//! columns; a later key outside them, a line that is not an object, or
//! malformed JSON makes that row rejected (with its line) instead of failing
//! the file. Missing keys are nulls. Strings become their text, numbers and
//! booleans their JSON text as written, nested values their compact JSON.
//!
//! A line is parsed without building a JSON value: each key is looked up
//! among the columns and its value kept as a slice of the line, so a cell
//! costs no allocation unless its string has escapes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use common::storage::{RecordChunk, RecordChunker};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::strings::{Columns, Out, next_chunk};
use super::{Piece, RawBatch, Rejected, UnknownKeys};
use crate::error::{Error, Result};
use crate::reason::Reason;

/// Fewest lines read to discover the columns when they are not given (the
/// plan reads `etl.infer_rows` lines when that is more).
pub const DISCOVER_LINES: usize = 1000;

/// A parsed line: the object, or the row set aside.
type Parsed = std::result::Result<Map<String, Value>, Rejected>;

/// Finds the columns (the keys of the first `batch_size` lines, at least
/// [`DISCOVER_LINES`], unless `columns` gives them), then sends the file as
/// chunks of `batch_size` lines, parsed later on the rayon pool.
pub(super) fn read(
    input: impl Read,
    columns: Option<Vec<String>>,
    file: usize,
    batch_size: usize,
    unknown_keys: UnknownKeys,
    out: Out,
) -> Result<()> {
    let mut chunker = RecordChunker::lines(input);
    let mut next = |lines: usize| next_chunk(&mut chunker, lines);
    let mut first = None;
    let names = match columns {
        Some(names) => names,
        None => {
            first = next(batch_size.max(DISCOVER_LINES))?;
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
        Piece::Ndjson(Chunk::new(Arc::clone(&names), file, records).with_unknown_keys(unknown_keys))
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
    unknown_keys: UnknownKeys,
}

impl Chunk {
    /// Lines `records` of file `file` (its index in the plan), to be parsed
    /// against the columns `names`.
    pub fn new(names: Arc<[String]>, file: usize, records: RecordChunk) -> Self {
        Self {
            names,
            file,
            records,
            unknown_keys: UnknownKeys::Reject,
        }
    }

    /// The same chunk, with keys outside the columns handled as `unknown_keys` says.
    pub fn with_unknown_keys(mut self, unknown_keys: UnknownKeys) -> Self {
        self.unknown_keys = unknown_keys;
        self
    }

    /// Parses the lines into string columns.
    pub fn parse(self) -> Result<RawBatch> {
        let mut columns = Columns::with_capacity(
            self.file,
            Arc::clone(&self.names),
            self.records.records + 1,
            self.records.bytes.len(),
        );
        let index: HashMap<&str, usize> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let mut cells: Vec<Option<Cow<'_, str>>> = Vec::with_capacity(self.names.len());
        for (line, bytes) in lines(&self.records) {
            let trimmed = bytes.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            let values = match row(trimmed, &index) {
                Ok(Row::Known(values)) => Ok(values),
                Ok(Row::Unknown(key, values)) => match self.unknown_keys {
                    UnknownKeys::Reject => {
                        columns.reject(unknown(line, trimmed, &key, &self.names));
                        continue;
                    }
                    UnknownKeys::Ignore => Ok(values),
                },
                Err(error) => Err(error),
            };
            // A string whose escapes do not decode (a lone surrogate, which
            // the raw scan lets through) rejects the line as serde_json does,
            // never becomes a null cell.
            let decoded = values.and_then(|values| {
                cells.clear();
                for value in &values {
                    cells.push(value.map(text).transpose()?.flatten());
                }
                Ok(())
            });
            match decoded {
                Ok(()) => {
                    columns.row(line, cells.iter().map(|c| c.as_deref().map(str::as_bytes)));
                }
                // serde_json's own value parser words the reason.
                Err(error) => columns.reject(match parse(trimmed, line) {
                    Some(Err(rejected)) => rejected,
                    _ => Rejected {
                        row: line,
                        values: Vec::new(),
                        raw: String::from_utf8_lossy(trimmed).into_owned(),
                        reason: Reason::json(error.to_string()),
                    },
                }),
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

/// A line's values by column (`None`: key absent), and the first key that
/// is not a column if it has one.
enum Row<'a> {
    Known(Vec<Option<&'a RawValue>>),
    Unknown(String, Vec<Option<&'a RawValue>>),
}

/// Parses one object line against the columns; an error (malformed JSON, not
/// an object) is then described by [`parse`].
fn row<'a>(line: &'a [u8], index: &HashMap<&str, usize>) -> serde_json::Result<Row<'a>> {
    let mut deserializer = serde_json::Deserializer::from_slice(line);
    let row = RowSeed(index).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(row)
}

struct RowSeed<'i, 'n>(&'i HashMap<&'n str, usize>);

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = Row<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Row<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = Row<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row<'de>, A::Error> {
        let mut values = vec![None; self.0.len()];
        let mut unknown = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            match self.0.get(key.as_ref()) {
                // A repeated key keeps its last value, as serde_json's maps do.
                Some(&i) => values[i] = Some(value),
                None => {
                    // An ignored value is not decoded, but its escapes must
                    // decode as serde_json's would (found by the fuzzer: a
                    // lone surrogate under an ignored key was accepted).
                    if value.get().contains("\\u") {
                        serde_json::from_str::<Value>(value.get())
                            .map_err(serde::de::Error::custom)?;
                    }
                    unknown = unknown.or(Some(key.into_owned()));
                }
            }
        }
        Ok(match unknown {
            Some(key) => Row::Unknown(key, values),
            None => Row::Known(values),
        })
    }
}

/// An object key, borrowed from the line unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A JSON value as cell text; `null` is a missing value. A string or nested
/// value that does not decode is an error (the raw scan checks structure,
/// not every escape).
fn text(value: &RawValue) -> serde_json::Result<Option<Cow<'_, str>>> {
    let json = value.get();
    Ok(match json.as_bytes().first() {
        Some(b'n') => None,
        Some(b'"') => match json[1..json.len() - 1].contains('\\') {
            false => Some(Cow::Borrowed(&json[1..json.len() - 1])),
            true => Some(Cow::Owned(serde_json::from_str::<String>(json)?)),
        },
        Some(b'{' | b'[') => Some(Cow::Owned(serde_json::from_str::<Value>(json)?.to_string())),
        _ => Some(Cow::Borrowed(json)),
    })
}

/// The row of a line that has a key outside the columns.
fn unknown(line: u64, trimmed: &[u8], key: &str, names: &[String]) -> Rejected {
    let object = match parse(trimmed, line) {
        Some(Ok(object)) => object,
        _ => Map::new(),
    };
    Rejected {
        row: line,
        values: names
            .iter()
            .map(|n| object.get(n).and_then(value_text))
            .collect(),
        raw: Value::Object(object).to_string(),
        reason: Reason::unknown_field(key),
    }
}

/// A parsed JSON value as cell text (the rejected rows' values).
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        nested => Some(nested.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str, names: &[&str]) -> Vec<Option<String>> {
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        match row(line.as_bytes(), &index).unwrap() {
            Row::Known(values) => values
                .iter()
                .map(|v| v.and_then(|v| text(v).unwrap()).map(Cow::into_owned))
                .collect(),
            Row::Unknown(key, _) => panic!("unknown key {key}"),
        }
    }

    /// Found by the ndjson_lines fuzz target: a string with a lone
    /// surrogate escape (`"\\udddd"`) passed the raw scan and became a null
    /// cell; serde_json refuses the line, and so does the reader now.
    #[test]
    fn a_lone_surrogate_rejects_the_line_instead_of_a_null_cell() {
        let names: Arc<[String]> = vec!["a".to_string()].into();
        let bytes = b"{\"a\": \"x\\udddd\"}\n{\"a\": \"ok\"}\n".to_vec();
        let mut chunker = common::storage::RecordChunker::lines(&bytes[..]);
        let chunk = chunker.next(10).unwrap().unwrap();
        let raw = Chunk::new(names, 0, chunk).parse().unwrap();
        assert_eq!(raw.batch.num_rows(), 1);
        assert_eq!(raw.rejected.len(), 1);
        assert_eq!(raw.rejected[0].row, 1);
        assert!(
            raw.rejected[0].reason.to_string().contains("surrogate"),
            "{}",
            raw.rejected[0].reason
        );
    }

    /// Found by CI's fuzz run: a lone surrogate after an escaped quote
    /// (`"x\"y\udddd00e,9"`) was accepted.
    #[test]
    fn a_lone_surrogate_after_an_escaped_quote_rejects_the_line() {
        let names: Arc<[String]> = vec!["a".to_string()].into();
        let bytes = b"{\"a\": \"x\\\"y\\udddd00e,9\"}\n".to_vec();
        let mut chunker = common::storage::RecordChunker::lines(&bytes[..]);
        let chunk = chunker.next(10).unwrap().unwrap();
        let raw = Chunk::new(names, 0, chunk)
            .with_unknown_keys(UnknownKeys::Ignore)
            .parse()
            .unwrap();
        assert_eq!(raw.batch.num_rows(), 0, "{:?}", raw.batch);
        assert_eq!(raw.rejected.len(), 1);
        assert!(raw.rejected[0].reason.to_string().contains("surrogate"));
    }

    #[test]
    fn cells_are_strings_unescaped_scalars_as_written_and_nested_compact() {
        let line = r#"{"s": "a\"b\u00e9", "n": 1.50, "e": -2E3, "b": true, "z": null, "o": {"k": [1, 2]}, "t\u0061g": "x"}"#;
        assert_eq!(
            cells(line, &["s", "n", "e", "b", "z", "o", "tag", "absent"]),
            [
                Some("a\"bé".into()),
                Some("1.50".into()),
                Some("-2E3".into()),
                Some("true".into()),
                None,
                Some(r#"{"k":[1,2]}"#.into()),
                Some("x".into()),
                None,
            ]
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        assert_eq!(cells(r#"{"a": 1, "a": 2}"#, &["a"]), [Some("2".into())]);
    }

    #[test]
    fn unknown_keys_and_bad_lines_are_told_apart() {
        let index: HashMap<&str, usize> = [("a", 0)].into();
        assert!(matches!(
            row(br#"{"a": 1, "b\u0032": 2, "c": 3}"#, &index),
            Ok(Row::Unknown(key, _)) if key == "b2"
        ));
        for bad in [&br#"[1, 2]"#[..], br#"{"a": 1"#, br#"{"a": 1} x"#] {
            assert!(
                row(bad, &index).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let rejected = unknown(7, br#"{"a": "x", "b": 2}"#, "b", &["a".into()]);
        assert_eq!(
            (rejected.row, rejected.values, rejected.raw.as_str()),
            (7, vec![Some("x".into())], r#"{"a":"x","b":2}"#)
        );
    }
}
