//! CSV with the `csv` crate: ragged rows and invalid UTF-8 become rejected
//! rows (with their line) instead of failing the file; quoted fields may hold
//! delimiters and newlines; CRLF and a UTF-8 byte-order mark are handled.

use std::io::Read;

use super::Rejected;
use super::strings::Sink;
use crate::config::EtlConfig;
use crate::error::{Error, Result};
use crate::reason::Reason;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a whole CSV file into `sink`. `columns` names the columns of a
/// headerless file (otherwise `column_1`, `column_2`, …).
pub(super) fn read(
    input: impl Read,
    config: &EtlConfig,
    columns: Option<Vec<String>>,
    mut sink: Sink,
) -> Result<()> {
    let csv = &config.csv;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(csv.delimiter as u8)
        .quote(csv.quote as u8)
        .escape(csv.escape.map(|c| c as u8))
        .double_quote(csv.escape.is_none())
        .comment(csv.comment.map(|c| c as u8))
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let file_err = |e: csv::Error| {
        let line = e
            .position()
            .map(|p| format!(" at line {}", p.line()))
            .unwrap_or_default();
        Error::File {
            file: String::new(),
            message: format!("cannot read CSV{line}: {e}"),
        }
    };

    // Whether the next record is the file's first (and may carry a BOM).
    let mut first = false;
    let mut pending_first: Option<csv::ByteRecord> = None;
    if csv.header {
        if reader.read_byte_record(&mut record).map_err(file_err)? {
            strip_bom(&mut record);
            let mut names = Vec::with_capacity(record.len());
            for (i, field) in record.iter().enumerate() {
                let name = std::str::from_utf8(field).map_err(|_| Error::File {
                    file: String::new(),
                    message: format!("header column {} is not valid UTF-8", i + 1),
                })?;
                let name = name.trim().to_string();
                if names.contains(&name) {
                    return Err(Error::File {
                        file: String::new(),
                        message: format!("column '{name}' appears twice in the header"),
                    });
                }
                names.push(name);
            }
            sink.columns(names)?;
        } else {
            // An empty file: no columns, no rows.
            sink.columns(Vec::new())?;
            return sink.flush();
        }
    } else if let Some(names) = columns {
        sink.columns(names)?;
        first = true;
    } else if reader.read_byte_record(&mut record).map_err(file_err)? {
        strip_bom(&mut record);
        sink.columns((1..=record.len()).map(|i| format!("column_{i}")).collect())?;
        pending_first = Some(record.clone());
    } else {
        sink.columns(Vec::new())?;
        return sink.flush();
    }

    if let Some(record) = pending_first {
        push(&record, csv.delimiter as u8, &mut sink)?;
    }
    loop {
        if !reader.read_byte_record(&mut record).map_err(file_err)? {
            break;
        }
        if first {
            strip_bom(&mut record);
            first = false;
        }
        push(&record, csv.delimiter as u8, &mut sink)?;
    }
    sink.flush()
}

fn strip_bom(record: &mut csv::ByteRecord) {
    if record.get(0).is_some_and(|f| f.starts_with(BOM)) {
        let fields: Vec<Vec<u8>> = record
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    f[BOM.len()..].to_vec()
                } else {
                    f.to_vec()
                }
            })
            .collect();
        *record = csv::ByteRecord::from(fields);
    }
}

/// Adds one record to the sink, or rejects it when ragged or not UTF-8.
fn push(record: &csv::ByteRecord, delimiter: u8, sink: &mut Sink) -> Result<()> {
    let line = record.position().map(|p| p.line()).unwrap_or(0);
    let width = sink.width();
    if record.len() != width {
        return sink.reject(Rejected {
            row: line,
            values: lossy(record),
            raw: raw_text(record, delimiter),
            reason: Reason::ragged(width, record.len()),
        });
    }
    let mut values: Vec<&str> = Vec::with_capacity(width);
    for (i, field) in record.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(value) => values.push(value),
            Err(_) => {
                return sink.reject(Rejected {
                    row: line,
                    values: lossy(record),
                    raw: raw_text(record, delimiter),
                    reason: Reason::invalid_utf8(sink.name(i)),
                });
            }
        }
    }
    sink.row(line, values.into_iter().map(Some))
}

fn lossy(record: &csv::ByteRecord) -> Vec<Option<String>> {
    record
        .iter()
        .map(|f| Some(String::from_utf8_lossy(f).into_owned()))
        .collect()
}

fn raw_text(record: &csv::ByteRecord, delimiter: u8) -> String {
    let joined: Vec<u8> = record.iter().collect::<Vec<_>>().join(&delimiter);
    String::from_utf8_lossy(&joined).into_owned()
}
