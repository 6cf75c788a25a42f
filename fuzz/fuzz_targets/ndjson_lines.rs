//! The NDJSON line parser (keys looked up among the columns, values kept as
//! slices of the line) agrees with serde_json's own parse of each line:
//! every non-blank line is a row or a rejected row; a row's line is a JSON
//! object whose keys are all columns, with the cells serde_json finds
//! (strings unescaped, numbers as written, nested values compact); a
//! rejected line is malformed, not an object, or (when unknown keys are
//! rejected, as etl does; inference ignores them) has a key outside the
//! columns. Parsing never fails.
#![no_main]

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use common::storage::RecordChunker;
use ingest::read::UnknownKeys;
use ingest::read::ndjson::Chunk;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const NAMES: [&str; 4] = ["a", "b", "c", "é\"x"];

/// Whether `cell` is what serde_json parsed for the key.
fn same(cell: Option<&str>, value: Option<&Value>) -> bool {
    match (cell, value) {
        (None, None | Some(Value::Null)) => true,
        (Some(cell), Some(Value::String(s))) => cell == s,
        (Some(cell), Some(Value::Bool(b))) => cell == b.to_string(),
        (Some(cell), Some(Value::Number(n))) => {
            let (Ok(a), Some(b)) = (cell.parse::<f64>(), n.as_f64()) else {
                return false;
            };
            a == b
        }
        (Some(cell), Some(nested @ (Value::Array(_) | Value::Object(_)))) => {
            cell == nested.to_string()
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, input)) = data.split_first() else {
        return;
    };
    let names: Arc<[String]> = NAMES[..head as usize % 5]
        .iter()
        .map(|n| n.to_string())
        .collect();
    let per_chunk = 1 + (head as usize >> 3) % 8;
    let block = 1 + (head as u64 >> 5);
    let unknown_keys = match head >> 7 {
        0 => UnknownKeys::Reject,
        _ => UnknownKeys::Ignore,
    };
    let ignore = unknown_keys == UnknownKeys::Ignore;
    let mut chunker = RecordChunker::lines(input).with_block_size(block);
    while let Some(chunk) = chunker.next(per_chunk).expect("reading bytes from memory") {
        let first = chunk.first_line;
        let body = chunk.bytes.strip_suffix(b"\n").unwrap_or(&chunk.bytes);
        let lines: Vec<Vec<u8>> = match body.is_empty() && chunk.bytes.is_empty() {
            true => Vec::new(),
            false => body.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect(),
        };
        let line = |n: u64| lines[(n - first) as usize].trim_ascii();
        let parsed = |n: u64| serde_json::from_slice::<Value>(line(n));
        let raw = Chunk::new(Arc::clone(&names), 0, chunk)
            .with_unknown_keys(unknown_keys)
            .parse()
            .expect("parsing NDJSON lines never fails");
        let blank = lines.iter().filter(|l| l.trim_ascii().is_empty()).count();
        assert_eq!(
            raw.batch.num_rows() + raw.rejected.len(),
            lines.len() - blank,
            "every non-blank line is a row or a rejected row"
        );
        for (i, &n) in raw.rows.iter().enumerate() {
            let object = match parsed(n) {
                Ok(Value::Object(object)) => object,
                // The row keeps a number's text; serde_json's value refuses
                // one beyond f64 (the cast in etl then decides).
                Err(e) if e.to_string().contains("number out of range") => continue,
                other => panic!("line {n} accepted, serde_json: {other:?}"),
            };
            assert!(
                ignore || object.keys().all(|k| names.contains(k)),
                "line {n}: unknown key accepted"
            );
            for (c, name) in names.iter().enumerate() {
                let column = raw.batch.column(c).as_string::<i32>();
                let cell = column.is_valid(i).then(|| column.value(i));
                assert!(
                    same(cell, object.get(name)),
                    "line {n}, {name}: {cell:?} vs {:?}",
                    object.get(name)
                );
            }
        }
        for rejected in &raw.rejected {
            if let Ok(Value::Object(object)) = parsed(rejected.row) {
                assert!(
                    !ignore && object.keys().any(|k| !names.contains(k)),
                    "line {} rejected ({}) though serde_json reads it",
                    rejected.row,
                    rejected.reason
                );
            }
        }
    }
});
