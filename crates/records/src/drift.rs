//! Drift of scored data against the training profile: per input column,
//! the population stability index (PSI) over the training quantile bins
//! (numbers) or the training categories (the rest, with every category
//! outside the profile's top list as one "other" bucket), the null rate
//! beside the training one, and the share of values never seen in training.
//! Counting is per batch and mergeable, so a streaming run adds its batches
//! as they are scored.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::profile::{ColumnProfile, Profile, bin, is_numeric};

/// Smallest share a bin counts with in PSI, so that an empty bin does not
/// make it infinite (the usual floor).
const FLOOR: f64 = 1e-4;

/// When drift warns and when it fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// PSI from which a column is reported as drifted (a warning).
    #[serde(default = "default_warn")]
    pub warn: f64,
    /// PSI from which the run fails (none: never).
    #[serde(default)]
    pub fail: Option<f64>,
    /// Rows a run needs before its drift warns or fails: the shares of a
    /// handful of rows say little (their PSI is still recorded).
    #[serde(default = "default_min_rows")]
    pub min_rows: u64,
}

fn default_warn() -> f64 {
    0.1
}

fn default_min_rows() -> u64 {
    100
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            warn: default_warn(),
            fail: None,
            min_rows: default_min_rows(),
        }
    }
}

/// How far a column moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Below `warn`.
    Stable,
    /// From `warn`.
    Warn,
    /// From `fail`.
    Fail,
}

/// One column's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// Column name.
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// Population stability index of the non-null values.
    pub psi: f64,
    /// Share of missing cells (null or NaN) in the scored rows.
    pub null_rate: f64,
    /// The same in training.
    pub training_null_rate: f64,
    /// PSI of the missing share against training's (two bins: missing or
    /// not), judged with the same thresholds: a column that went all null
    /// drifted, whatever its few remaining values look like.
    #[serde(default)]
    pub null_psi: f64,
    /// Share of non-null values outside the training range (numbers) or
    /// never seen in training (categories; `None` when the profile kept
    /// only the most frequent ones).
    pub unseen_rate: Option<f64>,
    /// Bins: (label, training share, scored share).
    pub bins: Vec<(String, f64, f64)>,
    /// Against the thresholds.
    pub level: Level,
    /// The counts behind the rates, so that shards' drifts add up
    /// ([`Drift::combine`]).
    #[serde(default)]
    pub counted: Counted,
}

/// What one column's drift was computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    /// Missing cells: null, or NaN in a numeric column.
    pub nulls: u64,
    /// Values outside the training range or categories.
    pub unseen: u64,
    /// Values per bin.
    pub counts: Vec<u64>,
}

/// Drift of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Rows compared.
    pub rows: u64,
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// Per column, in the profile's order.
    pub columns: Vec<ColumnDrift>,
    /// The worst column's level.
    pub level: Level,
}

impl Drift {
    /// Names of the columns at `level` or worse, with their PSI.
    pub fn at_least(&self, level: Level) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.level >= level)
            .map(|c| {
                if c.null_psi > c.psi {
                    format!(
                        "{} (missing {:.1}% where training had {:.1}%, PSI {:.3})",
                        c.name,
                        100.0 * c.null_rate,
                        100.0 * c.training_null_rate,
                        c.null_psi
                    )
                } else {
                    format!("{} (PSI {:.3})", c.name, c.psi)
                }
            })
            .collect()
    }
}

/// Counts of scored values, column by column.
#[derive(Debug, Clone)]
pub struct Counter {
    columns: Vec<ColumnCounter>,
    rows: u64,
}

#[derive(Debug, Clone)]
struct ColumnCounter {
    nulls: u64,
    /// Per bin (numbers: quantile bins; categories: the top list, then
    /// "other").
    counts: Vec<u64>,
    /// Outside the training range or categories.
    unseen: u64,
}

impl Counter {
    /// Empty counts for the columns of `profile`.
    pub fn new(profile: &Profile) -> Self {
        let columns = profile
            .columns
            .iter()
            .map(|c| ColumnCounter {
                nulls: 0,
                counts: vec![0; bins(c)],
                unseen: 0,
            })
            .collect();
        Self { columns, rows: 0 }
    }

    /// Adds the rows of `batch` (columns the profile has, by name; a
    /// missing one counts as all null).
    pub fn add(&mut self, profile: &Profile, batch: &RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows() as u64;
        for (column, counter) in profile.columns.iter().zip(&mut self.columns) {
            let Some(array) = batch.column_by_name(&column.name) else {
                counter.nulls += batch.num_rows() as u64;
                continue;
            };
            counter.add(column, array.as_ref())?;
        }
        Ok(())
    }

    /// Adds another counter's counts (of the same profile).
    pub fn merge(&mut self, other: &Counter) {
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.nulls += b.nulls;
            a.unseen += b.unseen;
            a.counts
                .iter_mut()
                .zip(&b.counts)
                .for_each(|(x, y)| *x += y);
        }
    }

    /// The drift of what was counted.
    pub fn finish(&self, profile: &Profile, thresholds: Thresholds) -> Drift {
        let columns: Vec<ColumnDrift> = profile
            .columns
            .iter()
            .zip(&self.columns)
            .map(|(c, counter)| counter.drift(c, profile.rows, self.rows, thresholds))
            .map(|mut c| {
                if self.rows < thresholds.min_rows {
                    c.level = Level::Stable;
                }
                c
            })
            .collect();
        let level = columns
            .iter()
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::Stable);
        Drift {
            rows: self.rows,
            thresholds,
            columns,
            level,
        }
    }
}

/// Bins a column is counted in.
fn bins(c: &ColumnProfile) -> usize {
    match (&c.numeric, &c.categorical) {
        (Some(n), _) => n.counts.len(),
        (None, Some(cat)) => cat.top.len() + 1,
        (None, None) => 0,
    }
}

impl ColumnCounter {
    fn add(&mut self, column: &ColumnProfile, array: &dyn Array) -> Result<(), Error> {
        self.nulls += array.null_count() as u64;
        let cast_error =
            |e: arrow::error::ArrowError| Error::Data(format!("column '{}': {e}", column.name));
        if let Some(n) = &column.numeric {
            if !is_numeric(array.data_type()) && array.data_type() != &DataType::Null {
                return Err(Error::Data(format!(
                    "column '{}' is {} where training had numbers",
                    column.name,
                    array.data_type()
                )));
            }
            let values = cast(array, &DataType::Float64).map_err(cast_error)?;
            for v in values.as_primitive::<Float64Type>().iter().flatten() {
                if v.is_nan() {
                    // Missing, as a null is: the model imputes both.
                    self.nulls += 1;
                    continue;
                }
                self.counts[bin(&n.edges, v)] += 1;
                self.unseen += u64::from(v < n.min || v > n.max);
            }
        } else if let Some(cat) = &column.categorical {
            let index: HashMap<&str, usize> = cat
                .top
                .iter()
                .enumerate()
                .map(|(i, (v, _))| (v.as_str(), i))
                .collect();
            let other = cat.top.len();
            let text = cast(array, &DataType::Utf8).map_err(cast_error)?;
            for v in text.as_string::<i32>().iter().flatten() {
                match index.get(v) {
                    Some(&i) => self.counts[i] += 1,
                    None => {
                        self.counts[other] += 1;
                        self.unseen += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn drift(
        &self,
        c: &ColumnProfile,
        trained: u64,
        rows: u64,
        thresholds: Thresholds,
    ) -> ColumnDrift {
        let (expected, labels, kind, all_known): (Vec<u64>, Vec<String>, &str, bool) =
            match (&c.numeric, &c.categorical) {
                (Some(n), _) => (n.counts.clone(), bin_labels(&n.edges), "numeric", true),
                (None, Some(cat)) => {
                    let mut counts: Vec<u64> = cat.top.iter().map(|t| t.1).collect();
                    counts.push(cat.other);
                    let mut labels: Vec<String> = cat.top.iter().map(|t| t.0.clone()).collect();
                    labels.push("(other)".into());
                    (counts, labels, "categorical", cat.other == 0)
                }
                (None, None) => (Vec::new(), Vec::new(), "empty", true),
            };
        let shares = |counts: &[u64]| -> Vec<f64> {
            let total = counts.iter().sum::<u64>() as f64;
            counts
                .iter()
                .map(|&n| if total > 0.0 { n as f64 / total } else { 0.0 })
                .collect()
        };
        let e = shares(&expected);
        let mut column = ColumnDrift {
            name: c.name.clone(),
            kind: kind.into(),
            psi: 0.0,
            null_rate: 0.0,
            null_psi: 0.0,
            // NaN in training was profiled as non-finite: missing too.
            training_null_rate: rate(c.nulls + c.non_finite, trained),
            unseen_rate: all_known.then_some(0.0),
            bins: labels
                .into_iter()
                .zip(e)
                .map(|(l, e)| (l, e, 0.0))
                .collect(),
            level: Level::Stable,
            counted: Counted {
                nulls: self.nulls,
                unseen: self.unseen,
                counts: self.counts.clone(),
            },
        };
        column.judge(rows, thresholds);
        column
    }
}

/// What each quantile bin holds, as [`crate::profile::bin`] assigns values:
/// `≤ e0`, then `(a, b]` between edges, then `> last`. Bins between equal
/// edges (a column with few distinct values, such as 0/1) cannot hold a
/// value and say so, instead of reading `0 – 0`.
fn bin_labels(edges: &[f64]) -> Vec<String> {
    let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
        return vec!["all values".into()];
    };
    let mut labels = vec![format!("≤ {first}")];
    for pair in edges.windows(2) {
        labels.push(if pair[0] < pair[1] {
            format!("({}, {}]", pair[0], pair[1])
        } else {
            format!("(none: {} = {})", pair[0], pair[1])
        });
    }
    labels.push(format!("> {last}"));
    labels
}

fn rate(n: u64, of: u64) -> f64 {
    if of > 0 { n as f64 / of as f64 } else { 0.0 }
}

impl ColumnDrift {
    /// Sets the rates, shares, PSI and level from `counted` (of `rows`
    /// scored rows) and the training shares in `bins`.
    fn judge(&mut self, rows: u64, thresholds: Thresholds) {
        let counts = &self.counted.counts;
        let scored = counts.iter().sum::<u64>();
        for (bin, &n) in self.bins.iter_mut().zip(counts) {
            bin.2 = rate(n, scored);
        }
        self.psi = if scored == 0 {
            0.0
        } else {
            self.bins
                .iter()
                .map(|&(_, e, a)| {
                    let (e, a) = (e.max(FLOOR), a.max(FLOOR));
                    (a - e) * (a / e).ln()
                })
                .sum()
        };
        self.null_rate = rate(self.counted.nulls, rows);
        self.null_psi = [
            (self.training_null_rate, self.null_rate),
            (1.0 - self.training_null_rate, 1.0 - self.null_rate),
        ]
        .iter()
        .map(|&(e, a)| {
            let (e, a) = (e.max(FLOOR), a.max(FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum();
        let worst = self.psi.max(self.null_psi);
        self.level = match thresholds.fail {
            Some(fail) if worst >= fail => Level::Fail,
            _ if worst >= thresholds.warn => Level::Warn,
            _ => Level::Stable,
        };
        if self.unseen_rate.is_some() {
            self.unseen_rate = Some(rate(self.counted.unseen, scored));
        }
    }
}

impl Drift {
    /// The drift of the rows of all `parts` (shards' drifts against the
    /// same profile), exactly as if they had been counted together;
    /// `None` when there are no parts or they do not match.
    pub fn combine(parts: &[Drift]) -> Option<Drift> {
        let (first, rest) = parts.split_first()?;
        let mut total = first.clone();
        for part in rest {
            if part.columns.len() != total.columns.len() {
                return None;
            }
            total.rows += part.rows;
            for (a, b) in total.columns.iter_mut().zip(&part.columns) {
                if a.name != b.name || a.counted.counts.len() != b.counted.counts.len() {
                    return None;
                }
                a.counted.nulls += b.counted.nulls;
                a.counted.unseen += b.counted.unseen;
                a.counted
                    .counts
                    .iter_mut()
                    .zip(&b.counted.counts)
                    .for_each(|(x, y)| *x += y);
            }
        }
        for column in &mut total.columns {
            column.judge(total.rows, total.thresholds);
            if total.rows < total.thresholds.min_rows {
                column.level = Level::Stable;
            }
        }
        total.level = total
            .columns
            .iter()
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::Stable);
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// Issue 29.4: a 0/1 column's bins read `≤ 0`, `(0, 1]`, not `0 – 0`.
    #[test]
    fn bin_labels_say_what_each_bin_holds() {
        assert_eq!(
            bin_labels(&[0.0, 0.0, 1.0]),
            vec!["≤ 0", "(none: 0 = 0)", "(0, 1]", "> 1"]
        );
        assert_eq!(bin_labels(&[]), vec!["all values"]);
        // Each label names the bin that `profile::bin` puts its values in.
        let edges = [0.0, 0.0, 1.0];
        let labels = bin_labels(&edges);
        assert_eq!(labels[crate::profile::bin(&edges, 0.0)], "≤ 0");
        assert_eq!(labels[crate::profile::bin(&edges, 1.0)], "(0, 1]");
        assert_eq!(labels[crate::profile::bin(&edges, 7.0)], "> 1");
    }

    fn batch(x: Vec<f64>, s: Vec<&str>) -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("x", DataType::Float64, true),
                Field::new("s", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Float64Array::from(x)),
                Arc::new(StringArray::from(s)),
            ],
        )
        .unwrap()
    }

    fn training() -> (RecordBatch, Profile) {
        let x: Vec<f64> = (0..1000).map(f64::from).collect();
        let s: Vec<&str> = (0..1000)
            .map(|i| if i % 4 == 0 { "b" } else { "a" })
            .collect();
        let batch = batch(x, s);
        let profile = Profile::of(&batch, &[]).unwrap();
        (batch, profile)
    }

    /// Regression (issue 27.10): a column gone 100% null (or NaN) scored
    /// PSI 0, "stable"; 0% → 10% null was stable too.
    #[test]
    fn a_change_in_missing_values_is_drift() {
        let (_, profile) = training();
        let thresholds = Thresholds {
            fail: Some(0.25),
            min_rows: 10,
            ..Thresholds::default()
        };
        let judge = |x: Vec<Option<f64>>| {
            let n = x.len();
            let scored = RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("x", DataType::Float64, true),
                    Field::new("s", DataType::Utf8, true),
                ])),
                vec![
                    Arc::new(Float64Array::from(x)),
                    Arc::new(StringArray::from(vec!["a"; n])),
                ],
            )
            .unwrap();
            let mut counter = Counter::new(&profile);
            counter.add(&profile, &scored).unwrap();
            counter.finish(&profile, thresholds)
        };
        let all_null = judge(vec![None; 400]);
        let x = &all_null.columns[0];
        assert_eq!((x.psi, x.null_rate, x.level), (0.0, 1.0, Level::Fail));
        assert!(
            all_null.at_least(Level::Fail)[0]
                .starts_with("x (missing 100.0% where training had 0.0%"),
            "{:?}",
            all_null.at_least(Level::Fail)
        );
        let nan = judge(vec![Some(f64::NAN); 400]);
        assert_eq!(nan.columns[0].null_rate, 1.0, "NaN is missing");
        assert_eq!(nan.columns[0].level, Level::Fail);
        let tenth: Vec<Option<f64>> = (0..1000)
            .map(|i| (i % 10 != 0).then_some(f64::from(i)))
            .collect();
        let x = &judge(tenth).columns[0];
        assert!((x.null_rate - 0.1).abs() < 1e-12);
        assert_eq!(x.level, Level::Fail, "null_psi {}", x.null_psi);
        let same: Vec<Option<f64>> = (0..1000).map(|i| Some(f64::from(i))).collect();
        assert_eq!(judge(same).columns[0].level, Level::Stable);
    }

    /// Shards' drifts combine to the drift of all their rows counted
    /// together, whatever the split of the rows (nulls, unseen values and
    /// categories included).
    #[test]
    fn drifts_of_shards_combine_to_the_whole() {
        let (_, profile) = training();
        let thresholds = Thresholds {
            fail: Some(0.25),
            min_rows: 10,
            ..Thresholds::default()
        };
        let x: Vec<f64> = (0..900).map(|i| f64::from(i * 2 % 1500) - 100.0).collect();
        let s: Vec<&str> = (0..900)
            .map(|i| ["a", "b", "zz"][(i * 7 % 11) % 3])
            .collect();
        let whole = batch(x.clone(), s.clone());
        let mut all = Counter::new(&profile);
        all.add(&profile, &whole).unwrap();
        let expected = all.finish(&profile, thresholds);
        for cut in [[0, 300, 900], [0, 1, 900], [0, 899, 900]] {
            let parts: Vec<Drift> = cut
                .windows(2)
                .map(|w| {
                    let mut c = Counter::new(&profile);
                    c.add(&profile, &whole.slice(w[0], w[1] - w[0])).unwrap();
                    c.finish(&profile, thresholds)
                })
                .collect();
            let combined = Drift::combine(&parts).unwrap();
            assert_eq!(combined.rows, expected.rows);
            assert_eq!(combined.level, expected.level);
            for (a, b) in combined.columns.iter().zip(&expected.columns) {
                assert_eq!(a.counted, b.counted);
                assert!((a.psi - b.psi).abs() < 1e-12, "{} {}", a.psi, b.psi);
                assert_eq!(a.unseen_rate, b.unseen_rate);
                assert_eq!(a.null_rate, b.null_rate);
            }
        }
        assert!(Drift::combine(&[]).is_none());
    }

    /// PSI by hand: training deciles of 0..999 hold 100 rows each; the
    /// scored rows put 50% in the top decile and 5.56% in each of the nine
    /// others: Σ (a − e) ln(a / e) = 9 · (0.0556 − 0.1) ln(0.556) + (0.5 −
    /// 0.1) ln 5.
    #[test]
    fn psi_matches_a_hand_computed_case() {
        let (_, profile) = training();
        let mut x: Vec<f64> = Vec::new();
        for decile in 0..9 {
            x.extend((0..50).map(|i| f64::from(decile * 100 + i)));
        }
        x.extend((0..450).map(|i| 900.0 + f64::from(i % 100)));
        let s = vec!["a"; 900];
        let mut counter = Counter::new(&profile);
        counter.add(&profile, &batch(x, s)).unwrap();
        let drift = counter.finish(
            &profile,
            Thresholds {
                fail: Some(0.25),
                ..Thresholds::default()
            },
        );
        let a = 50.0 / 900.0;
        let expected = 9.0 * (a - 0.1) * (a / 0.1f64).ln() + (0.5 - 0.1) * (0.5f64 / 0.1).ln();
        let x = &drift.columns[0];
        assert!((x.psi - expected).abs() < 1e-12, "{} vs {expected}", x.psi);
        assert_eq!(x.level, Level::Fail);
        assert_eq!(x.unseen_rate, Some(0.0));
        // s: 100% "a" against 75%: PSI (1 − .75) ln(1/.75) + (1e-4 − .25) ln(1e-4/.25).
        let s = &drift.columns[1];
        let expected = 0.25 * (1.0f64 / 0.75).ln() + (FLOOR - 0.25) * (FLOOR / 0.25).ln();
        assert!((s.psi - expected).abs() < 1e-12);
        assert_eq!(drift.level, Level::Fail);
        assert_eq!(drift.at_least(Level::Fail).len(), 2);
    }

    #[test]
    fn the_training_data_itself_does_not_drift_and_unseen_values_are_counted() {
        let (batch, profile) = training();
        let mut first = Counter::new(&profile);
        first.add(&profile, &batch.slice(0, 500)).unwrap();
        let mut second = Counter::new(&profile);
        second.add(&profile, &batch.slice(500, 500)).unwrap();
        first.merge(&second);
        let drift = first.finish(&profile, Thresholds::default());
        assert_eq!(drift.rows, 1000);
        assert!(drift.columns.iter().all(|c| c.psi < 1e-12), "{drift:?}");
        assert_eq!(drift.level, Level::Stable);

        let shifted = super::tests::batch(vec![2000.0, 5.0], vec!["c", "a"]);
        let mut counter = Counter::new(&profile);
        counter.add(&profile, &shifted).unwrap();
        let few = Thresholds {
            min_rows: 2,
            ..Thresholds::default()
        };
        let drift = counter.finish(&profile, few);
        assert_eq!(drift.columns[0].unseen_rate, Some(0.5));
        assert_eq!(drift.columns[1].unseen_rate, Some(0.5));
        assert_eq!(
            drift.level,
            Level::Warn,
            "no fail threshold: a warning at most"
        );
        let fail = Thresholds {
            fail: Some(0.25),
            ..Thresholds::default()
        };
        let judged = counter.finish(&profile, fail);
        assert_eq!(
            judged.level,
            Level::Stable,
            "2 rows: below min_rows, not judged"
        );
        assert!(judged.columns[0].psi > 0.25);
    }
}
