//! Column profiles: what a split's columns look like (type, nulls,
//! distinct values, range, mean, quantile bins and a histogram, or the most
//! frequent categories). The trainer records the training split's profile
//! in the card; inference measures drift against it ([`crate::drift`]).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::curves::{HISTOGRAM_BINS, Histogram};

/// Quantile bins of a numeric column (deciles), the bins PSI compares.
pub const QUANTILE_BINS: usize = 10;
/// Categories a profile keeps counts of, the most frequent first.
pub const MAX_CATEGORIES: usize = 1000;
/// Distinct values counted exactly up to this many.
pub const MAX_DISTINCT: usize = 100_000;

/// The profile of some columns of a split.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Rows profiled.
    pub rows: u64,
    /// One per column, in the split's order.
    pub columns: Vec<ColumnProfile>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Arrow type, as written (`Float64`, `Utf8`, …).
    pub data_type: String,
    /// Null cells.
    pub nulls: u64,
    /// Distinct non-null values (at most [`MAX_DISTINCT`]; `distinct_capped`
    /// when there were more).
    pub distinct: u64,
    /// Whether `distinct` stopped counting.
    pub distinct_capped: bool,
    /// NaN and infinite values (left out of the numeric statistics).
    #[serde(default)]
    pub non_finite: u64,
    /// Numbers (integers, floats): range, moments, bins of the finite values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericProfile>,
    /// Anything else, as text: category counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<CategoricalProfile>,
}

/// A numeric column's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Inner edges of the quantile bins (at most `QUANTILE_BINS - 1`,
    /// distinct and increasing; a value equal to an edge goes below it).
    pub edges: Vec<f64>,
    /// Rows in each quantile bin (`edges.len() + 1` of them).
    pub counts: Vec<u64>,
    /// Equal-width histogram over [min, max].
    pub histogram: Histogram,
}

/// A categorical column's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    /// The [`MAX_CATEGORIES`] most frequent values with their counts, most
    /// frequent first (ties by value).
    pub top: Vec<(String, u64)>,
    /// Rows of every other value.
    pub other: u64,
}

impl Profile {
    /// Profiles `columns` of `batch` (all when empty).
    pub fn of(batch: &RecordBatch, columns: &[String]) -> Result<Self, Error> {
        let mut builder = ProfileBuilder::new(&batch.schema(), columns)?;
        builder.add(batch)?;
        Ok(builder.finish())
    }

    /// The profile of the column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Whether a type is profiled as numbers.
pub fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_integer()
        || data_type.is_floating()
        || matches!(data_type, DataType::Decimal128(..))
}

/// Numbers kept per column to place the quantile bins and the histogram:
/// up to this many rows the profile is exact, beyond it they come from a
/// seeded uniform sample (a reservoir) of this size.
pub const SAMPLE: usize = 100_000;
/// Distinct text values counted exactly; a column with more counts the
/// rest of its values as "other".
const MAX_TRACKED: usize = 100_000;

/// A profile built batch by batch (a split written in batches).
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    rows: u64,
    columns: Vec<(usize, ColumnBuilder)>,
}

#[derive(Debug, Clone)]
struct ColumnBuilder {
    name: String,
    data_type: DataType,
    nulls: u64,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Numeric(Numbers),
    Text(Texts),
}

#[derive(Debug, Clone, Default)]
struct Numbers {
    /// NaN and infinities: counted, left out of the statistics.
    non_finite: u64,
    seen: u64,
    min: f64,
    max: f64,
    mean: f64,
    /// Sum of squared deviations (Welford).
    m2: f64,
    distinct: hashbrown::HashSet<u64>,
    sample: Vec<f64>,
    state: u64,
}

#[derive(Debug, Clone, Default)]
struct Texts {
    counts: hashbrown::HashMap<String, u64>,
    untracked: u64,
}

impl ProfileBuilder {
    /// For `columns` of `schema` (all when empty).
    pub fn new(schema: &arrow::datatypes::Schema, columns: &[String]) -> Result<Self, Error> {
        let picked: Vec<usize> = if columns.is_empty() {
            (0..schema.fields().len()).collect()
        } else {
            columns
                .iter()
                .map(|name| {
                    schema
                        .index_of(name)
                        .map_err(|_| Error::Data(format!("no column '{name}' to profile")))
                })
                .collect::<Result<_, _>>()?
        };
        let columns = picked
            .into_iter()
            .map(|i| {
                let field = schema.field(i);
                let kind = if is_numeric(field.data_type()) {
                    Kind::Numeric(Numbers {
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                        state: 0x9E37_79B9_7F4A_7C15 ^ i as u64,
                        ..Numbers::default()
                    })
                } else {
                    Kind::Text(Texts::default())
                };
                let column = ColumnBuilder {
                    name: field.name().clone(),
                    data_type: field.data_type().clone(),
                    nulls: 0,
                    kind,
                };
                (i, column)
            })
            .collect();
        Ok(Self { rows: 0, columns })
    }

    /// Adds a batch of the schema given to [`new`](Self::new).
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows() as u64;
        for (i, column) in &mut self.columns {
            let array = batch
                .columns()
                .get(*i)
                .ok_or_else(|| Error::Data(format!("no column '{}' to profile", column.name)))?;
            column.add(array.as_ref())?;
        }
        Ok(())
    }

    /// The profile of everything added.
    pub fn finish(self) -> Profile {
        Profile {
            rows: self.rows,
            columns: self.columns.into_iter().map(|(_, c)| c.finish()).collect(),
        }
    }
}

impl ColumnBuilder {
    fn add(&mut self, array: &dyn Array) -> Result<(), Error> {
        self.nulls += array.null_count() as u64;
        let name = &self.name;
        let cast_error = |e: arrow::error::ArrowError| Error::Data(format!("column '{name}': {e}"));
        match &mut self.kind {
            Kind::Numeric(n) => {
                let values = cast(array, &DataType::Float64).map_err(cast_error)?;
                let values = values.as_primitive::<Float64Type>();
                // Without nulls or NaN the values are taken where they are.
                if values.null_count() == 0 && values.values().iter().all(|v| v.is_finite()) {
                    n.add_all(values.values());
                    return Ok(());
                }
                let finite: Vec<f64> = values.iter().flatten().filter(|v| v.is_finite()).collect();
                n.non_finite += (array.len() - array.null_count() - finite.len()) as u64;
                n.add_all(&finite);
            }
            Kind::Text(t) => {
                let text = cast(array, &DataType::Utf8).map_err(cast_error)?;
                for v in text.as_string::<i32>().iter().flatten() {
                    if let Some(count) = t.counts.get_mut(v) {
                        *count += 1;
                    } else if t.counts.len() < MAX_TRACKED {
                        t.counts.insert(v.to_string(), 1);
                    } else {
                        t.untracked += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> ColumnProfile {
        let data_type = self.data_type.to_string();
        match self.kind {
            Kind::Numeric(n) => {
                let distinct = n.distinct.len();
                let capped = distinct > MAX_DISTINCT;
                let non_finite = n.non_finite;
                let numeric = n.finish();
                ColumnProfile {
                    name: self.name,
                    data_type,
                    nulls: self.nulls,
                    non_finite,
                    distinct: distinct.min(MAX_DISTINCT) as u64,
                    distinct_capped: capped,
                    numeric,
                    categorical: None,
                }
            }
            Kind::Text(t) => {
                let distinct = t.counts.len();
                let mut ranked: Vec<(String, u64)> = t.counts.into_iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let other =
                    ranked.iter().skip(MAX_CATEGORIES).map(|c| c.1).sum::<u64>() + t.untracked;
                ranked.truncate(MAX_CATEGORIES);
                ColumnProfile {
                    name: self.name,
                    data_type,
                    nulls: self.nulls,
                    non_finite: 0,
                    distinct: distinct.min(MAX_DISTINCT) as u64,
                    distinct_capped: distinct > MAX_DISTINCT || t.untracked > 0,
                    numeric: None,
                    categorical: Some(CategoricalProfile { top: ranked, other }),
                }
            }
        }
    }
}

impl Numbers {
    /// Adds a batch of finite values: its moments merged with the running
    /// ones (Chan et al.'s parallel formula), so no division per value.
    fn add_all(&mut self, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        let n = values.len() as f64;
        let (low, high) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        self.min = self.min.min(low);
        self.max = self.max.max(high);
        let mean = values.iter().sum::<f64>() / n;
        let m2: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        let before = self.seen as f64;
        let total = before + n;
        let delta = mean - self.mean;
        self.mean += delta * n / total;
        self.m2 += m2 + delta * delta * before * n / total;
        if self.distinct.len() <= MAX_DISTINCT {
            // Room for the batch at once: fewer rehashes as the set grows.
            let room = (MAX_DISTINCT + 1 - self.distinct.len()).min(values.len());
            self.distinct.reserve(room);
        }
        for &v in values {
            self.seen += 1;
            if self.distinct.len() <= MAX_DISTINCT {
                self.distinct.insert(v.to_bits());
            }
            if self.sample.len() < SAMPLE {
                self.sample.push(v);
            } else {
                // Reservoir sampling (Algorithm R) on a SplitMix stream; the
                // slot is drawn by multiply-shift, not a division.
                self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                let at = ((u128::from(z ^ (z >> 31)) * u128::from(self.seen)) >> 64) as usize;
                if at < SAMPLE {
                    self.sample[at] = v;
                }
            }
        }
    }

    fn finish(mut self) -> Option<NumericProfile> {
        if self.seen == 0 {
            return None;
        }
        let max = self.max;
        // Deciles by the nearest rank below; equal ones merge, so a column
        // of a few values gets a bin per value. Each rank is selected in
        // what lies above the one before (no full sort: the bins and the
        // histogram do not need the values in order).
        let sample = &mut self.sample;
        let len = sample.len();
        let mut below = 0;
        let mut last = f64::NAN;
        let mut edges = Vec::with_capacity(QUANTILE_BINS);
        for q in 1..QUANTILE_BINS {
            let rank = (q * len / QUANTILE_BINS).saturating_sub(1);
            if rank >= below {
                let (_, value, _) =
                    sample[below..].select_nth_unstable_by(rank - below, f64::total_cmp);
                last = *value;
                below = rank + 1;
            }
            if last < max {
                edges.push(last);
            }
        }
        let values = &self.sample;
        edges.dedup();
        let mut counts = vec![0u64; edges.len() + 1];
        for v in values {
            counts[bin(&edges, *v)] += 1;
        }
        // Sampled: the bins' shares, scaled to every value seen.
        let scale = self.seen as f64 / values.len() as f64;
        if scale > 1.0 {
            counts
                .iter_mut()
                .for_each(|c| *c = (*c as f64 * scale).round() as u64);
        }
        let mut histogram = Histogram::new(values.iter().copied(), self.min, max, HISTOGRAM_BINS);
        if scale > 1.0 {
            histogram
                .counts
                .iter_mut()
                .for_each(|c| *c = (*c as f64 * scale).round() as u64);
        }
        Some(NumericProfile {
            min: self.min,
            max,
            mean: self.mean,
            std: (self.m2 / self.seen as f64).sqrt(),
            edges,
            counts,
            histogram,
        })
    }
}

impl Profile {
    /// This profile's columns named in `columns`, in that order, when it
    /// has them all and profiled exactly `rows` rows: what the trainer
    /// records in the card instead of profiling etl's training split again
    /// (with rows dropped for a null target, or a column etl did not
    /// profile, it is `None` and the trainer profiles what it trained on).
    pub fn of_columns(&self, columns: &[String], rows: u64) -> Option<Profile> {
        if self.rows != rows {
            return None;
        }
        let picked = columns
            .iter()
            .map(|name| self.columns.iter().find(|c| &c.name == name).cloned())
            .collect::<Option<Vec<_>>>()?;
        Some(Profile {
            rows,
            columns: picked,
        })
    }
}

/// The quantile bin of `value`: how many edges are below it.
pub fn bin(edges: &[f64], value: f64) -> usize {
    edges.partition_point(|&e| e < value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// The trainer takes etl's profile only when it covers exactly the rows
    /// and the columns it trained on.
    #[test]
    fn of_columns_picks_in_order_or_declines() {
        let column = |name: &str| ColumnProfile {
            name: name.into(),
            data_type: "Float64".into(),
            nulls: 0,
            distinct: 0,
            distinct_capped: false,
            non_finite: 0,
            numeric: None,
            categorical: None,
        };
        let profile = Profile {
            rows: 10,
            columns: vec![column("a"), column("b"), column("c")],
        };
        let picked = profile.of_columns(&["c".into(), "a".into()], 10).unwrap();
        let names: Vec<&str> = picked.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!((picked.rows, names), (10, vec!["c", "a"]));
        assert!(profile.of_columns(&["a".into()], 9).is_none(), "other rows");
        assert!(
            profile.of_columns(&["z".into()], 10).is_none(),
            "a column not profiled"
        );
    }

    fn batch() -> RecordBatch {
        let x: Vec<Option<f64>> = (0..1000)
            .map(|i| {
                if i % 100 == 0 {
                    None
                } else {
                    Some(f64::from(i))
                }
            })
            .collect();
        let k: Vec<Option<i64>> = (0..1000).map(|i| Some(i % 3)).collect();
        let s: Vec<Option<&str>> = (0..1000)
            .map(|i| match i % 10 {
                0 => None,
                1..=6 => Some("a"),
                _ => Some("b"),
            })
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("x", DataType::Float64, true),
                Field::new("k", DataType::Int64, true),
                Field::new("s", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Float64Array::from(x)),
                Arc::new(Int64Array::from(k)),
                Arc::new(StringArray::from(s)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn profiles_numbers_and_categories() {
        let profile = Profile::of(&batch(), &[]).unwrap();
        assert_eq!(profile.rows, 1000);
        let x = profile.column("x").unwrap();
        assert_eq!((x.nulls, x.distinct, x.distinct_capped), (10, 990, false));
        let n = x.numeric.as_ref().unwrap();
        assert_eq!((n.min, n.max), (1.0, 999.0));
        assert_eq!(n.edges.len(), 9);
        assert_eq!(n.counts.iter().sum::<u64>(), 990);
        assert!(
            n.counts.iter().all(|&c| (98..=100).contains(&c)),
            "{:?}",
            n.counts
        );
        // Three values: a bin each.
        let k = profile.column("k").unwrap().numeric.clone().unwrap();
        assert_eq!(
            (k.edges.clone(), k.counts.clone()),
            (vec![0.0, 1.0], vec![334, 333, 333])
        );
        let s = profile.column("s").unwrap();
        assert_eq!(s.nulls, 100);
        let c = s.categorical.as_ref().unwrap();
        assert_eq!(c.top, vec![("a".to_string(), 600), ("b".to_string(), 300)]);
        assert!(Profile::of(&batch(), &["nope".into()]).is_err());
    }

    /// Batch by batch gives the whole batch's profile; past the sample's
    /// size the deciles come from the sample and stay close.
    #[test]
    fn streamed_profiles_match_and_large_ones_are_sampled() {
        let whole = batch();
        let mut builder = ProfileBuilder::new(&whole.schema(), &[]).unwrap();
        builder.add(&whole.slice(0, 300)).unwrap();
        builder.add(&whole.slice(300, 700)).unwrap();
        let streamed = builder.finish();
        let once = Profile::of(&whole, &[]).unwrap();
        assert_eq!(streamed.rows, once.rows);
        for (a, b) in streamed.columns.iter().zip(&once.columns) {
            assert_eq!((a.nulls, a.distinct), (b.nulls, b.distinct));
            assert_eq!(a.categorical, b.categorical);
            let (Some(x), Some(y)) = (&a.numeric, &b.numeric) else {
                continue;
            };
            assert_eq!(
                (&x.edges, &x.counts, x.min, x.max),
                (&y.edges, &y.counts, y.min, y.max)
            );
            assert!((x.mean - y.mean).abs() < 1e-9 && (x.std - y.std).abs() < 1e-9);
        }
        let n = 3 * SAMPLE;
        let big = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("u", DataType::Float64, false)])),
            vec![Arc::new(Float64Array::from(
                (0..n)
                    .map(|i| ((i * 7919) % n) as f64 / n as f64)
                    .collect::<Vec<_>>(),
            ))],
        )
        .unwrap();
        let u = Profile::of(&big, &[]).unwrap().columns[0]
            .numeric
            .clone()
            .unwrap();
        assert_eq!(u.edges.len(), 9);
        for (q, edge) in u.edges.iter().enumerate() {
            assert!((edge - (q + 1) as f64 / 10.0).abs() < 0.01, "{:?}", u.edges);
        }
        assert_eq!(u.histogram.counts.len(), HISTOGRAM_BINS);
        let total: u64 = u.counts.iter().sum();
        assert!(total.abs_diff(n as u64) <= 10, "{total}");
    }

    /// The reservoir is uniform over positions: values equal to their
    /// position, streamed in batches, give deciles at tenths of the range
    /// (a sample biased to early or late values would not), and the same
    /// stream gives the same profile.
    #[test]
    fn the_reservoir_samples_every_position_alike() {
        let n = 2_000_000usize;
        let schema = Arc::new(Schema::new(vec![Field::new("p", DataType::Float64, false)]));
        let profile = || {
            let mut builder = ProfileBuilder::new(&schema, &[]).unwrap();
            let mut at = 0;
            while at < n {
                let len = 65_537.min(n - at);
                let values = Float64Array::from_iter_values((at..at + len).map(|i| i as f64));
                let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(values)]);
                builder.add(&batch.unwrap()).unwrap();
                at += len;
            }
            builder.finish().columns[0].numeric.clone().unwrap()
        };
        let p = profile();
        assert_eq!(p.edges.len(), 9);
        for (q, edge) in p.edges.iter().enumerate() {
            let expected = (q + 1) as f64 / 10.0 * n as f64;
            assert!((edge - expected).abs() < 0.01 * n as f64, "{:?}", p.edges);
        }
        assert_eq!(p.edges, profile().edges);
    }

    /// Deciles by selection equal those of the sorted values, with ties
    /// and fewer values than bins.
    #[test]
    fn deciles_by_selection_are_the_sorted_ones() {
        for values in [
            vec![3.0, 1.0, 2.0],
            vec![5.0; 7],
            vec![
                1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 9.0, 9.0, 4.0, 0.5, 7.0, 7.0, 7.0,
            ],
            (0..1000)
                .map(|i| ((i * 7919) % 1000) as f64 / 7.0)
                .collect(),
        ] {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let max = sorted[sorted.len() - 1];
            let mut expected: Vec<f64> = (1..QUANTILE_BINS)
                .map(|q| sorted[(q * sorted.len() / QUANTILE_BINS).saturating_sub(1)])
                .filter(|e| *e < max)
                .collect();
            expected.dedup();
            let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Float64, false)]));
            let batch = RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(values))]);
            let profile = Profile::of(&batch.unwrap(), &[]).unwrap();
            let numeric = profile.columns[0].numeric.clone().unwrap();
            assert_eq!(numeric.edges, expected);
        }
    }
}
