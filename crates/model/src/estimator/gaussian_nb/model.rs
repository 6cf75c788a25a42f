//! Gaussian naive Bayes, written here rather than taken from smartcore:
//! smartcore 0.7's `GaussianNB` has no variance smoothing, so any feature that
//! is constant within a class (every one-hot feature, typically) gives a zero
//! variance and the model degenerates to the majority class. This follows
//! scikit-learn's `GaussianNB`: per-class means and population variances,
//! plus `var_smoothing × the largest feature variance` added to every variance.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::error::{Error, Result};

/// A fitted Gaussian naive Bayes classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNb {
    log_priors: Vec<f64>,
    means: Vec<Vec<f64>>,
    variances: Vec<Vec<f64>>,
}

impl GaussianNb {
    /// Checks a decoded model for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        let shaped =
            |rows: &[Vec<f64>]| rows.len() == classes && rows.iter().all(|r| r.len() == features);
        if classes < 2
            || self.log_priors.len() != classes
            || !shaped(&self.means)
            || !shaped(&self.variances)
        {
            return Err(format!(
                "parameters are not {classes} classes × {features} features"
            ));
        }
        // What a fit can give: finite log-priors ≤ 0, finite means, finite
        // positive variances (found by the `model_artifact` fuzz oracle: a
        // crafted zero or negative variance gave NaN probabilities).
        if !self.log_priors.iter().all(|p| p.is_finite() && *p <= 0.0) {
            return Err("a class prior is not a probability".into());
        }
        if !self.means.iter().flatten().all(|m| m.is_finite()) {
            return Err("a class mean is not finite".into());
        }
        if !self
            .variances
            .iter()
            .flatten()
            .all(|v| v.is_finite() && *v > 0.0)
        {
            return Err("a class variance is not finite and positive".into());
        }
        Ok(())
    }
}

impl GaussianNb {
    /// Fits on `x` (rows × width) and class indexes `y` in `0..classes`.
    pub fn fit(
        x: &DenseMatrix<f64>,
        y: &[i32],
        classes: usize,
        var_smoothing: f64,
    ) -> Result<Self> {
        let (rows, width) = x.shape();
        let mut counts = vec![0usize; classes];
        let mut sums = vec![vec![0.0; width]; classes];
        for (r, &c) in y.iter().enumerate().take(rows) {
            counts[c as usize] += 1;
            for (j, sum) in sums[c as usize].iter_mut().enumerate() {
                *sum += x.get((r, j));
            }
        }
        if counts.contains(&0) {
            return Err(Error::Data("a class has no training rows".into()));
        }
        let means: Vec<Vec<f64>> = sums
            .iter()
            .zip(&counts)
            .map(|(s, &n)| s.iter().map(|v| v / n as f64).collect())
            .collect();
        let mut variances = vec![vec![0.0; width]; classes];
        for (r, &c) in y.iter().enumerate().take(rows) {
            let class_means = &means[c as usize];
            for (j, variance) in variances[c as usize].iter_mut().enumerate() {
                *variance += (x.get((r, j)) - class_means[j]).powi(2);
            }
        }
        // The largest variance of any feature over all rows scales the smoothing.
        let max_variance = (0..width)
            .map(|j| {
                let mean = (0..rows).map(|r| x.get((r, j))).sum::<f64>() / rows as f64;
                (0..rows)
                    .map(|r| (x.get((r, j)) - mean).powi(2))
                    .sum::<f64>()
                    / rows as f64
            })
            .fold(0.0, f64::max);
        let epsilon = (var_smoothing * max_variance).max(f64::MIN_POSITIVE);
        for (c, row) in variances.iter_mut().enumerate() {
            for v in row.iter_mut() {
                *v = *v / counts[c] as f64 + epsilon;
            }
        }
        let log_priors = counts
            .iter()
            .map(|&n| (n as f64 / rows as f64).ln())
            .collect();
        Ok(Self {
            log_priors,
            means,
            variances,
        })
    }

    /// The class probabilities as ONNX nodes over `x`: each class's joint
    /// log-likelihood, `log prior − Σ ½ ln(2π var) − Σ (x − mean)² / (2 var)`
    /// (the constant part folded per class), through a softmax. Rows so far
    /// out that every likelihood underflows (see `far_out`) are not handled
    /// the same way.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        use crate::onnx::Attr;
        let classes = self.log_priors.len();
        let width = self.means.first().map_or(0, Vec::len);
        let constants: Vec<f64> = (0..classes)
            .map(|c| {
                let spread: f64 = self.variances[c]
                    .iter()
                    .map(|var| 0.5 * (2.0 * std::f64::consts::PI * var).ln())
                    .sum();
                self.log_priors[c] - spread
            })
            .collect();
        let dims = [classes as i64, width as i64];
        let means = graph.doubles("means", &dims, self.means.concat());
        let halves: Vec<f64> = self.variances.iter().flatten().map(|v| 1.0 / (2.0 * v)).collect();
        let halves = graph.doubles("inverse_variances", &dims, halves);
        let constants = graph.doubles("class_constants", &[classes as i64], constants);
        let axis = graph.ints("class_axis", &[1], vec![1]);
        let rows = graph.op("Unsqueeze", &[x, &axis], vec![]);
        let diff = graph.op("Sub", &[&rows, &means], vec![]);
        let squared = graph.op("Mul", &[&diff, &diff], vec![]);
        let scaled = graph.op("Mul", &[&squared, &halves], vec![]);
        let features = graph.ints("feature_axis", &[1], vec![2]);
        let distance = graph.op(
            "ReduceSum",
            &[&scaled, &features],
            vec![("keepdims", Attr::Int(0))],
        );
        let joint = graph.op("Sub", &[&constants, &distance], vec![]);
        graph.op("Softmax", &[&joint], vec![("axis", Attr::Int(1))])
    }

    /// Class probabilities, `rows × classes`.
    pub fn predict_proba(&self, x: &DenseMatrix<f64>) -> Vec<Vec<f64>> {
        let (rows, width) = x.shape();
        (0..rows)
            .map(|r| {
                let joint: Vec<f64> = (0..self.log_priors.len())
                    .map(|c| {
                        let mut log_likelihood = self.log_priors[c];
                        for j in 0..width {
                            let var = self.variances[c][j];
                            log_likelihood -= 0.5 * (2.0 * std::f64::consts::PI * var).ln()
                                + (x.get((r, j)) - self.means[c][j]).powi(2) / (2.0 * var);
                        }
                        log_likelihood
                    })
                    .collect();
                let max = joint.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if !max.is_finite() {
                    return self.far_out(x, r);
                }
                let exp: Vec<f64> = joint.iter().map(|l| (l - max).exp()).collect();
                let total: f64 = exp.iter().sum();
                exp.iter().map(|e| e / total).collect()
            })
            .collect()
    }

    /// Probabilities for a row so far from every class that each squared
    /// distance overflows (a value near ±1e308): the limit of the softmax as
    /// the distances grow, which is all the weight on the class nearest in
    /// variance-scaled distance (shared on a tie). The distances are scaled
    /// by the row's largest one before squaring, so they stay finite and
    /// keep their order; priors and normalisers vanish in the limit.
    /// Found by the `model_artifact` fuzz target's probability oracle: the
    /// softmax of all `-inf` was NaN.
    fn far_out(&self, x: &DenseMatrix<f64>, r: usize) -> Vec<f64> {
        let width = x.shape().1;
        let classes = self.log_priors.len();
        let scale = (0..classes)
            .flat_map(|c| (0..width).map(move |j| (c, j)))
            .map(|(c, j)| (x.get((r, j)) - self.means[c][j]).abs())
            .filter(|d| d.is_finite())
            .fold(0.0_f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let distance: Vec<f64> = (0..classes)
            .map(|c| {
                (0..width)
                    .map(|j| {
                        let d = (x.get((r, j)) - self.means[c][j]) / scale;
                        d * d / (2.0 * self.variances[c][j])
                    })
                    .sum::<f64>()
            })
            .collect();
        let nearest = distance.iter().copied().fold(f64::INFINITY, f64::min);
        let ties = distance.iter().filter(|&&d| d == nearest).count().max(1);
        distance
            .iter()
            .map(|&d| if d == nearest { 1.0 / ties as f64 } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (found by the `model_artifact` fuzz oracle): a value near
    /// -1e308 made every class's log-likelihood -inf and the probabilities
    /// NaN. They are the limit instead: the class with the wider spread.
    #[test]
    fn extreme_values_give_probabilities_not_nan() {
        let x = DenseMatrix::new(4, 1, vec![0.0, 1.0, 10.0, 30.0], false).unwrap();
        let nb = GaussianNb::fit(&x, &[0, 0, 1, 1], 2, 1e-9).unwrap();
        for value in [-1e308, 1e308, f64::MAX] {
            let row = DenseMatrix::new(1, 1, vec![value], false).unwrap();
            let p = &nb.predict_proba(&row)[0];
            assert!(p.iter().all(|v| v.is_finite()), "{value}: {p:?}");
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert_eq!(p, &[0.0, 1.0], "{value}: class 1 has the wider spread");
        }
        let row = DenseMatrix::new(1, 1, vec![0.5], false).unwrap();
        assert!(nb.predict_proba(&row)[0][0] > 0.99, "ordinary rows unchanged");
    }

    #[test]
    fn matches_scikit_learn_on_a_tiny_example() {
        // scikit-learn 1.5.2's GaussianNB on X = [[1,0],[2,0],[3,1],[4,1]], y = [0,0,1,1]
        // gives predict_proba [[1, 0], [0, 1]] for [1.5, 0] and [3.5, 1]: the zero
        // within-class variance of the second feature must not break it.
        let x =
            DenseMatrix::new(4, 2, vec![1.0, 0.0, 2.0, 0.0, 3.0, 1.0, 4.0, 1.0], false).unwrap();
        let nb = GaussianNb::fit(&x, &[0, 0, 1, 1], 2, 1e-9).unwrap();
        let p = nb.predict_proba(&DenseMatrix::new(1, 2, vec![1.5, 0.0], false).unwrap());
        assert!(
            p[0][0] > 0.999 && (p[0][0] + p[0][1] - 1.0).abs() < 1e-12,
            "{p:?}"
        );
        let q = nb.predict_proba(&DenseMatrix::new(1, 2, vec![3.5, 1.0], false).unwrap());
        assert!(q[0][1] > 0.999, "{q:?}");
    }
}
