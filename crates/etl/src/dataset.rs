//! Dataset-level steps, run in input order after the parallel row checks:
//! `unique` (later rows with a seen key are invalid), de-duplication (exact
//! or by key: later copies are removed and counted). The split is in
//! [`crate::split`].
//!
//! Memory: uniqueness and de-duplication keep one 128-bit hash per distinct
//! key (about 16 bytes plus hash-table overhead per row), the one part of the
//! run that grows with the input rather than the batch size. Two different
//! keys share a hash with probability about n²/2¹²⁹ — for a billion rows,
//! 10⁻²¹.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::row::{RowConverter, SortField};
use xxhash_rust::xxh3::xxh3_128;

use crate::error::Result;

/// Keys are already xxh3 hashes: the table uses their low 64 bits as they
/// are instead of hashing them again with SipHash.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys that are not a single u128 (none here).
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

type Seen<V> = HashMap<u128, V, BuildHasherDefault<Prehashed>>;

/// Hashes the rows of some columns of a batch.
#[derive(Debug)]
pub(crate) struct KeyHasher {
    columns: Vec<usize>,
    converter: RowConverter,
}

impl KeyHasher {
    /// Hashes `columns` (indexes into `schema`).
    pub(crate) fn new(schema: &arrow::datatypes::Schema, columns: Vec<usize>) -> Result<Self> {
        let fields = columns
            .iter()
            .map(|&c| SortField::new(schema.field(c).data_type().clone()))
            .collect();
        Ok(Self {
            columns,
            converter: RowConverter::new(fields)?,
        })
    }

    /// The xxh3-128 of each row's key columns (arrow's row encoding).
    pub(crate) fn hashes(&self, batch: &RecordBatch) -> Result<Vec<u128>> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|&c| Arc::clone(batch.column(c)))
            .collect();
        let rows = self.converter.convert_columns(&arrays)?;
        Ok(rows.iter().map(|row| xxh3_128(row.as_ref())).collect())
    }
}

/// Removes repeated rows (all columns, or a key), keeping the first.
#[derive(Debug)]
pub struct Dedup {
    hasher: Arc<KeyHasher>,
    seen: HashSet<u128, BuildHasherDefault<Prehashed>>,
    /// Where each kept key is, when tracked (a shard's run: the merge
    /// checks that no two shards kept the same key).
    kept: Option<Vec<KeyAt>>,
}

/// A key (its 128-bit hash) and the row it was first seen at: input
/// `file` (index in the plan) and `row` (1-based line or record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyAt {
    /// xxh3-128 of the key columns' row encoding.
    pub hash: u128,
    /// The input file's index in the plan.
    pub file: u32,
    /// The row within it.
    pub row: u64,
}

impl Dedup {
    /// De-duplicates on `columns` (indexes into the output schema).
    pub fn new(schema: &arrow::datatypes::Schema, columns: Vec<usize>) -> Result<Self> {
        Ok(Self {
            hasher: Arc::new(KeyHasher::new(schema, columns)?),
            seen: HashSet::default(),
            kept: None,
        })
    }

    /// Also records where each kept key is (28 more bytes per key).
    pub fn track(mut self) -> Self {
        self.kept = Some(Vec::new());
        self
    }

    /// Which rows to keep: true for the first time a key is seen; `file`
    /// and `rows` locate the rows of this batch.
    pub fn keep(&mut self, batch: &RecordBatch, file: usize, rows: &[u64]) -> Result<BooleanArray> {
        let hashes = self.hasher.hashes(batch)?;
        Ok(self.keep_hashed(hashes, file, rows))
    }

    /// The hasher of the key columns, to hash batches ahead, in parallel.
    pub(crate) fn hasher(&self) -> Arc<KeyHasher> {
        Arc::clone(&self.hasher)
    }

    /// [`Dedup::keep`] for rows whose keys [`Dedup::hasher`] hashed.
    pub(crate) fn keep_hashed(
        &mut self,
        hashes: Vec<u128>,
        file: usize,
        rows: &[u64],
    ) -> BooleanArray {
        hashes
            .into_iter()
            .zip(rows)
            .map(|(hash, &row)| {
                let first = self.seen.insert(hash);
                if first && let Some(kept) = &mut self.kept {
                    kept.push(KeyAt {
                        hash,
                        file: file as u32,
                        row,
                    });
                }
                Some(first)
            })
            .collect()
    }

    /// The kept keys with where they are, when tracked.
    pub fn into_kept(self) -> Option<Vec<KeyAt>> {
        self.kept
    }
}

/// The `unique` rule: remembers where each key was first seen.
#[derive(Debug)]
pub struct Unique {
    hasher: KeyHasher,
    first: Seen<(u32, u64)>,
}

impl Unique {
    /// Checks uniqueness of `columns` (indexes into the output schema).
    pub fn new(schema: &arrow::datatypes::Schema, columns: Vec<usize>) -> Result<Self> {
        Ok(Self {
            hasher: KeyHasher::new(schema, columns)?,
            first: Seen::default(),
        })
    }

    /// For each row, where its key was first seen if it is a repeat; `file`
    /// and `rows` locate the rows of this batch.
    pub fn repeats(
        &mut self,
        batch: &RecordBatch,
        file: usize,
        rows: &[u64],
    ) -> Result<Vec<Option<(u32, u64)>>> {
        let hashes = self.hasher.hashes(batch)?;
        Ok(hashes
            .into_iter()
            .zip(rows)
            .map(|(h, &row)| match self.first.get(&h) {
                Some(first) => Some(*first),
                None => {
                    self.first.insert(h, (file as u32, row));
                    None
                }
            })
            .collect())
    }

    /// Every key seen, with where it was first seen.
    pub fn into_kept(self) -> Vec<KeyAt> {
        self.first
            .into_iter()
            .map(|(hash, (file, row))| KeyAt { hash, file, row })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(ids: Vec<i64>, names: Vec<&str>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn dedup_keeps_first_across_batches() {
        let b = batch(vec![1, 2, 1], vec!["a", "b", "a"]);
        let mut dedup = Dedup::new(&b.schema(), vec![0, 1]).unwrap();
        let keep: Vec<_> = dedup
            .keep(&b, 0, &[1, 2, 3])
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(keep, [true, true, false]);
        let keep: Vec<_> = dedup
            .keep(&batch(vec![2, 3], vec!["b", "c"]), 0, &[4, 5])
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(keep, [false, true]);
    }

    #[test]
    fn unique_reports_first_occurrence() {
        let b = batch(vec![1, 2, 1], vec!["a", "b", "c"]);
        let mut unique = Unique::new(&b.schema(), vec![0]).unwrap();
        let repeats = unique.repeats(&b, 0, &[2, 3, 4]).unwrap();
        assert_eq!(repeats, [None, None, Some((0, 2))]);
    }
}
