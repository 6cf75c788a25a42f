//! Newline-delimited JSON: one object per line. Keys of the first rows fix the
//! columns; a later key outside them, a line that is not an object, or
//! malformed JSON makes that row rejected (with its line) instead of failing
//! the file. Missing keys are nulls. Scalars become their text; nested values
//! their compact JSON.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::Rejected;
use super::strings::Sink;
use crate::error::{Error, Result};
use crate::reason::Reason;

/// Lines read to discover the columns when they are not given.
const DISCOVER_LINES: usize = 1000;

/// A parsed line: the object, or the row set aside.
type Parsed = std::result::Result<Map<String, Value>, Rejected>;

pub(super) fn read(input: impl Read, columns: Option<Vec<String>>, mut sink: Sink) -> Result<()> {
    let mut lines = BufReader::with_capacity(256 * 1024, input);
    let mut buffer = Vec::new();
    let mut line_no = 0u64;
    let mut next_line = |buffer: &mut Vec<u8>| -> Result<Option<u64>> {
        buffer.clear();
        let n = lines.read_until(b'\n', buffer).map_err(|e| Error::File {
            file: String::new(),
            message: format!("read error after line {line_no}: {e}"),
        })?;
        if n == 0 {
            return Ok(None);
        }
        line_no += 1;
        Ok(Some(line_no))
    };

    // Parsed rows held back while the columns are being discovered.
    let mut held: Vec<(u64, Parsed)> = Vec::new();
    let names = match columns {
        Some(names) => names,
        None => {
            let mut names: Vec<String> = Vec::new();
            while held.len() < DISCOVER_LINES {
                let Some(line) = next_line(&mut buffer)? else {
                    break;
                };
                let Some(parsed) = parse(&buffer, line) else {
                    continue;
                };
                if let Ok(object) = &parsed {
                    for key in object.keys() {
                        if !names.contains(key) {
                            names.push(key.clone());
                        }
                    }
                }
                held.push((line, parsed));
            }
            names
        }
    };
    sink.columns(names.clone())?;
    for (line, parsed) in held {
        push(line, parsed, &names, &mut sink)?;
    }
    while let Some(line) = next_line(&mut buffer)? {
        if let Some(parsed) = parse(&buffer, line) {
            push(line, parsed, &names, &mut sink)?;
        }
    }
    sink.flush()
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

fn push(line: u64, parsed: Parsed, names: &[String], sink: &mut Sink) -> Result<()> {
    let object = match parsed {
        Ok(object) => object,
        Err(rejected) => return sink.reject(rejected),
    };
    if let Some(unknown) = object.keys().find(|k| !names.contains(k)) {
        let raw = Value::Object(object.clone()).to_string();
        return sink.reject(Rejected {
            row: line,
            values: names.iter().map(|n| object.get(n).and_then(text)).collect(),
            raw,
            reason: Reason::unknown_field(unknown),
        });
    }
    let values: Vec<Option<String>> = names.iter().map(|n| object.get(n).and_then(text)).collect();
    sink.row(line, values.iter().map(|v| v.as_deref()))
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
