//! The features of a training matrix cut into bins once, as LightGBM and
//! HistGradientBoosting do: at most [`VALUE_BINS`] bins of values per
//! feature (edges placed by the shared rule in
//! [`hist_tree`](crate::estimator::hist_tree), from the rows trees are grown
//! on only), and bin [`MISSING`] for NaN, so that every split can learn
//! where missing values go.
//!
//! Histograms are counted over *groups* of features, row by row. Features
//! that are almost always at one bin (one-hot columns) and are never off it
//! in the same row share a group, as in LightGBM's exclusive feature
//! bundling: one update per row counts all of them, and a member's own
//! histogram is read back from the group's (its default bin is the node's
//! total minus its other bins). Bundles are exact: a row where two members
//! are both off their default bin keeps them apart. The one-hot columns of
//! a categorical feature always bundle, so a 20-level category costs one
//! update per row instead of twenty.

use rayon::prelude::*;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::estimator::hist_tree::bin_edges;
use crate::estimator::rows as rows_of;

/// Bins of values per feature at most; one more holds missing values.
pub(super) const VALUE_BINS: usize = 255;
/// The bin of NaN.
pub(super) const MISSING: u8 = 255;

/// Binned features.
#[derive(Debug)]
pub(super) struct Binned {
    /// `columns[f][r]`: bin of row `r` in feature `f`.
    pub columns: Vec<Vec<u8>>,
    /// `edges[f][b]`: upper edge of value bin `b` (value ≤ edge ⇒ bin ≤ b).
    pub edges: Vec<Vec<f64>>,
    /// Where each feature is counted.
    pub places: Vec<Place>,
    /// Number of groups.
    groups: usize,
    /// The groups' bins row by row (`rows[r * groups + g]`), what
    /// histograms are counted from.
    rows: Vec<u8>,
}

/// Where a feature's bins are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Alone in group `.0`, its bins as they are.
    Alone(usize),
    /// In a bundle: its bin `b ≠ default` is slot `offset + b − (b > default)`
    /// of `group`; slot 0 is "every member at its default".
    Bundled {
        /// The group.
        group: usize,
        /// Its first slot.
        offset: usize,
        /// Its most frequent bin, which is not counted.
        default: u8,
    },
}

#[cfg(test)]
impl Place {
    /// The group it is counted in.
    fn group(self) -> usize {
        match self {
            Place::Alone(group) | Place::Bundled { group, .. } => group,
        }
    }
}

impl Binned {
    /// Bins every row of `x`, with edges placed on the rows `fit_rows`
    /// (columns in parallel).
    pub fn new(x: &DenseMatrix<f64>, fit_rows: &[u32]) -> Self {
        let width = x.shape().1;
        let all: Vec<&[f64]> = rows_of(x).collect();
        let (columns, edges) = (0..width)
            .into_par_iter()
            .map(|f| {
                let fit: Vec<f64> = fit_rows.iter().map(|&r| all[r as usize][f]).collect();
                let edges = bin_edges(&fit, VALUE_BINS);
                let column = all.iter().map(|row| bin(&edges, row[f])).collect();
                (column, edges)
            })
            .unzip();
        let (columns, edges): (Vec<Vec<u8>>, Vec<Vec<f64>>) = (columns, edges);
        let (places, groups) = bundle(&columns, &edges);
        let mut rows = vec![0u8; all.len() * groups];
        if groups > 0 {
            rows.par_chunks_mut(groups * 4096)
                .enumerate()
                .for_each(|(chunk, out)| {
                    for (i, row) in out.chunks_exact_mut(groups).enumerate() {
                        let r = chunk * 4096 + i;
                        for (column, place) in columns.iter().zip(&places) {
                            let b = column[r];
                            match *place {
                                Place::Alone(g) => row[g] = b,
                                Place::Bundled {
                                    group,
                                    offset,
                                    default,
                                } if b != default => {
                                    row[group] = (offset + b as usize - usize::from(b > default)) as u8;
                                }
                                Place::Bundled { .. } => {}
                            }
                        }
                    }
                });
        }
        Self {
            columns,
            edges,
            places,
            groups,
            rows,
        }
    }

    /// The group bins of row `r`.
    #[inline]
    pub fn row(&self, r: usize) -> &[u8] {
        &self.rows[r * self.groups..(r + 1) * self.groups]
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Number of features.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Value bins of feature `f` (its missing bin not counted).
    pub fn value_bins(&self, f: usize) -> usize {
        self.edges[f].len() + 1
    }
}

/// The bin of `value` under `edges`: the number of edges below it, or
/// [`MISSING`] for NaN.
pub(super) fn bin(edges: &[f64], value: f64) -> u8 {
    if value.is_nan() {
        MISSING
    } else {
        edges.partition_point(|&e| e < value) as u8
    }
}

/// Assigns every feature a group: features with no missing values whose
/// rows are mostly at one bin are bundled greedily (most rows off the
/// default first) into the first bundle with room and no row in common;
/// a bundle left with one member, and every other feature, is alone.
fn bundle(columns: &[Vec<u8>], edges: &[Vec<f64>]) -> (Vec<Place>, usize) {
    let n = columns.first().map_or(0, Vec::len);
    struct Bundle {
        members: Vec<(usize, u8, usize)>,
        slots: usize,
        used: Vec<u64>,
    }
    // (feature, default bin, rows off it, value bins), features in parallel.
    let mut candidates: Vec<(usize, u8, Vec<u32>, usize)> = columns
        .par_iter()
        .enumerate()
        .filter_map(|(f, column)| {
            let mut counts = [0usize; 256];
            column.iter().for_each(|&b| counts[b as usize] += 1);
            let bins = edges[f].len() + 1;
            let (default, most) = counts
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or((0, 0), |(b, &c)| (b as u8, c));
            if counts[MISSING as usize] > 0 || bins < 2 || most * 2 < n {
                return None;
            }
            let off: Vec<u32> = (0..n as u32)
                .filter(|&r| column[r as usize] != default)
                .collect();
            Some((f, default, off, bins))
        })
        .collect();
    candidates.sort_by(|a, b| b.2.len().cmp(&a.2.len()).then(a.0.cmp(&b.0)));
    let mut bundles: Vec<Bundle> = Vec::new();
    for (f, default, off, bins) in candidates {
        let fits = |b: &Bundle| {
            b.slots + bins - 1 <= 256
                && off
                    .iter()
                    .all(|&r| b.used[r as usize / 64] & (1 << (r % 64)) == 0)
        };
        let at = match bundles.iter().position(fits) {
            Some(at) => at,
            None => {
                bundles.push(Bundle {
                    members: Vec::new(),
                    slots: 1,
                    used: vec![0; n.div_ceil(64)],
                });
                bundles.len() - 1
            }
        };
        let b = &mut bundles[at];
        off.iter()
            .for_each(|&r| b.used[r as usize / 64] |= 1 << (r % 64));
        b.members.push((f, default, b.slots));
        b.slots += bins - 1;
    }
    let mut places: Vec<Option<Place>> = vec![None; columns.len()];
    let mut groups = 0;
    for b in bundles.iter().filter(|b| b.members.len() > 1) {
        for &(f, default, offset) in &b.members {
            places[f] = Some(Place::Bundled {
                group: groups,
                offset,
                default,
            });
        }
        groups += 1;
    }
    let places = places
        .into_iter()
        .map(|p| {
            p.unwrap_or_else(|| {
                groups += 1;
                Place::Alone(groups - 1)
            })
        })
        .collect();
    (places, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_has_its_own_bin_and_values_keep_their_order() {
        let values = [3.0, f64::NAN, 1.0, 2.0, 2.0, f64::INFINITY, f64::NEG_INFINITY];
        let x = DenseMatrix::new(values.len(), 1, values.to_vec(), false).unwrap();
        let rows: Vec<u32> = (0..values.len() as u32).collect();
        let data = Binned::new(&x, &rows);
        assert_eq!(data.columns[0], vec![3, MISSING, 1, 2, 2, 4, 0]);
        assert_eq!(data.value_bins(0), 5);
        assert_eq!(data.places, vec![Place::Alone(0)]);
        // Edges come from the fitting rows only.
        let data = Binned::new(&x, &[2, 3]);
        assert_eq!(data.edges[0], vec![1.5]);
    }

    /// One-hot columns of one category share a group; a dense column and
    /// a sparse column that overlaps the bundle stay alone.
    #[test]
    fn exclusive_sparse_columns_share_a_group() {
        let n = 40;
        let mut values = Vec::new();
        for r in 0..n {
            let level = r % 4;
            values.push(r as f64); // dense
            for l in 0..4 {
                values.push(f64::from(u8::from(level == l))); // one-hot
            }
            values.push(f64::from(u8::from(r % 5 == 0))); // overlaps the one-hots
        }
        let x = DenseMatrix::new(n, 6, values, false).unwrap();
        let rows: Vec<u32> = (0..n as u32).collect();
        let data = Binned::new(&x, &rows);
        let group = data.places[1].group();
        assert!(data.places[1..5].iter().all(|p| p.group() == group), "{:?}", data.places);
        assert!(matches!(data.places[0], Place::Alone(_)));
        assert_eq!(data.groups(), 3, "{:?}", data.places);
        // Every row's group bin identifies its level.
        let slots: std::collections::BTreeSet<u8> = (0..n).map(|r| data.row(r)[group]).collect();
        assert_eq!(slots.len(), 4);
    }
}
