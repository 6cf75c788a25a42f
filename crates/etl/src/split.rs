//! The train / test / validation split of the valid rows, in one of two ways.
//!
//! **Exact** (no `split.key`, the default): as scikit-learn's
//! `train_test_split`, `ceil(n × test)` rows go to `test/` (and
//! `ceil(n × validation)` to `validation/`), chosen at random with the
//! seed, stratified by a column when `split.stratify` names one. The run
//! streams, so `n` is known only at the end: rows are held back in blocks
//! of [`BLOCK`] rows (at most two blocks in memory), each full block gets its
//! share (the cumulative target rounded, per stratum), and the last rows
//! take whatever makes the totals exact. Within a block, rows are ordered by
//! a seeded hash of their position and the first ones go to test.
//!
//! **Keyed** (`split.key`): a stable hash of the key columns' text decides
//! each row's split on its own, so a row keeps its split whatever else
//! arrives; the fractions then hold in expectation only.

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::Result;

/// Rows per block of the exact split.
const BLOCK: usize = 16_384;

/// Which dataset a row goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// `train/`.
    Train,
    /// `test/`.
    Test,
    /// `validation/`.
    Validation,
}

/// Rows whose split is decided, ready to write.
pub type Assigned = Vec<(RecordBatch, Vec<Split>)>;

/// Each batch of `block` with its rows' share of `splits`.
fn pieces(block: Vec<RecordBatch>, splits: Vec<Split>) -> Assigned {
    let mut at = 0;
    block
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|batch| {
            let part = splits[at..at + batch.num_rows()].to_vec();
            at += batch.num_rows();
            (batch, part)
        })
        .collect()
}

/// Rows seen and assigned so far in one stratum.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    seen: usize,
    test: usize,
    validation: usize,
}

/// Assigns rows to splits (see the module docs).
#[derive(Debug)]
pub struct Splitter {
    test: f64,
    validation: f64,
    seed: u64,
    key: Vec<usize>,
    stratify: Option<usize>,
    /// Valid rows seen (the position of the next one).
    position: u64,
    /// Exact split: rows held back, and how many.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    strata: BTreeMap<Option<String>, Tally>,
}

impl Splitter {
    /// A splitter with the given fractions and seed; `key` columns make it
    /// keyed, `stratify` (a column index) stratifies the exact split.
    pub fn new(
        test: f64,
        validation: f64,
        seed: u64,
        key: Vec<usize>,
        stratify: Option<usize>,
    ) -> Self {
        Self {
            test,
            validation,
            seed,
            key,
            stratify,
            position: 0,
            pending: Vec::new(),
            pending_rows: 0,
            strata: BTreeMap::new(),
        }
    }

    /// Takes the next valid rows; returns the rows whose split is now decided
    /// (all of them when keyed; whole blocks when exact).
    pub fn push(&mut self, batch: RecordBatch) -> Result<Assigned> {
        if !self.key.is_empty() {
            let splits = self.keyed(&batch)?;
            return Ok(vec![(batch, splits)]);
        }
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        let mut ready = Vec::new();
        // Keep at least one block back, so the last rows can always make the totals exact.
        while self.pending_rows >= 2 * BLOCK {
            let block = self.front(BLOCK);
            let splits = self.exact(&block, None)?;
            ready.extend(pieces(block, splits));
        }
        Ok(ready)
    }

    /// After the last batch: the rows still held back, with their splits.
    pub fn finish(&mut self) -> Result<Assigned> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let block = std::mem::take(&mut self.pending);
        let rows = self.pending_rows;
        self.pending_rows = 0;
        let total = self.strata.values().map(|t| t.seen).sum::<usize>() + rows;
        let splits = self.exact(&block, Some(total))?;
        Ok(pieces(block, splits))
    }

    /// The first `rows` held-back rows, as slices of the batches they are
    /// in (no copy).
    fn front(&mut self, rows: usize) -> Vec<RecordBatch> {
        let mut block = Vec::new();
        let mut wanted = rows;
        while wanted > 0 && !self.pending.is_empty() {
            let first = &self.pending[0];
            if first.num_rows() <= wanted {
                wanted -= first.num_rows();
                block.push(self.pending.remove(0));
            } else {
                block.push(first.slice(0, wanted));
                self.pending[0] = first.slice(wanted, first.num_rows() - wanted);
                wanted = 0;
            }
        }
        self.pending_rows -= rows - wanted;
        block
    }

    fn keyed(&mut self, batch: &RecordBatch) -> Result<Vec<Split>> {
        let texts: Vec<ArrayRef> = self
            .key
            .iter()
            .map(|&c| cast(batch.column(c), &DataType::Utf8))
            .collect::<Result<_, _>>()?;
        let mut buffer = Vec::new();
        let splits = (0..batch.num_rows())
            .map(|i| {
                buffer.clear();
                for text in &texts {
                    let text = text.as_string::<i32>();
                    if text.is_valid(i) {
                        buffer.extend_from_slice(text.value(i).as_bytes());
                    } else {
                        buffer.push(0);
                    }
                    buffer.push(0x1f);
                }
                let u = (xxh3_64_with_seed(&buffer, self.seed) >> 11) as f64 / (1u64 << 53) as f64;
                if u < self.test {
                    Split::Test
                } else if u < self.test + self.validation {
                    Split::Validation
                } else {
                    Split::Train
                }
            })
            .collect();
        self.position += batch.num_rows() as u64;
        Ok(splits)
    }

    /// Splits one block (batches, in order); `total` is the number of valid
    /// rows when this is the last one.
    fn exact(&mut self, block: &[RecordBatch], total: Option<usize>) -> Result<Vec<Split>> {
        let rows = block.iter().map(RecordBatch::num_rows).sum();
        let labels: Vec<Option<String>> = match self.stratify {
            Some(c) => {
                let mut labels = Vec::with_capacity(rows);
                for batch in block {
                    let text = cast(batch.column(c), &DataType::Utf8)?;
                    let text = text.as_string::<i32>();
                    labels.extend(text.iter().map(|v| v.map(str::to_string)));
                }
                labels
            }
            None => vec![None; rows],
        };
        let mut members: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
        for (row, label) in labels.into_iter().enumerate() {
            members.entry(label).or_default().push(row);
        }
        for (label, rows) in &members {
            self.strata.entry(label.clone()).or_default().seen += rows.len();
        }
        // Rows of each stratum for test and validation in this block.
        let quotas: BTreeMap<Option<String>, (usize, usize)> = match total {
            None => members
                .iter()
                .map(|(label, rows)| {
                    let tally = self.strata[label];
                    let target = |fraction: f64| (tally.seen as f64 * fraction).round() as usize;
                    let both = target(self.test + self.validation)
                        .saturating_sub(tally.test + tally.validation)
                        .min(rows.len());
                    let test = target(self.test).saturating_sub(tally.test).min(both);
                    (label.clone(), (test, both - test))
                })
                .collect(),
            Some(total) => self.last_quotas(&members, total),
        };
        let mut splits = vec![Split::Train; rows];
        let start = self.position;
        for (label, mut rows) in members {
            let (test, validation) = quotas[&label];
            let seed = self.seed;
            rows.sort_by_key(|&r| xxh3_64_with_seed(&(start + r as u64).to_le_bytes(), seed));
            for &r in &rows[..test] {
                splits[r] = Split::Test;
            }
            for &r in &rows[test..test + validation] {
                splits[r] = Split::Validation;
            }
            let tally = self.strata.entry(label).or_default();
            tally.test += test;
            tally.validation += validation;
        }
        self.position += rows as u64;
        Ok(splits)
    }

    /// Quotas of the last block: whatever makes the totals `ceil(n × fraction)`,
    /// shared among the strata in proportion to their size (largest
    /// remainders first, as scikit-learn's stratified split does).
    fn last_quotas(
        &self,
        members: &BTreeMap<Option<String>, Vec<usize>>,
        total: usize,
    ) -> BTreeMap<Option<String>, (usize, usize)> {
        let ceil = |fraction: f64| ((total as f64 * fraction) - 1e-9).ceil().max(0.0) as usize;
        let want_test = ceil(self.test).min(total);
        let want_validation = if self.validation > 0.0 {
            ceil(self.validation).min(total - want_test)
        } else {
            0
        };
        let tallies: Vec<Tally> = members.keys().map(|l| self.strata[l]).collect();
        let capacity: Vec<usize> = members.values().map(Vec::len).collect();
        let assigned = |f: fn(&Tally) -> usize| self.strata.values().map(f).sum::<usize>();
        let ideal = |want: usize, f: fn(&Tally) -> usize| -> Vec<f64> {
            tallies
                .iter()
                .map(|t| (t.seen as f64 * want as f64 / total.max(1) as f64 - f(t) as f64).max(0.0))
                .collect()
        };
        let test = share(
            want_test.saturating_sub(assigned(|t| t.test)),
            &ideal(want_test, |t| t.test),
            &capacity,
        );
        let left: Vec<usize> = capacity.iter().zip(&test).map(|(c, t)| c - t).collect();
        let validation = share(
            want_validation.saturating_sub(assigned(|t| t.validation)),
            &ideal(want_validation, |t| t.validation),
            &left,
        );
        members
            .keys()
            .cloned()
            .zip(test.into_iter().zip(validation))
            .collect()
    }
}

/// Shares `want` rows among strata by their `ideal` (fractional) shares,
/// each at most its `capacity`: whole parts first, then one more to the
/// largest fractional parts, then to any stratum with room.
fn share(want: usize, ideal: &[f64], capacity: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = ideal
        .iter()
        .zip(capacity)
        .map(|(i, &c)| (i.floor() as usize).min(c))
        .collect();
    let fraction = |i: usize| ideal[i] - ideal[i].floor();
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| fraction(b).total_cmp(&fraction(a)).then(a.cmp(&b)));
    // Earlier blocks may have given some strata more than their share.
    while out.iter().sum::<usize>() > want {
        let Some(&i) = order.iter().rev().find(|&&i| out[i] > 0) else {
            break;
        };
        out[i] -= 1;
    }
    let mut remaining = want.saturating_sub(out.iter().sum());
    for first in [true, false] {
        loop {
            let mut gave = false;
            for &i in &order {
                if remaining == 0 {
                    return out;
                }
                if out[i] < capacity[i] && (!first || fraction(i) > 0.0) {
                    out[i] += 1;
                    remaining -= 1;
                    gave = true;
                }
            }
            if first || !gave {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(ids: Vec<i64>, labels: Vec<&str>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("label", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(labels)),
            ],
        )
        .unwrap()
    }

    /// Every row's split, pushing `batch` in pieces of `piece` rows.
    fn split_all(splitter: &mut Splitter, batch: &RecordBatch, piece: usize) -> Vec<Split> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < batch.num_rows() {
            let len = piece.min(batch.num_rows() - start);
            for (b, s) in splitter.push(batch.slice(start, len)).unwrap() {
                assert_eq!(b.num_rows(), s.len());
                out.extend(s);
            }
            start += len;
        }
        for (_, s) in splitter.finish().unwrap() {
            out.extend(s);
        }
        out
    }

    fn count(splits: &[Split], which: Split) -> usize {
        splits.iter().filter(|s| **s == which).count()
    }

    #[test]
    fn keyed_split_is_stable_and_proportional() {
        let ids: Vec<i64> = (0..10_000).collect();
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        let b = batch(ids.clone(), names.iter().map(String::as_str).collect());
        let mut splitter = Splitter::new(0.2, 0.1, 7, vec![0], None);
        let all = split_all(&mut splitter, &b, 10_000);
        let test = count(&all, Split::Test);
        let validation = count(&all, Split::Validation);
        assert!((1800..2200).contains(&test), "{test}");
        assert!((850..1150).contains(&validation), "{validation}");
        // The same key lands in the same split in another batch, at another position.
        let tail = b.slice(9000, 1000);
        let again = split_all(&mut Splitter::new(0.2, 0.1, 7, vec![0], None), &tail, 1000);
        assert_eq!(again, all[9000..]);
    }

    /// Regression (issue 11.7): rows were drawn one by one, so 178 rows with
    /// `test: 0.2` gave 25 test rows (29–39 over seeds 1–10), not 36.
    #[test]
    fn exact_split_gives_ceil_of_n_times_the_fraction_whatever_the_batching() {
        for (n, piece) in [
            (178, 178),
            (178, 7),
            (1, 1),
            (10, 3),
            (100_003, 4096),
            (40_000, 40_000),
        ] {
            let b = batch((0..n as i64).collect(), vec!["x"; n]);
            for seed in 1..=3 {
                let all = split_all(&mut Splitter::new(0.2, 0.1, seed, vec![], None), &b, piece);
                assert_eq!(all.len(), n);
                let want_test = (n as f64 * 0.2 - 1e-9).ceil() as usize;
                let want_validation = ((n as f64 * 0.1 - 1e-9).ceil() as usize).min(n - want_test);
                assert_eq!(count(&all, Split::Test), want_test, "n {n} piece {piece}");
                assert_eq!(count(&all, Split::Validation), want_validation, "n {n}");
            }
        }
        // 178 × 0.2 = 35.6 → 36, as sklearn.model_selection.train_test_split(test_size=0.2).
        let b = batch((0..178).collect(), vec!["x"; 178]);
        let all = split_all(&mut Splitter::new(0.2, 0.0, 42, vec![], None), &b, 50);
        assert_eq!(
            (count(&all, Split::Test), count(&all, Split::Train)),
            (36, 142)
        );
    }

    #[test]
    fn exact_split_depends_on_seed_only_and_spreads_over_the_data() {
        let b = batch((0..50_000).collect(), vec!["x"; 50_000]);
        let a = split_all(&mut Splitter::new(0.3, 0.0, 1, vec![], None), &b, 1000);
        let same = split_all(&mut Splitter::new(0.3, 0.0, 1, vec![], None), &b, 777);
        let other = split_all(&mut Splitter::new(0.3, 0.0, 2, vec![], None), &b, 1000);
        assert_eq!(a, same, "the batching does not matter");
        assert_ne!(a, other);
        // Every tenth of the file gives about 30% of its rows to test.
        for tenth in a.chunks(5000) {
            let share = count(tenth, Split::Test) as f64 / 5000.0;
            assert!((0.27..0.33).contains(&share), "{share}");
        }
    }

    #[test]
    fn stratified_split_keeps_each_class_share() {
        // 3 classes of 600, 300 and 100 rows, interleaved unevenly, plus a
        // class of 1 row; across blocks.
        let n = 40_001;
        let labels: Vec<&str> = (0..n)
            .map(|i| match i {
                0 => "rare",
                _ if i % 10 < 6 => "a",
                _ if i % 10 < 9 => "b",
                _ => "c",
            })
            .collect();
        let b = batch((0..n as i64).collect(), labels.clone());
        let all = split_all(&mut Splitter::new(0.25, 0.0, 5, vec![], Some(1)), &b, 3000);
        assert_eq!(count(&all, Split::Test), (n as f64 * 0.25).ceil() as usize);
        for class in ["a", "b", "c"] {
            let rows = labels.iter().filter(|l| **l == class).count();
            let test = all
                .iter()
                .zip(&labels)
                .filter(|(s, l)| **l == class && **s == Split::Test)
                .count();
            let expected = rows as f64 * 0.25;
            assert!(
                (test as f64 - expected).abs() <= 1.0,
                "{class}: {test} of {rows}"
            );
        }
    }
}
