//! Cutting a text stream into chunks of whole records, so that chunks can be
//! parsed in parallel: lines for NDJSON, CSV records for CSV. Where a CSV
//! record ends depends on quoting (a quoted
//! field may hold delimiters and newlines), so one thread scans the bytes with
//! a small state machine that follows csv-core's reading rules exactly
//! (quotes open only at a field's start, doubled quotes or the escape
//! character inside quotes, comment lines, `\r`, `\n` and `\r\n` ends). The
//! scan jumps between quotes and line ends, several times cheaper than
//! parsing.

use std::io::Read;

/// Bytes read from the input at a time.
const BLOCK: u64 = 1 << 20;

/// The UTF-8 byte-order mark, dropped from the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

// Scanner states, mirroring csv-core's NFA states that matter for record ends.
/// Between records (csv-core `StartRecord`): blank lines are skipped here.
const START: u8 = 0;
const FIELD_START: u8 = 1;
const FIELD: u8 = 2;
const QUOTED: u8 = 3;
/// After the escape character inside quotes.
const ESCAPED: u8 = 4;
/// After a quote inside quotes: a doubled quote, or the end of the quoting.
const QUOTE_IN_QUOTED: u8 = 5;
const COMMENT: u8 = 6;
const STATES: usize = 7;
/// Flag on a transition that ends a record.
const ENDS_RECORD: u8 = 0x80;

/// The CSV syntax that decides where records end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    /// Field separator.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
    /// Escape character inside quotes (`None`: a quote is escaped by doubling it).
    pub escape: Option<u8>,
    /// Lines starting with this byte are skipped.
    pub comment: Option<u8>,
}

impl Default for CsvDialect {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            escape: None,
            comment: None,
        }
    }
}

impl CsvDialect {
    /// Why the dialect cannot be read unambiguously, if it cannot: a line
    /// end in any role (it would both end records and separate or quote
    /// fields), or one character in two roles. The message names the roles
    /// (`delimiter`, `quote`, `escape`, `comment`).
    pub fn problem(&self) -> Option<String> {
        let roles = [
            ("delimiter", Some(self.delimiter)),
            ("quote", Some(self.quote)),
            ("escape", self.escape),
            ("comment", self.comment),
        ];
        let given: Vec<(&str, u8)> = roles
            .iter()
            .filter_map(|(r, c)| Some((*r, (*c)?)))
            .collect();
        for (i, &(role, c)) in given.iter().enumerate() {
            if c == b'\n' || c == b'\r' {
                return Some(format!("the {role} cannot be a line end"));
            }
            if let Some((other, _)) = given[..i].iter().find(|(_, d)| *d == c) {
                return Some(format!(
                    "the {other} and the {role} are both {:?}; each needs its own character",
                    c as char
                ));
            }
        }
        None
    }
}

/// Finds record ends for one CSV dialect.
struct Scanner {
    /// Next state (with [`ENDS_RECORD`]) by state and byte.
    table: Box<[u8; STATES * 256]>,
    delimiter: u8,
    quote: u8,
    /// Comment lines need the exact scan throughout.
    comments: bool,
}

/// What a scan found.
#[derive(Debug, Default)]
struct Scanned {
    records: usize,
    lines: u64,
}

impl Scanner {
    fn new(dialect: &CsvDialect) -> Self {
        let CsvDialect {
            delimiter,
            quote,
            escape,
            comment,
        } = *dialect;
        let double_quote = escape.is_none();
        let terminator = |b: u8| b == b'\r' || b == b'\n';
        let mut table = Box::new([0u8; STATES * 256]);
        for state in 0..STATES as u8 {
            for b in 0..=255u8 {
                // The order of the checks is csv-core's, state by state.
                let field_start = |b: u8| {
                    if b == quote {
                        QUOTED
                    } else if b == delimiter {
                        FIELD_START
                    } else if terminator(b) {
                        START | ENDS_RECORD
                    } else {
                        FIELD
                    }
                };
                let next = match state {
                    START if terminator(b) => START,
                    START if comment == Some(b) => COMMENT,
                    START | FIELD_START => field_start(b),
                    FIELD if b == delimiter => FIELD_START,
                    FIELD if terminator(b) => START | ENDS_RECORD,
                    FIELD => FIELD,
                    QUOTED if b == quote => QUOTE_IN_QUOTED,
                    QUOTED if escape == Some(b) => ESCAPED,
                    QUOTED | ESCAPED => QUOTED,
                    QUOTE_IN_QUOTED if double_quote && b == quote => QUOTED,
                    QUOTE_IN_QUOTED if b == delimiter => FIELD_START,
                    QUOTE_IN_QUOTED if terminator(b) => START | ENDS_RECORD,
                    QUOTE_IN_QUOTED => FIELD,
                    _ if b == b'\n' => START, // COMMENT ends at a line feed
                    _ => COMMENT,
                };
                table[state as usize * 256 + b as usize] = next;
            }
        }
        Self {
            table,
            delimiter,
            quote,
            comments: comment.is_some(),
        }
    }

    /// Scans `bytes` from `state`, counting ended records and line feeds into
    /// `found`; returns the offset just past the record that makes
    /// `found.records` reach `want`, or `None` when `bytes` ends first.
    ///
    /// Outside quotes only quotes and line ends matter, so the scan jumps
    /// between them with `memchr`; quoted fields (and dialects with comment
    /// lines) go byte by byte through the table.
    fn scan(
        &self,
        state: &mut u8,
        bytes: &[u8],
        found: &mut Scanned,
        want: usize,
    ) -> Option<usize> {
        let mut i = 0;
        loop {
            if self.comments || matches!(*state, QUOTED | ESCAPED | QUOTE_IN_QUOTED) {
                while i < bytes.len() {
                    let b = bytes[i];
                    let next = self.table[*state as usize * 256 + b as usize];
                    *state = next & !ENDS_RECORD;
                    i += 1;
                    found.lines += u64::from(b == b'\n');
                    if next & ENDS_RECORD != 0 {
                        found.records += 1;
                        if found.records >= want {
                            return Some(i);
                        }
                    }
                    if !self.comments && !matches!(*state, QUOTED | ESCAPED | QUOTE_IN_QUOTED) {
                        break;
                    }
                }
                if i >= bytes.len() {
                    return None;
                }
            }
            // Unquoted (START, FIELD_START or FIELD) from `i`.
            let Some(k) = memchr::memchr3(self.quote, b'\n', b'\r', &bytes[i..]) else {
                if let Some(&last) = bytes[i..].last() {
                    *state = if last == self.delimiter {
                        FIELD_START
                    } else {
                        FIELD
                    };
                }
                return None;
            };
            let at = i + k;
            // Bytes between `i` and `at` are ordinary or delimiters, so the
            // state before `at` follows from the byte just before it.
            let before = match k {
                0 => *state,
                _ if bytes[at - 1] == self.delimiter => FIELD_START,
                _ => FIELD,
            };
            i = at + 1;
            let b = bytes[at];
            if b == self.quote {
                // A quote opens quoting only at the start of a field.
                *state = if before == FIELD { FIELD } else { QUOTED };
                continue;
            }
            found.lines += u64::from(b == b'\n');
            *state = START;
            if before != START {
                found.records += 1;
                if found.records >= want {
                    return Some(i);
                }
            }
        }
    }
}

/// Whole records of a file, and where in the file they start.
#[derive(Debug)]
pub struct RecordChunk {
    /// The records' bytes, from just after the previous chunk's last record.
    pub bytes: Vec<u8>,
    /// 1-based line of the chunk's first byte.
    pub first_line: u64,
    /// Records ended in the chunk (a last record without a line end at the
    /// end of the file is not counted).
    pub records: usize,
    /// Records ended before the chunk.
    pub records_before: u64,
}

/// Reads a CSV or NDJSON stream as chunks of whole records.
pub struct RecordChunker<R> {
    input: R,
    /// CSV records; `None`: lines.
    scanner: Option<Scanner>,
    /// Bytes read and not yet handed out; they start at a record boundary.
    buffer: Vec<u8>,
    /// How much of `buffer` is scanned, the state there, and what it held.
    scanned: usize,
    state: u8,
    found: Scanned,
    /// Line of `buffer[0]`, and records before it.
    line: u64,
    records_before: u64,
    /// Bytes to read at a time.
    block: u64,
    started: bool,
    eof: bool,
}

impl<R> std::fmt::Debug for RecordChunker<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordChunker")
            .field("line", &self.line)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl<R: Read> RecordChunker<R> {
    /// Chunks of CSV records of `input`, read as `dialect`.
    pub fn new(input: R, dialect: &CsvDialect) -> Self {
        Self::with(input, Some(Scanner::new(dialect)))
    }

    /// Chunks of lines of `input` (NDJSON: a record per line).
    pub fn lines(input: R) -> Self {
        Self::with(input, None)
    }

    fn with(input: R, scanner: Option<Scanner>) -> Self {
        Self {
            input,
            scanner,
            buffer: Vec::new(),
            scanned: 0,
            state: START,
            found: Scanned::default(),
            line: 1,
            records_before: 0,
            block: BLOCK,
            started: false,
            eof: false,
        }
    }

    /// The next `records` records (fewer at the end of the input), or `None`
    /// when the input is exhausted. A chunk may also hold blank or comment
    /// lines, or nothing but them.
    pub fn next(&mut self, records: usize) -> std::io::Result<Option<RecordChunk>> {
        loop {
            // Nothing is scanned before the first bytes show whether the
            // file starts with a byte-order mark (reads may be tiny).
            if !self.started {
                self.fill()?;
                continue;
            }
            let unscanned = &self.buffer[self.scanned..];
            let want = records.max(1);
            let end = match &self.scanner {
                Some(scanner) => scanner.scan(&mut self.state, unscanned, &mut self.found, want),
                None => scan_lines(unscanned, &mut self.found, want),
            };
            if let Some(end) = end {
                let cut = self.scanned + end;
                // The next chunk will likely be as large as this one: room
                // for it up front saves regrowing (and copying) the buffer.
                let mut rest = Vec::with_capacity(cut + self.block as usize);
                rest.extend_from_slice(&self.buffer[cut..]);
                let mut bytes = std::mem::replace(&mut self.buffer, rest);
                bytes.truncate(cut);
                return Ok(Some(self.hand_out(bytes)));
            }
            self.scanned = self.buffer.len();
            if self.eof {
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                let bytes = std::mem::take(&mut self.buffer);
                return Ok(Some(self.hand_out(bytes)));
            }
            self.fill()?;
        }
    }

    /// Reads `bytes` at a time from the input instead of 1 MiB (at least 1),
    /// so that scans stop and resume anywhere: inside quoted fields, between
    /// `\r` and `\n`, inside the byte-order mark. For tests and fuzzing;
    /// chunks are the same whatever the size.
    pub fn with_block_size(mut self, bytes: u64) -> Self {
        self.block = bytes.max(1);
        self
    }

    /// The line the next chunk starts on (for messages about read errors).
    pub fn line(&self) -> u64 {
        self.line
    }

    fn hand_out(&mut self, bytes: Vec<u8>) -> RecordChunk {
        let found = std::mem::take(&mut self.found);
        let chunk = RecordChunk {
            bytes,
            first_line: self.line,
            records: found.records,
            records_before: self.records_before,
        };
        self.line += found.lines;
        self.records_before += found.records as u64;
        self.scanned = 0;
        self.state = START;
        chunk
    }

    /// Appends the next block of input (dropping a leading byte-order mark).
    fn fill(&mut self) -> std::io::Result<()> {
        let read = (&mut self.input)
            .take(self.block)
            .read_to_end(&mut self.buffer)?;
        if read == 0 {
            self.eof = true;
        }
        if !self.started && (self.buffer.len() >= BOM.len() || self.eof) {
            self.started = true;
            if self.buffer.starts_with(BOM) {
                self.buffer.drain(..BOM.len());
            }
        }
        Ok(())
    }
}

/// Counts lines like [`Scanner::scan`] counts records.
fn scan_lines(bytes: &[u8], found: &mut Scanned, want: usize) -> Option<usize> {
    for at in memchr::memchr_iter(b'\n', bytes) {
        found.lines += 1;
        found.records += 1;
        if found.records >= want {
            return Some(at + 1);
        }
    }
    None
}

/// Number of line feeds in `bytes`.
pub fn line_feeds(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(delimiter: u8, quote: u8, escape: Option<u8>, comment: Option<u8>) -> CsvDialect {
        CsvDialect {
            delimiter,
            quote,
            escape,
            comment,
        }
    }

    /// Splits `input` into chunks of `n` records each.
    fn chunks(input: &[u8], csv: &CsvDialect, n: usize) -> Vec<(u64, Vec<u8>)> {
        chunks_read_by(input, csv, n, BLOCK)
            .into_iter()
            .map(|(line, bytes, _)| (line, bytes))
            .collect()
    }

    /// The same, reading `block` bytes at a time (so that scans stop and
    /// resume inside quoted fields and between `\r` and `\n`).
    fn chunks_read_by(
        input: &[u8],
        csv: &CsvDialect,
        n: usize,
        block: u64,
    ) -> Vec<(u64, Vec<u8>, u64)> {
        let mut chunker = RecordChunker::new(input, csv).with_block_size(block);
        let mut out = Vec::new();
        while let Some(chunk) = chunker.next(n).unwrap() {
            out.push((chunk.first_line, chunk.bytes, chunk.records_before));
        }
        out
    }

    /// Records as the csv crate reads them from `input` in one piece.
    fn records(input: &[u8], csv: &CsvDialect) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(csv.delimiter)
            .quote(csv.quote)
            .escape(csv.escape)
            .double_quote(csv.escape.is_none())
            .comment(csv.comment)
            .from_reader(input);
        reader
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    #[test]
    fn cuts_only_between_records() {
        let csv = CsvDialect::default();
        let input = b"a,b\n\"x\ny\",2\r\n3,\"q\"\"\n\"\n\n4,5";
        let got = chunks(input, &csv, 1);
        let expected: [(u64, &[u8]); 4] = [
            (1, b"a,b\n"),
            (2, b"\"x\ny\",2\r"),
            (3, b"\n3,\"q\"\"\n\"\n"),
            (6, b"\n4,5"),
        ];
        assert_eq!(got, expected.map(|(l, b)| (l, b.to_vec())));
        let got = chunks(input, &csv, 2);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 3);
    }

    #[test]
    fn lines_are_cut_after_line_feeds() {
        let mut chunker =
            RecordChunker::lines(&b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":\"x,\\\"y\"}\r\n\n{}"[..])
                .with_block_size(3);
        let mut got = Vec::new();
        while let Some(chunk) = chunker.next(2).unwrap() {
            got.push((chunk.first_line, chunk.records_before, chunk.bytes));
        }
        let expected: [(u64, u64, &[u8]); 2] = [
            (1, 0, b"{\"a\":1}\n{\"a\":\"x,\\\"y\"}\r\n"),
            (3, 2, b"\n{}"),
        ];
        assert_eq!(got, expected.map(|(l, r, b)| (l, r, b.to_vec())));
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        let csv = CsvDialect::default();
        assert_eq!(chunks(b"\xEF\xBB\xBFa,b\n1,2\n", &csv, 1)[0].1, b"a,b\n");
        // Found by fuzzing: read a byte at a time, the mark was dropped
        // after its bytes were scanned (a panic), and one after the first
        // record was dropped too.
        for block in [1, 2, 3] {
            let got = chunks_read_by(b"\xEF\xBB\xBFa\n", &csv, 1, block);
            assert_eq!(got, [(1, b"a\n".to_vec(), 0)], "read by {block}");
            let got = chunks_read_by(b"\n\xEF\xBB\xBF\n", &csv, 1, block);
            let bytes: Vec<u8> = got.into_iter().flat_map(|(_, b, _)| b).collect();
            assert_eq!(bytes, b"\n\xEF\xBB\xBF\n", "read by {block}");
        }
        assert_eq!(chunks(b"\xEF\xBB", &csv, 1), [(1, b"\xEF\xBB".to_vec())]);
        assert!(chunks(b"\xEF\xBB\xBF", &csv, 1).is_empty());
    }

    #[test]
    fn ambiguous_dialects_are_named() {
        assert_eq!(CsvDialect::default().problem(), None);
        assert_eq!(config(b';', b'\'', Some(b'\\'), Some(b'#')).problem(), None);
        let line_end = config(b'\n', b'"', None, None).problem().unwrap();
        assert_eq!(line_end, "the delimiter cannot be a line end");
        let twice = config(b',', b'"', None, Some(b',')).problem().unwrap();
        assert_eq!(
            twice,
            "the delimiter and the comment are both ','; each needs its own character"
        );
        assert!(config(b',', b'"', Some(b'\r'), None).problem().is_some());
    }

    #[test]
    fn every_dialect_splits_where_csv_core_does() {
        let dialects = [
            config(b',', b'"', None, None),
            config(b',', b'"', Some(b'\\'), None),
            config(b',', b'"', None, Some(b'#')),
            config(b';', b'\'', None, None),
        ];
        let alphabet = b"ab,;'\"\\#\r\n";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for csv in dialects {
            for _ in 0..400 {
                let len = (seed % 40) as usize;
                let input: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        alphabet[(seed % alphabet.len() as u64) as usize]
                    })
                    .collect();
                let whole = records(&input, &csv);
                for (n, block) in [(1, 1), (2, 3), (3, BLOCK)] {
                    let mut pieces = Vec::new();
                    let mut seen = Vec::new();
                    for (line, chunk, before) in chunks_read_by(&input, &csv, n, block) {
                        assert_eq!(line, 1 + line_feeds(&seen), "first line of a chunk");
                        assert_eq!(before, pieces.len() as u64, "records before a chunk");
                        pieces.extend(records(&chunk, &csv));
                        seen.extend(chunk);
                    }
                    assert_eq!(seen, input, "the chunks are the input");
                    assert_eq!(
                        pieces,
                        whole,
                        "dialect {csv:?}, {n} per chunk read by {block}, input {:?}",
                        String::from_utf8_lossy(&input)
                    );
                }
            }
        }
    }
}
