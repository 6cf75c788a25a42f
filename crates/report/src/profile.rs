//! Column profiles: what a split's columns look like (type, nulls,
//! distinct values, range, mean, quantile bins and a histogram, or the most
//! frequent categories). The trainer records the training split's profile
//! in the card; inference measures drift against it ([`crate::drift`]).

use std::collections::{BTreeMap, HashSet};

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
    /// Numbers (integers, floats): range, moments, bins.
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
        let schema = batch.schema();
        let picked: Vec<usize> = if columns.is_empty() {
            (0..batch.num_columns()).collect()
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
            .map(|i| column(schema.field(i).name(), batch.column(i).as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rows: batch.num_rows() as u64,
            columns,
        })
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

fn column(name: &str, array: &dyn Array) -> Result<ColumnProfile, Error> {
    let data_type = array.data_type();
    let nulls = array.null_count() as u64;
    let cast_error = |e: arrow::error::ArrowError| Error::Data(format!("column '{name}': {e}"));
    if is_numeric(data_type) {
        let values = cast(array, &DataType::Float64).map_err(cast_error)?;
        let mut values: Vec<f64> = values
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .filter(|v| !v.is_nan())
            .collect();
        values.sort_by(f64::total_cmp);
        let distinct = distinct_sorted(&values);
        Ok(ColumnProfile {
            name: name.to_string(),
            data_type: data_type.to_string(),
            nulls,
            distinct: distinct.min(MAX_DISTINCT) as u64,
            distinct_capped: distinct > MAX_DISTINCT,
            numeric: numeric(&values),
            categorical: None,
        })
    } else {
        let text = cast(array, &DataType::Utf8).map_err(cast_error)?;
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for value in text.as_string::<i32>().iter().flatten() {
            *counts.entry(value).or_default() += 1;
        }
        let distinct = counts.len();
        let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let other = ranked.iter().skip(MAX_CATEGORIES).map(|c| c.1).sum();
        ranked.truncate(MAX_CATEGORIES);
        Ok(ColumnProfile {
            name: name.to_string(),
            data_type: data_type.to_string(),
            nulls,
            distinct: distinct.min(MAX_DISTINCT) as u64,
            distinct_capped: distinct > MAX_DISTINCT,
            numeric: None,
            categorical: Some(CategoricalProfile {
                top: ranked
                    .into_iter()
                    .map(|(v, c)| (v.to_string(), c))
                    .collect(),
                other,
            }),
        })
    }
}

fn distinct_sorted(values: &[f64]) -> usize {
    let mut seen = HashSet::new();
    for v in values {
        seen.insert(v.to_bits());
        if seen.len() > MAX_DISTINCT {
            break;
        }
    }
    seen.len()
}

/// Range, moments, decile bins and histogram of sorted, NaN-free values.
fn numeric(sorted: &[f64]) -> Option<NumericProfile> {
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let std = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    // Deciles by the nearest rank below; equal ones merge, so a column of a
    // few values gets a bin per value.
    let mut edges: Vec<f64> = (1..QUANTILE_BINS)
        .map(|q| sorted[(q * sorted.len() / QUANTILE_BINS).saturating_sub(1)])
        .filter(|e| *e < max)
        .collect();
    edges.dedup();
    let mut counts = vec![0u64; edges.len() + 1];
    for v in sorted {
        counts[bin(&edges, *v)] += 1;
    }
    Some(NumericProfile {
        min,
        max,
        mean,
        std,
        edges,
        counts,
        histogram: Histogram::new(sorted.iter().copied(), min, max, HISTOGRAM_BINS),
    })
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
}
