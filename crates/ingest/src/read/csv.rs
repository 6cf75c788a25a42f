//! CSV with the `csv` crate: ragged rows and invalid UTF-8 become rejected
//! rows (with their line) instead of failing the file; quoted fields may hold
//! delimiters and newlines; CRLF and a UTF-8 byte-order mark are handled.
//!
//! The reader thread only cuts the file into chunks of whole records
//! ([`RecordChunker`]); each chunk is parsed where the run processes it, on
//! the rayon pool, so parsing uses every core.

use std::io::Read;
use std::sync::Arc;

use common::storage::{CsvDialect, RecordChunk, RecordChunker, line_feeds};

use super::CsvConfig;
use super::strings::{Columns, Out, next_chunk};
use super::{Piece, RawBatch, Rejected};
use crate::error::{Error, Result};
use crate::reason::Reason;

/// Reads the header (or takes `columns` for a headerless file, else names
/// them `column_1`, `column_2`, …), then sends the file as chunks of
/// `batch_size` records.
pub(super) fn read(
    input: impl Read,
    config: &CsvConfig,
    columns: Option<Vec<String>>,
    file: (usize, Arc<str>),
    batch_size: usize,
    out: Out,
) -> Result<()> {
    let dialect = config.dialect();
    let mut chunker = RecordChunker::new(input, &dialect);
    let mut next = |records: usize| next_chunk(&mut chunker, records);
    let mut first_data = None;
    let names = if config.header {
        match next(1)? {
            Some(head) => header(&head.bytes, &dialect)?,
            None => Vec::new(),
        }
    } else if let Some(names) = columns {
        names
    } else {
        match next(1)? {
            Some(head) => {
                let width = first_record(&head.bytes, &dialect)?.map_or(0, |r| r.len());
                first_data = Some(head);
                (1..=width).map(|i| format!("column_{i}")).collect()
            }
            None => Vec::new(),
        }
    };
    out.columns(names.clone())?;
    if names.is_empty() {
        // An empty file: no columns, no rows.
        return Ok(());
    }
    let parser = Arc::new(Parser {
        dialect,
        names: Arc::from(names),
        file,
    });
    let chunk = |records: RecordChunk| Piece::Csv(Chunk::with(Arc::clone(&parser), records));
    if let Some(head) = first_data {
        out.piece(chunk(head))?;
    }
    while let Some(records) = next(batch_size)? {
        out.piece(chunk(records))?;
    }
    Ok(())
}

/// The column names from the header record.
fn header(bytes: &[u8], dialect: &CsvDialect) -> Result<Vec<String>> {
    let Some(record) = first_record(bytes, dialect)? else {
        return Ok(Vec::new());
    };
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
    Ok(names)
}

fn first_record(bytes: &[u8], dialect: &CsvDialect) -> Result<Option<csv::ByteRecord>> {
    let mut reader = reader(bytes, dialect);
    let mut record = csv::ByteRecord::new();
    Ok(reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error(e, 1))?
        .then_some(record))
}

fn reader<'a>(bytes: &'a [u8], dialect: &CsvDialect) -> csv::Reader<&'a [u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .escape(dialect.escape)
        .double_quote(dialect.escape.is_none())
        .comment(dialect.comment)
        .from_reader(bytes)
}

fn read_error(e: csv::Error, first_line: u64) -> Error {
    let line = e
        .position()
        .map(|p| format!(" at line {}", first_line + p.line() - 1))
        .unwrap_or_default();
    Error::File {
        file: String::new(),
        message: format!("cannot read CSV{line}: {e}"),
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What every chunk of one file shares.
#[derive(Debug)]
struct Parser {
    dialect: CsvDialect,
    names: Arc<[String]>,
    /// Index of the file in the plan, and its name for messages.
    file: (usize, Arc<str>),
}

/// Whole records of a CSV file, not parsed yet.
#[derive(Debug)]
pub struct Chunk {
    parser: Arc<Parser>,
    bytes: Vec<u8>,
    first_line: u64,
    /// About how many records it holds (sizes the columns).
    records: usize,
}

impl Chunk {
    /// Records `records` of file `file` (its index in the plan and its name),
    /// to be parsed as `dialect` into the columns `names`.
    pub fn new(
        dialect: CsvDialect,
        names: Arc<[String]>,
        file: (usize, Arc<str>),
        records: RecordChunk,
    ) -> Self {
        let parser = Parser {
            dialect,
            names,
            file,
        };
        Self::with(Arc::new(parser), records)
    }

    /// The records of a chunk. The csv crate drops a byte-order mark at the
    /// start of what it reads, but the chunker has dropped the file's own:
    /// one at a chunk's start is data (files joined with `cat`, a second
    /// mark), so it is kept by parsing from a blank line before the chunk
    /// (csv-core skips it), one line earlier.
    fn with(parser: Arc<Parser>, chunk: RecordChunk) -> Self {
        let (bytes, first_line) = match chunk.bytes.starts_with(BOM) {
            false => (chunk.bytes, chunk.first_line),
            true => {
                let mut bytes = Vec::with_capacity(chunk.bytes.len() + 1);
                bytes.push(b'\n');
                bytes.extend_from_slice(&chunk.bytes);
                (bytes, chunk.first_line - 1)
            }
        };
        Self {
            parser,
            bytes,
            first_line,
            records: chunk.records + 1,
        }
    }

    /// Parses the records into string columns. UTF-8 is checked per column
    /// at the end; only a chunk with a cell that is not UTF-8 is parsed again
    /// checking every cell, to reject just the rows that hold one.
    pub fn parse(self) -> Result<RawBatch> {
        match self.parse_checking(false)? {
            Some(batch) => Ok(batch),
            None => self.parse_checking(true)?.ok_or_else(|| {
                Error::Internal("a CSV chunk failed its UTF-8 check after its rows were".into())
            }),
        }
    }

    fn parse_checking(&self, each_cell: bool) -> Result<Option<RawBatch>> {
        let parser = &*self.parser;
        let mut reader = reader(&self.bytes, &parser.dialect);
        let mut columns = Columns::with_capacity(
            parser.file.0,
            Arc::clone(&parser.names),
            self.records,
            self.bytes.len(),
        );
        let lines = Lines {
            bytes: &self.bytes,
            first_line: self.first_line,
            comment: parser.dialect.comment,
        };
        let delimiter = parser.dialect.delimiter;
        let mut record = csv::ByteRecord::new();
        while reader
            .read_byte_record(&mut record)
            .map_err(|e| read_error(e, self.first_line).in_file(&parser.file.1))?
        {
            let line = record.position().map_or(0, |p| lines.of(p));
            push(&record, line, delimiter, each_cell, &mut columns);
        }
        columns.into_batch()
    }
}

/// Line numbers of records within a chunk. The csv crate's position is
/// where the reader stood before the record: after a `\r\n` ending or blank
/// or comment lines that is a line or more before the record itself, so the
/// line ends skipped from there are added.
struct Lines<'a> {
    bytes: &'a [u8],
    first_line: u64,
    comment: Option<u8>,
}

impl Lines<'_> {
    /// The line of the record read from `position`.
    fn of(&self, position: &csv::Position) -> u64 {
        let from = (position.byte() as usize).min(self.bytes.len());
        let mut start = from;
        loop {
            match self.bytes.get(start) {
                Some(b'\r' | b'\n') => start += 1,
                Some(&b) if Some(b) == self.comment => {
                    start += self.bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(self.bytes.len() - start, |p| p + 1);
                }
                _ => break,
            }
        }
        let skipped = line_feeds(&self.bytes[from..start.min(self.bytes.len())]);
        // `first_line` is 0 when a blank line was put before the chunk.
        self.first_line + position.line() + skipped - 1
    }
}

/// How many lines a record spans: more than one means a quoted field ran
/// over line ends (often an unclosed quote swallowing the lines after it).
fn spanned_lines(record: &csv::ByteRecord) -> u64 {
    let feeds: u64 = record
        .iter()
        .map(|f| memchr::memchr_iter(b'\n', f).count() as u64)
        .sum();
    // An unclosed quote at the end of the file also holds the last line feed.
    let trailing = record
        .iter()
        .next_back()
        .is_some_and(|f| f.ends_with(b"\n"));
    1 + feeds - u64::from(trailing)
}

/// Adds one record, or rejects it when ragged (or, with `each_cell`, when a
/// cell is not UTF-8).
fn push(
    record: &csv::ByteRecord,
    line: u64,
    delimiter: u8,
    each_cell: bool,
    columns: &mut Columns,
) {
    let width = columns.width();
    if record.len() != width {
        return columns.reject(Rejected {
            row: line,
            values: lossy(record),
            raw: raw_text(record, delimiter),
            reason: Reason::ragged(width, record.len(), spanned_lines(record)),
        });
    }
    if each_cell && let Some(i) = record.iter().position(|f| std::str::from_utf8(f).is_err()) {
        let reason = Reason::invalid_utf8(columns.name(i));
        return columns.reject(Rejected {
            row: line,
            values: lossy(record),
            raw: raw_text(record, delimiter),
            reason,
        });
    }
    columns.row(line, record.iter().map(Some));
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;

    fn parse(bytes: &[u8], first_line: u64, names: &[&str]) -> RawBatch {
        let dialect = CsvDialect {
            comment: Some(b'#'),
            ..CsvDialect::default()
        };
        let records = RecordChunk {
            bytes: bytes.to_vec(),
            first_line,
            records: 1,
            records_before: 0,
        };
        let names = names.iter().map(|n| n.to_string()).collect();
        Chunk::new(dialect, names, (0, Arc::from("t.csv")), records)
            .parse()
            .unwrap()
    }

    /// Found by fuzzing: the csv crate dropped a byte-order mark at the start
    /// of any chunk, so a record starting with one (files joined with `cat`)
    /// lost it or not depending on where chunks were cut.
    #[test]
    fn a_byte_order_mark_at_a_chunks_start_is_data() {
        for first_line in [1, 4] {
            let batch = parse(b"\xEF\xBB\xBFa,b\n1,2\n", first_line, &["x", "y"]);
            assert_eq!(batch.rows, [first_line, first_line + 1]);
            let x = batch.batch.column(0).as_string::<i32>();
            assert_eq!(x.value(0), "\u{feff}a");
        }
    }

    #[test]
    fn lines_are_where_records_start() {
        let batch = parse(
            b"1,a\r\n2,b\r\n\r\n3,\"x\ny\"\n# note\n4,d",
            10,
            &["n", "s"],
        );
        assert_eq!(batch.rows, [10, 11, 13, 16]);
        assert_eq!(batch.batch.num_rows(), 4);
        // A chunk that starts with the line feed of a `\r\n` cut before it.
        let batch = parse(b"\n5,e\n", 7, &["n", "s"]);
        assert_eq!(batch.rows, [8]);
    }

    #[test]
    fn ragged_and_invalid_utf8_rows_are_rejected_with_their_lines() {
        let batch = parse(b"1,a\n2\n3,\xff\n", 1, &["n", "s"]);
        assert_eq!(batch.rows, [1]);
        let rejected: Vec<(u64, String)> = batch
            .rejected
            .iter()
            .map(|r| (r.row, r.reason.key()))
            .collect();
        assert_eq!(
            rejected,
            [(2, "ragged".to_string()), (3, "utf8(s)".to_string())]
        );
        // Halves of one character in neighbouring cells (the same column on
        // two rows, or two columns of a row) are not UTF-8 cells, though the
        // bytes side by side would be.
        let batch = parse(b"1,\xc3\n2,\xa9\n\xc3,\xa9\n4,ok\n", 1, &["n", "s"]);
        assert_eq!(batch.rows, [4]);
        let rejected: Vec<u64> = batch.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rejected, [1, 2, 3]);
    }
}
