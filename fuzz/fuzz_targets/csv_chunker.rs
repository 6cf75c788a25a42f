//! The CSV record chunker cuts only where csv-core ends a record, and etl's
//! rows do not depend on where chunks are cut: for any bytes, any dialect
//! that etl accepts, any records per chunk and any read size,
//! - the chunks together are the input (less the file's byte-order mark),
//!   each chunk's first line and records-before count are right;
//! - the csv crate reads the same records from the chunks one by one as
//!   from the whole input;
//! - etl's parse of the chunks gives the same rows, source lines, rejected
//!   rows and reasons as its parse of the input in one chunk.
#![no_main]

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use common::storage::{CsvDialect, RecordChunk, RecordChunker, line_feeds};
use ingest::read::RawBatch;
use ingest::read::csv::Chunk;
use libfuzzer_sys::fuzz_target;

/// Bytes a dialect is drawn from: the usual ones, line ends and letters, so
/// that the dialect collides with the input and with itself.
const SPECIAL: &[u8] = b",;\t|\"'\\#\n\r a";

fn pick(byte: u8) -> u8 {
    SPECIAL[byte as usize % SPECIAL.len()]
}

/// Records as the csv crate reads them, keeping a byte-order mark at the
/// start as data (the chunker drops the file's own; etl keeps any other).
fn records(input: &[u8], dialect: &CsvDialect) -> Vec<Vec<Vec<u8>>> {
    let mut bytes = b"\n".to_vec();
    bytes.extend_from_slice(input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .escape(dialect.escape)
        .double_quote(dialect.escape.is_none())
        .comment(dialect.comment)
        .from_reader(&bytes[..]);
    reader
        .byte_records()
        .map(|r| {
            r.expect("reading bytes from memory")
                .iter()
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect()
}

/// Rows (line and cells), then rejected rows (line, reason, raw text).
type Rows = (Vec<(u64, Vec<Option<String>>)>, Vec<(u64, String, String)>);

fn rows(batch: RawBatch, into: &mut Rows) {
    let columns: Vec<_> = batch
        .batch
        .columns()
        .iter()
        .map(|c| c.as_string::<i32>().clone())
        .collect();
    for (i, &line) in batch.rows.iter().enumerate() {
        let cells = columns
            .iter()
            .map(|c| c.is_valid(i).then(|| c.value(i).to_string()))
            .collect();
        into.0.push((line, cells));
    }
    for r in batch.rejected {
        into.1.push((r.row, r.reason.to_string(), r.raw));
    }
}

/// etl's rows of `input` cut into chunks of `per_chunk` records.
fn parse(input: &[u8], dialect: &CsvDialect, width: usize, per_chunk: usize, block: u64) -> Rows {
    let names: Arc<[String]> = (0..width).map(|i| format!("c{i}")).collect();
    let mut chunker = RecordChunker::new(input, dialect).with_block_size(block);
    let mut out = Rows::default();
    while let Some(chunk) = chunker.next(per_chunk).expect("reading bytes from memory") {
        let chunk = Chunk::new(
            *dialect,
            Arc::clone(&names),
            (0, Arc::from("fuzz.csv")),
            chunk,
        );
        rows(
            chunk.parse().expect("parsing CSV records never fails"),
            &mut out,
        );
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((head, input)) = data.split_first_chunk::<4>() else {
        return;
    };
    let dialect = CsvDialect {
        delimiter: pick(head[0]),
        quote: pick(head[1]),
        escape: (head[2] & 0x80 != 0).then(|| pick(head[2] & 0x7f)),
        comment: (head[3] & 0x80 != 0).then(|| pick(head[3] & 0x7f)),
    };
    if dialect.problem().is_some() {
        return;
    }
    let per_chunk = 1 + (head[0] as usize >> 5);
    let block = 1 + (head[1] as u64 >> 4);
    let width = 1 + (head[3] as usize & 3);
    let data = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let whole = records(data, &dialect);
    let mut chunker = RecordChunker::new(input, &dialect).with_block_size(block);
    let (mut pieces, mut seen) = (Vec::new(), Vec::new());
    while let Some(RecordChunk {
        bytes,
        first_line,
        records_before,
        ..
    }) = chunker.next(per_chunk).expect("reading bytes from memory")
    {
        assert_eq!(first_line, 1 + line_feeds(&seen), "first line of a chunk");
        assert_eq!(
            records_before,
            pieces.len() as u64,
            "records before a chunk"
        );
        pieces.extend(records(&bytes, &dialect));
        seen.extend_from_slice(&bytes);
    }
    assert_eq!(seen, data, "the chunks are the input");
    assert_eq!(
        pieces, whole,
        "csv records of the chunks, {dialect:?}, {per_chunk} a chunk"
    );
    let one = parse(input, &dialect, width, usize::MAX, 1 << 20);
    let cut = parse(input, &dialect, width, per_chunk, block);
    assert_eq!(
        cut, one,
        "etl's rows cut every {per_chunk} records, {dialect:?}"
    );
});
