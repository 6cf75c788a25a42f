//! The features of a training matrix cut into bins once, as LightGBM and
//! HistGradientBoosting do: at most [`VALUE_BINS`] bins of values per
//! feature (edges placed by the shared rule in
//! [`hist_tree`](crate::estimator::hist_tree), from the rows trees are grown
//! on only), and bin [`MISSING`] for NaN, so that every split can learn
//! where missing values go.

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
        Self { columns, edges }
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
        // Edges come from the fitting rows only.
        let data = Binned::new(&x, &[2, 3]);
        assert_eq!(data.edges[0], vec![1.5]);
    }
}
