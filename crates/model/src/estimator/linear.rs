//! Least squares, ridge, lasso and elastic net: Cauce's own, solving
//! scikit-learn's problems the way scikit-learn does, from the centred Gram
//! matrix (`XᵀX`, computed once in one parallel pass over the rows).
//!
//! - **Least squares** and **ridge**: Cholesky of `XᵀX + αI` on centred data
//!   (scikit-learn's `cholesky` solver, what `Ridge`'s `auto` picks for dense
//!   data). A column that is a linear combination of earlier ones (a zero
//!   pivot, e.g. the last one-hot column beside the intercept) gets
//!   coefficient 0, which leaves the fitted values those of any
//!   least-squares solution (scikit-learn's `lstsq` picks the minimum-norm
//!   one; predictions differ only on rows outside the training data's span).
//! - **Lasso** and **elastic net**: cyclic coordinate descent on the Gram
//!   matrix (scikit-learn's `enet_coordinate_descent_gram`), minimising
//!   `1/(2n)·‖y − Xw‖² + α·ρ·‖w‖₁ + α·(1 − ρ)/2·‖w‖²`, stopped by the same
//!   duality-gap test (`gap < tol·‖y − ȳ‖²`); a warning when `max_iter`
//!   sweeps did not get there.
//!
//! The intercept is never penalised: it is `ȳ − x̄·w`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::{Estimator, regression};
use super::{Output, rows};
use crate::error::{Error, Result};
use crate::onnx::{Graph, Head};

/// Rows per task of the parallel passes.
const CHUNK: usize = 4096;
/// A Cholesky pivot below this fraction of its column's variance is zero:
/// the column is (numerically) a combination of earlier ones.
const PIVOT_TOLERANCE: f64 = 1e-10;

/// A fitted linear model: `x·coefficients + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
}

impl LinearModel {
    /// Checks a decoded model for `features` inputs.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if self.coefficients.len() != features {
            return Err(format!(
                "{} coefficients for {features} features",
                self.coefficients.len()
            ));
        }
        Ok(())
    }
}

impl Estimator for LinearModel {
    fn predict(&self, x: &DenseMatrix<f64>) -> Result<Output> {
        Ok(Output::Values(LinearModel::predict(self, x)))
    }

    fn onnx(&self, graph: &mut Graph, x: &str) -> Result<Head> {
        let width = self.coefficients.len() as i64;
        let weights = graph.doubles("coefficients", &[width, 1], self.coefficients.clone());
        let intercept = graph.doubles("intercept", &[1], vec![self.intercept]);
        let product = graph.op("MatMul", &[x, &weights], vec![]);
        Ok(Head::Values(graph.op(
            "Add",
            &[&product, &intercept],
            vec![],
        )))
    }

    fn has_probabilities(&self) -> bool {
        false
    }

    fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        regression(classes)?;
        LinearModel::validate(self, features)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }
}

/// What to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Penalty {
    /// `alpha · ‖w‖²` (0: ordinary least squares).
    Ridge {
        /// Strength.
        alpha: f64,
    },
    /// scikit-learn's elastic net (`l1_ratio` 1: lasso).
    ElasticNet {
        /// Strength.
        alpha: f64,
        /// Share of the L1 part.
        l1_ratio: f64,
        /// Most coordinate-descent sweeps.
        max_iter: usize,
        /// Duality-gap tolerance, relative to `‖y − ȳ‖²`.
        tol: f64,
    },
}

impl LinearModel {
    /// Fits on the rows of `x` (row-major) and targets `y`.
    pub fn fit(
        x: &DenseMatrix<f64>,
        y: &[f64],
        penalty: Penalty,
        name: &'static str,
    ) -> Result<Self> {
        let gram = Gram::of(x, y);
        if gram.rows == 0 {
            return Err(Error::Estimator {
                algorithm: name,
                message: "no training rows".into(),
            });
        }
        let coefficients = match penalty {
            Penalty::Ridge { alpha } => cholesky_solve(&gram, alpha),
            Penalty::ElasticNet {
                alpha,
                l1_ratio,
                max_iter,
                tol,
            } => {
                let n = gram.rows as f64;
                let (w, converged) = coordinate_descent(
                    &gram,
                    alpha * l1_ratio * n,
                    alpha * (1.0 - l1_ratio) * n,
                    max_iter,
                    tol,
                );
                if !converged {
                    log::warn!(
                        "{name}: coordinate descent did not converge in max_iter = {max_iter} sweeps \
                         (duality gap above tol = {tol}); raise max_iter or tol"
                    );
                }
                w
            }
        };
        let intercept = gram.y_mean
            - coefficients
                .iter()
                .zip(&gram.x_mean)
                .map(|(w, m)| w * m)
                .sum::<f64>();
        Ok(Self {
            coefficients,
            intercept,
        })
    }

    /// Predicts every row of `x`.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Vec<f64> {
        let rows: Vec<&[f64]> = rows(x).collect();
        rows.par_iter()
            .with_min_len(CHUNK)
            .map(|row| {
                self.intercept
                    + row
                        .iter()
                        .zip(&self.coefficients)
                        .map(|(v, w)| v * w)
                        .sum::<f64>()
            })
            .collect()
    }
}

/// The centred Gram matrix `Σ (x − x̄)(x − x̄)ᵀ` (full, row-major `p × p`),
/// `Σ (x − x̄)(y − ȳ)`, `Σ (y − ȳ)²` and the means.
#[derive(Debug, Clone)]
struct Gram {
    rows: usize,
    width: usize,
    xx: Vec<f64>,
    xy: Vec<f64>,
    yy: f64,
    x_mean: Vec<f64>,
    y_mean: f64,
}

/// Per-chunk sums of the Gram pass.
struct Sums {
    xx: Vec<f64>,
    xy: Vec<f64>,
    z: Vec<f64>,
}

impl Sums {
    fn zero(width: usize) -> Self {
        Self {
            xx: vec![0.0; width * width],
            xy: vec![0.0; width],
            z: vec![0.0; width],
        }
    }

    fn add(mut self, other: Self) -> Self {
        add(&mut self.xx, &other.xx);
        add(&mut self.xy, &other.xy);
        add(&mut self.z, &other.z);
        self
    }
}

/// `a += b`, element by element.
fn add(a: &mut [f64], b: &[f64]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

impl Gram {
    /// One pass for the means, one for the products. Dense columns are
    /// shifted by their mean before the products (no cancellation);
    /// mostly-zero columns (one-hot) are not, so their zeros are skipped, and
    /// are centred afterwards (`ΣzzT − n·z̄z̄ᵀ`), which is exact enough for
    /// values in [0, 1].
    fn of(x: &DenseMatrix<f64>, y: &[f64]) -> Self {
        let all: Vec<&[f64]> = rows(x).collect();
        let n = all.len().min(y.len());
        let width = all.first().map_or(0, |r| r.len());
        let (sum, zeros) = all[..n]
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut sum = vec![0.0; width];
                let mut zeros = vec![0usize; width];
                for row in chunk {
                    for (j, &v) in row.iter().enumerate() {
                        sum[j] += v;
                        zeros[j] += usize::from(v == 0.0);
                    }
                }
                (sum, zeros)
            })
            // Collected, then added in chunk order: rayon's `reduce` pairs
            // chunks as its threads split the work, and float addition in
            // another order gives other last bits (found by the 1-vs-2
            // threads test over many chunks: ridge's coefficients differed).
            .collect::<Vec<_>>()
            .into_iter()
            .fold(
                (vec![0.0; width], vec![0; width]),
                |(mut s, mut z), (s2, z2)| {
                    add(&mut s, &s2);
                    z.iter_mut().zip(z2).for_each(|(a, b)| *a += b);
                    (s, z)
                },
            );
        let count = n.max(1) as f64;
        let x_mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let y_mean = y[..n].iter().sum::<f64>() / count;
        let shift: Vec<f64> = x_mean
            .iter()
            .zip(&zeros)
            .map(|(&m, &z)| if 2 * z > n { 0.0 } else { m })
            .collect();
        let sums = all[..n]
            .par_chunks(CHUNK)
            .zip(y[..n].par_chunks(CHUNK))
            .map(|(chunk, ys)| {
                let mut s = Sums::zero(width);
                let mut nonzero: Vec<(usize, f64)> = Vec::with_capacity(width);
                for (row, &target) in chunk.iter().zip(ys) {
                    nonzero.clear();
                    nonzero.extend(
                        row.iter()
                            .zip(&shift)
                            .enumerate()
                            .map(|(j, (v, m))| (j, v - m))
                            .filter(|&(_, v)| v != 0.0),
                    );
                    let dy = target - y_mean;
                    for (a, &(i, vi)) in nonzero.iter().enumerate() {
                        s.z[i] += vi;
                        s.xy[i] += vi * dy;
                        let line = &mut s.xx[i * width..(i + 1) * width];
                        for &(j, vj) in &nonzero[a..] {
                            line[j] += vi * vj;
                        }
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Sums::zero(width), Sums::add);
        // Centre: Σ(z − z̄)(z − z̄)ᵀ = Σzzᵀ − n·z̄z̄ᵀ, with z̄ = Σz / n; mirror the upper triangle.
        let z_mean: Vec<f64> = sums.z.iter().map(|s| s / count).collect();
        let mut xx = sums.xx;
        for i in 0..width {
            for j in i..width {
                let v = xx[i * width + j] - count * z_mean[i] * z_mean[j];
                xx[i * width + j] = v;
                xx[j * width + i] = v;
            }
        }
        let yy = y[..n].iter().map(|v| (v - y_mean).powi(2)).sum();
        Self {
            rows: n,
            width,
            xx,
            xy: sums.xy,
            yy,
            x_mean,
            y_mean,
        }
    }
}

/// Solves `(XᵀX + αI) w = Xᵀy` by Cholesky; zero pivots give coefficient 0.
fn cholesky_solve(gram: &Gram, alpha: f64) -> Vec<f64> {
    let p = gram.width;
    let mut l = gram.xx.clone();
    for i in 0..p {
        l[i * p + i] += alpha;
    }
    let scale: Vec<f64> = (0..p).map(|i| l[i * p + i]).collect();
    let mut dropped = vec![false; p];
    for j in 0..p {
        let mut d = l[j * p + j];
        for k in 0..j {
            d -= l[j * p + k] * l[j * p + k];
        }
        if dropped[j] || d <= PIVOT_TOLERANCE * scale[j].max(f64::MIN_POSITIVE) {
            dropped[j] = true;
            for i in j..p {
                l[i * p + j] = 0.0;
            }
            continue;
        }
        let d = d.sqrt();
        l[j * p + j] = d;
        for i in j + 1..p {
            let mut v = l[i * p + j];
            for k in 0..j {
                v -= l[i * p + k] * l[j * p + k];
            }
            l[i * p + j] = v / d;
        }
    }
    // L z = b, then Lᵀ w = z, skipping dropped columns.
    let mut z = gram.xy.clone();
    for i in 0..p {
        if dropped[i] {
            z[i] = 0.0;
            continue;
        }
        let mut v = z[i];
        for k in 0..i {
            v -= l[i * p + k] * z[k];
        }
        z[i] = v / l[i * p + i];
    }
    let mut w = z;
    for i in (0..p).rev() {
        if dropped[i] {
            w[i] = 0.0;
            continue;
        }
        let mut v = w[i];
        for k in i + 1..p {
            v -= l[k * p + i] * w[k];
        }
        w[i] = v / l[i * p + i];
    }
    w
}

/// Coordinate descent on `½‖y − Xw‖² + l1·‖w‖₁ + ½·l2·‖w‖²` from the Gram
/// matrix; returns the coefficients and whether the duality gap met `tol`.
fn coordinate_descent(
    gram: &Gram,
    l1: f64,
    l2: f64,
    max_iter: usize,
    tol: f64,
) -> (Vec<f64>, bool) {
    let p = gram.width;
    let q = &gram.xx;
    let mut w = vec![0.0; p];
    // h = Q w, kept up to date.
    let mut h = vec![0.0; p];
    let gap_tol = tol * gram.yy;
    for _ in 0..max_iter {
        let mut w_max: f64 = 0.0;
        let mut d_w_max: f64 = 0.0;
        for j in 0..p {
            let qjj = q[j * p + j];
            if qjj == 0.0 {
                continue;
            }
            let old = w[j];
            let rho = gram.xy[j] - h[j] + qjj * old;
            let new = soft_threshold(rho, l1) / (qjj + l2);
            if new != old {
                let delta = new - old;
                for (hk, qk) in h.iter_mut().zip(&q[j * p..(j + 1) * p]) {
                    *hk += qk * delta;
                }
                w[j] = new;
            }
            d_w_max = d_w_max.max((new - old).abs());
            w_max = w_max.max(new.abs());
        }
        // As scikit-learn: the gap is computed only once the updates are small.
        if (w_max == 0.0 || d_w_max / w_max < tol) && duality_gap(gram, &w, &h, l1, l2) <= gap_tol {
            return (w, true);
        }
    }
    let converged = duality_gap(gram, &w, &h, l1, l2) <= gap_tol;
    (w, converged)
}

fn soft_threshold(v: f64, t: f64) -> f64 {
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        0.0
    }
}

/// scikit-learn's duality gap of the elastic-net problem (Gram form).
fn duality_gap(gram: &Gram, w: &[f64], h: &[f64], l1: f64, l2: f64) -> f64 {
    let wq: f64 = w.iter().zip(&gram.xy).map(|(a, b)| a * b).sum();
    let wh: f64 = w.iter().zip(h).map(|(a, b)| a * b).sum();
    let r_norm2 = (gram.yy - 2.0 * wq + wh).max(0.0);
    let w_norm2: f64 = w.iter().map(|v| v * v).sum();
    let l1_norm: f64 = w.iter().map(|v| v.abs()).sum();
    let dual_norm = gram
        .xy
        .iter()
        .zip(h)
        .zip(w)
        .map(|((q, h), w)| (q - h - l2 * w).abs())
        .fold(0.0, f64::max);
    let (constant, mut gap) = if dual_norm > l1 {
        let c = l1 / dual_norm;
        (c, 0.5 * (r_norm2 + r_norm2 * c * c))
    } else {
        (1.0, r_norm2)
    };
    gap +=
        l1 * l1_norm - constant * (gram.yy - wq) + 0.5 * l2 * (1.0 + constant * constant) * w_norm2;
    gap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::test_uniform;

    fn matrix(rows: &[Vec<f64>]) -> DenseMatrix<f64> {
        let width = rows[0].len();
        let values: Vec<f64> = rows.iter().flatten().copied().collect();
        DenseMatrix::new(rows.len(), width, values, false).unwrap()
    }

    /// y = 3 + 2·a − b + noise, plus a one-hot pair (collinear with the intercept).
    fn data(n: usize) -> (DenseMatrix<f64>, Vec<f64>) {
        let mut u = test_uniform(3);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = u() * 10.0;
            let b = u() * 4.0 + 100.0;
            let hot = f64::from(u() < 0.3);
            rows.push(vec![a, b, hot, 1.0 - hot]);
            y.push(3.0 + 2.0 * a - b + 5.0 * hot + (u() - 0.5) * 0.1);
        }
        (matrix(&rows), y)
    }

    fn rmse(model: &LinearModel, x: &DenseMatrix<f64>, y: &[f64]) -> f64 {
        let p = model.predict(x);
        (p.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64).sqrt()
    }

    #[test]
    fn least_squares_recovers_the_coefficients_despite_a_collinear_column() {
        let (x, y) = data(2000);
        let m =
            LinearModel::fit(&x, &y, Penalty::Ridge { alpha: 0.0 }, "linear_regression").unwrap();
        assert!((m.coefficients[0] - 2.0).abs() < 1e-3, "{m:?}");
        assert!((m.coefficients[1] + 1.0).abs() < 1e-2, "{m:?}");
        // The pair's difference is what is identified: 5.
        assert!(
            (m.coefficients[2] - m.coefficients[3] - 5.0).abs() < 1e-2,
            "{m:?}"
        );
        assert_eq!(m.coefficients[3], 0.0, "the collinear column is dropped");
        assert!(rmse(&m, &x, &y) < 0.03);
    }

    /// Ridge on centred data: the closed form for one feature is
    /// `w = Sxy / (Sxx + α)`, as scikit-learn's `Ridge(alpha)`.
    #[test]
    fn ridge_matches_the_closed_form() {
        let x = matrix(&[vec![1.0], vec![2.0], vec![4.0], vec![7.0]]);
        let y = [2.0, 3.0, 7.0, 9.0];
        let m = LinearModel::fit(&x, &y, Penalty::Ridge { alpha: 2.0 }, "ridge").unwrap();
        // x̄ = 3.5, ȳ = 5.25, Sxx = 21, Sxy = 25.5.
        let w = 25.5 / (21.0 + 2.0);
        assert!((m.coefficients[0] - w).abs() < 1e-12);
        assert!((m.intercept - (5.25 - w * 3.5)).abs() < 1e-12);
    }

    /// For one feature scikit-learn's objective has the closed-form minimum
    /// `w = S(Sxy/n, αρ) / (Sxx/n + α(1 − ρ))` (S: soft threshold).
    #[test]
    fn lasso_and_elastic_net_solve_scikit_learns_objective() {
        let x = matrix(&[vec![1.0], vec![2.0], vec![4.0], vec![7.0]]);
        let y = [2.0, 3.0, 7.0, 9.0];
        let fit = |alpha: f64, l1_ratio: f64| {
            let penalty = Penalty::ElasticNet {
                alpha,
                l1_ratio,
                max_iter: 1000,
                tol: 1e-4,
            };
            LinearModel::fit(&x, &y, penalty, "elastic_net").unwrap()
        };
        let exact =
            |alpha: f64, rho: f64| (25.5 / 4.0 - alpha * rho) / (21.0 / 4.0 + alpha * (1.0 - rho));
        for (alpha, rho) in [(0.5, 1.0), (0.5, 0.5), (3.0, 0.2)] {
            let m = fit(alpha, rho);
            assert!(
                (m.coefficients[0] - exact(alpha, rho)).abs() < 1e-9,
                "{alpha} {rho}: {m:?}"
            );
        }
        // A strong penalty zeroes the coefficient: the prediction is ȳ.
        let m = fit(100.0, 1.0);
        assert_eq!(m.coefficients, [0.0]);
        assert!((m.intercept - 5.25).abs() < 1e-12);
    }

    #[test]
    fn lasso_selects_the_informative_features() {
        let (x, y) = data(3000);
        let penalty = Penalty::ElasticNet {
            alpha: 0.1,
            l1_ratio: 1.0,
            max_iter: 1000,
            tol: 1e-6,
        };
        let m = LinearModel::fit(&x, &y, penalty, "lasso").unwrap();
        assert!((m.coefficients[0] - 2.0).abs() < 0.05, "{m:?}");
        assert!(
            m.coefficients[2].abs() + m.coefficients[3].abs() > 4.0,
            "{m:?}"
        );
        let gram = Gram::of(&x, &y);
        let n = gram.rows as f64;
        let h: Vec<f64> = (0..4)
            .map(|i| (0..4).map(|j| gram.xx[i * 4 + j] * m.coefficients[j]).sum())
            .collect();
        assert!(duality_gap(&gram, &m.coefficients, &h, 0.1 * n, 0.0) <= 1e-6 * gram.yy);
    }
}
