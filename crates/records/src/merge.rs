//! One profile from the profiles shards made of their parts of a split
//! ([`Profile::merge`]), for the manifest a merge publishes.
//!
//! Exact: rows, nulls, non-finite counts, min, max, mean and standard
//! deviation (Chan et al.'s parallel formula), and category counts for
//! values every shard kept in its top list. Estimated: quantile edges and
//! their counts, and the histogram, from each shard's bins taken as
//! uniform within a bin (a bin of one value as a point); `distinct` is the
//! largest shard's count, a lower bound. The profiles feed the ETL's
//! data-quality report; drift is measured against the trainer's own
//! profile, which is exact.

use std::collections::HashMap;

use crate::curves::{HISTOGRAM_BINS, Histogram};
use crate::profile::{
    CategoricalProfile, ColumnProfile, MAX_CATEGORIES, NumericProfile, Profile, QUANTILE_BINS,
};

/// One shard's numeric column: its bins as (low, high, count).
struct Pieces {
    bins: Vec<(f64, f64, f64)>,
}

impl Pieces {
    fn of(n: &NumericProfile) -> Self {
        let mut bins = Vec::with_capacity(n.counts.len());
        let mut low = n.min;
        for (i, &count) in n.counts.iter().enumerate() {
            let high = n.edges.get(i).copied().unwrap_or(n.max).max(low);
            bins.push((low, high, count as f64));
            low = high;
        }
        Self { bins }
    }

    /// Values at or below `x`, taking each bin as uniform (a point bin as
    /// a point at its value).
    fn below(&self, x: f64) -> f64 {
        self.bins
            .iter()
            .map(|&(low, high, count)| {
                if x >= high {
                    count
                } else if x < low || high <= low {
                    0.0
                } else {
                    count * (x - low) / (high - low)
                }
            })
            .sum()
    }
}

impl Profile {
    /// The profile of the union of the rows `parts` profiled (same
    /// columns, in the same order); `None` when they are not of the same
    /// columns. See the module docs for what is exact.
    pub fn merge(parts: &[Profile]) -> Option<Profile> {
        let (first, _) = parts.split_first()?;
        if parts.iter().any(|p| {
            p.columns.len() != first.columns.len()
                || p.columns
                    .iter()
                    .zip(&first.columns)
                    .any(|(a, b)| a.name != b.name)
        }) {
            return None;
        }
        let columns = (0..first.columns.len())
            .map(|i| {
                let column: Vec<&ColumnProfile> = parts.iter().map(|p| &p.columns[i]).collect();
                merge_column(&column, parts)
            })
            .collect();
        Some(Profile {
            rows: parts.iter().map(|p| p.rows).sum(),
            columns,
        })
    }
}

fn merge_column(columns: &[&ColumnProfile], parts: &[Profile]) -> ColumnProfile {
    let first = columns[0];
    let numeric: Vec<(f64, &NumericProfile)> = columns
        .iter()
        .zip(parts)
        .filter_map(|(c, p)| {
            let n = c.numeric.as_ref()?;
            Some(((p.rows - c.nulls - c.non_finite) as f64, n))
        })
        .collect();
    let categorical: Vec<&CategoricalProfile> = columns
        .iter()
        .filter_map(|c| c.categorical.as_ref())
        .collect();
    ColumnProfile {
        name: first.name.clone(),
        data_type: first.data_type.clone(),
        nulls: columns.iter().map(|c| c.nulls).sum(),
        distinct: columns.iter().map(|c| c.distinct).max().unwrap_or(0),
        distinct_capped: columns.iter().any(|c| c.distinct_capped),
        non_finite: columns.iter().map(|c| c.non_finite).sum(),
        numeric: merge_numeric(&numeric),
        categorical: (!categorical.is_empty()).then(|| merge_categorical(&categorical)),
    }
}

fn merge_numeric(parts: &[(f64, &NumericProfile)]) -> Option<NumericProfile> {
    let parts: Vec<&(f64, &NumericProfile)> = parts.iter().filter(|(n, _)| *n > 0.0).collect();
    if parts.is_empty() {
        return None;
    }
    let (mut seen, mut mean, mut m2) = (0.0, 0.0, 0.0);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &&(n, p) in &parts {
        min = min.min(p.min);
        max = max.max(p.max);
        let total = seen + n;
        let delta = p.mean - mean;
        mean += delta * n / total;
        m2 += p.std * p.std * n + delta * delta * seen * n / total;
        seen = total;
    }
    let pieces: Vec<Pieces> = parts.iter().map(|(_, p)| Pieces::of(p)).collect();
    let below = |x: f64| pieces.iter().map(|p| p.below(x)).sum::<f64>();
    // Deciles of the merged distribution, by bisection on its CDF.
    let mut edges: Vec<f64> = (1..QUANTILE_BINS)
        .map(|q| {
            let target = seen * q as f64 / QUANTILE_BINS as f64;
            let (mut low, mut high) = (min, max);
            for _ in 0..100 {
                let mid = 0.5 * (low + high);
                if below(mid) >= target {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            high
        })
        .filter(|e| *e < max)
        .collect();
    edges.dedup();
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut done = 0.0;
    for &e in edges.iter().chain(std::iter::once(&max)) {
        let upto = below(e);
        counts.push((upto - done).max(0.0).round() as u64);
        done = upto;
    }
    let mut histogram = Histogram::new(std::iter::empty(), min, max, HISTOGRAM_BINS);
    let mut done = 0.0;
    let bins = histogram.counts.len();
    for (i, count) in histogram.counts.iter_mut().enumerate() {
        let upto = if i + 1 == bins {
            seen
        } else {
            below(histogram.edges[i + 1])
        };
        *count = (upto - done).max(0.0).round() as u64;
        done = upto;
    }
    Some(NumericProfile {
        min,
        max,
        mean,
        std: (m2 / seen).sqrt(),
        edges,
        counts,
        histogram,
    })
}

fn merge_categorical(parts: &[&CategoricalProfile]) -> CategoricalProfile {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    let mut other = 0;
    for part in parts {
        for (value, count) in &part.top {
            *counts.entry(value).or_default() += count;
        }
        other += part.other;
    }
    let mut ranked: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(v, n)| (v.to_string(), n))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    other += ranked.iter().skip(MAX_CATEGORIES).map(|c| c.1).sum::<u64>();
    ranked.truncate(MAX_CATEGORIES);
    CategoricalProfile { top: ranked, other }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(n: usize) -> RecordBatch {
        let x: Vec<Option<f64>> = (0..n)
            .map(|i| (i % 10 != 3).then(|| ((i * 37) % 1000) as f64 / 10.0))
            .collect();
        let s: Vec<Option<&str>> = (0..n)
            .map(|i| (i % 13 != 0).then_some(["a", "b", "c", "d"][(i * 7) % 4]))
            .collect();
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

    #[test]
    fn merged_profiles_match_the_whole_where_exact_and_closely_elsewhere() {
        let whole = batch(20_000);
        let expected = Profile::of(&whole, &[]).unwrap();
        let parts: Vec<Profile> = [(0, 3_000), (3_000, 9_000), (12_000, 8_000)]
            .iter()
            .map(|&(at, n)| Profile::of(&whole.slice(at, n), &[]).unwrap())
            .collect();
        let merged = Profile::merge(&parts).unwrap();
        assert_eq!(merged.rows, expected.rows);
        let (x, ex) = (&merged.columns[0], &expected.columns[0]);
        assert_eq!((x.nulls, x.non_finite), (ex.nulls, ex.non_finite));
        let (n, en) = (x.numeric.as_ref().unwrap(), ex.numeric.as_ref().unwrap());
        assert_eq!((n.min, n.max), (en.min, en.max));
        assert!((n.mean - en.mean).abs() < 1e-9 && (n.std - en.std).abs() < 1e-9);
        assert_eq!(n.edges.len(), en.edges.len());
        for (a, b) in n.edges.iter().zip(&en.edges) {
            assert!((a - b).abs() <= 1.0, "{:?} vs {:?}", n.edges, en.edges);
        }
        let finite = (expected.rows - ex.nulls) as i64;
        assert!((n.counts.iter().sum::<u64>() as i64 - finite).abs() <= 10);
        assert!((n.histogram.counts.iter().sum::<u64>() as i64 - finite).abs() <= 20);
        assert_eq!(
            merged.columns[1].categorical,
            expected.columns[1].categorical
        );
        assert_eq!(merged.columns[1].nulls, expected.columns[1].nulls);
        assert!(Profile::merge(&[]).is_none());
        let mut other = parts[0].clone();
        other.columns[0].name = "y".into();
        assert!(Profile::merge(&[parts[0].clone(), other]).is_none());
    }
}
