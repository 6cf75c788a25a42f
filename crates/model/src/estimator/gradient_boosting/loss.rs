//! The losses boosting minimises, with their starting scores, gradients and
//! hessians (scikit-learn's HistGradientBoosting conventions): squared
//! error, absolute error and Huber for regression, binary log loss on one
//! raw score, and the softmax (multinomial log loss) on one raw score per
//! class. Absolute error's leaves are refitted to the median residual of
//! their rows, as scikit-learn's are (its gradient is only a sign).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::median;

/// Rows per parallel task of a pass over the scores.
const CHUNK: usize = 8192;
/// Smallest hessian a row contributes, so that a confident row's leaf never
/// divides by zero (and it stays above zero in f32).
const MIN_HESSIAN: f64 = 1e-16;

/// A boosting loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// `(score − y)²`, one score per row (regression).
    SquaredError,
    /// `|score − y|` (regression, robust to outliers).
    AbsoluteError,
    /// Squared within `delta` of the target, absolute beyond (regression).
    Huber {
        /// Where the loss turns from squared to absolute (> 0).
        delta: f64,
    },
    /// Binary log loss on the log-odds of class 1 (two classes).
    LogLoss,
    /// Multinomial log loss on one score per class (three or more classes).
    Softmax,
}

impl Loss {
    /// The classification loss for `classes` classes, or `regression` (0 classes).
    pub(super) fn for_classes(classes: usize, regression: Loss) -> Self {
        match classes {
            0 => regression,
            2 => Loss::LogLoss,
            _ => Loss::Softmax,
        }
    }

    /// Whether it fits a model of `classes` classes (0: regression).
    pub(super) fn fits(self, classes: usize) -> bool {
        match self {
            Loss::LogLoss => classes == 2,
            Loss::Softmax => classes > 2,
            Loss::Huber { delta } => classes == 0 && delta.is_finite() && delta > 0.0,
            Loss::SquaredError | Loss::AbsoluteError => classes == 0,
        }
    }

    /// Whether its scores are class scores (probabilities after a link).
    pub(super) fn is_classification(self) -> bool {
        matches!(self, Loss::LogLoss | Loss::Softmax)
    }

    /// Its name in the training record.
    pub(super) fn metric(self) -> &'static str {
        match self {
            Loss::SquaredError => "squared_error",
            Loss::AbsoluteError => "absolute_error",
            Loss::Huber { .. } => "huber",
            Loss::LogLoss | Loss::Softmax => "log_loss",
        }
    }

    /// Whether leaves are refitted to their rows' median residual.
    pub(super) fn refits_leaves(self) -> bool {
        self == Loss::AbsoluteError
    }

    /// Raw scores per row: one per class for the softmax, else one.
    pub(super) fn outputs(self, classes: usize) -> usize {
        match self {
            Loss::Softmax => classes,
            _ => 1,
        }
    }

    /// The best constant scores for `truth` at `rows`: the mean (squared
    /// error), the median (absolute error, Huber), the log-odds of class 1,
    /// or the log of each class's share.
    pub(super) fn initial(self, truth: &[f64], rows: &[u32], outputs: usize) -> Vec<f64> {
        let n = rows.len().max(1) as f64;
        let share = |c: f64| rows.iter().filter(|&&r| truth[r as usize] == c).count() as f64 / n;
        let clamp = |p: f64| p.clamp(1e-15, 1.0 - 1e-15);
        match self {
            Loss::SquaredError => vec![rows.iter().map(|&r| truth[r as usize]).sum::<f64>() / n],
            Loss::AbsoluteError | Loss::Huber { .. } => {
                let values: Vec<f64> = rows.iter().map(|&r| truth[r as usize]).collect();
                vec![median(&values)]
            }
            Loss::LogLoss => {
                let p = clamp(share(1.0));
                vec![(p / (1.0 - p)).ln()]
            }
            Loss::Softmax => (0..outputs).map(|k| clamp(share(k as f64)).ln()).collect(),
        }
    }

    /// Gradient and hessian of every output of every row in `rows`, into
    /// `gh` (`rows × outputs`, row-major, indexed by absolute row).
    pub(super) fn gradients(
        self,
        scores: &[f64],
        truth: &[f64],
        outputs: usize,
        gh: &mut [[f32; 2]],
    ) {
        gh.par_chunks_mut(CHUNK * outputs)
            .zip(scores.par_chunks(CHUNK * outputs))
            .zip(truth.par_chunks(CHUNK))
            .for_each(|((gh, scores), truth)| {
                for ((gh, s), &y) in gh
                    .chunks_exact_mut(outputs)
                    .zip(scores.chunks_exact(outputs))
                    .zip(truth)
                {
                    self.row_gradients(s, y, gh);
                }
            });
    }

    /// One row's gradients and hessians, computed in f64 and stored in f32
    /// (as LightGBM stores them: half the memory traffic of the histogram
    /// passes; the sums stay f64).
    fn row_gradients(self, s: &[f64], y: f64, gh: &mut [[f32; 2]]) {
        let pair = |g: f64, h: f64| [g as f32, h.max(MIN_HESSIAN) as f32];
        match self {
            Loss::SquaredError => gh[0] = pair(s[0] - y, 1.0),
            // Constant hessians, as LightGBM and scikit-learn use for these.
            Loss::AbsoluteError => gh[0] = pair((s[0] - y).signum() * f64::from(u8::from(s[0] != y)), 1.0),
            Loss::Huber { delta } => gh[0] = pair((s[0] - y).clamp(-delta, delta), 1.0),
            Loss::LogLoss => {
                let p = sigmoid(s[0]);
                gh[0] = pair(p - y, p * (1.0 - p));
            }
            Loss::Softmax => {
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = s.iter().map(|v| (v - max).exp()).sum();
                for (k, (g, &v)) in gh.iter_mut().zip(s).enumerate() {
                    let p = (v - max).exp() / total;
                    let label = f64::from(u8::from(y == k as f64));
                    *g = pair(p - label, p * (1.0 - p));
                }
            }
        }
    }

    /// The mean loss over `rows` (squared error for regression, log loss
    /// otherwise), summed in a fixed order so that it does not depend on the
    /// thread count.
    pub(super) fn mean(self, scores: &[f64], truth: &[f64], outputs: usize, rows: &[u32]) -> f64 {
        let partial: Vec<f64> = rows
            .par_chunks(CHUNK)
            .map(|rows| {
                rows.iter()
                    .map(|&r| {
                        let r = r as usize;
                        let s = &scores[r * outputs..(r + 1) * outputs];
                        self.row_loss(s, truth[r])
                    })
                    .sum()
            })
            .collect();
        partial.iter().sum::<f64>() / rows.len().max(1) as f64
    }

    fn row_loss(self, s: &[f64], y: f64) -> f64 {
        match self {
            Loss::SquaredError => (s[0] - y).powi(2),
            Loss::AbsoluteError => (s[0] - y).abs(),
            Loss::Huber { delta } => {
                let r = (s[0] - y).abs();
                if r <= delta {
                    0.5 * r * r
                } else {
                    delta * (r - 0.5 * delta)
                }
            }
            // log(1 + e^s) − y·s, without overflow.
            Loss::LogLoss => s[0].max(0.0) + (-s[0].abs()).exp().ln_1p() - y * s[0],
            Loss::Softmax => {
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = s.iter().map(|v| (v - max).exp()).sum();
                max + total.ln() - s.get(y as usize).copied().unwrap_or(0.0)
            }
        }
    }

    /// Class probabilities of one row's scores, into `out` (`classes` long).
    pub(super) fn probabilities(self, s: &[f64], out: &mut [f64]) {
        match self {
            Loss::SquaredError | Loss::AbsoluteError | Loss::Huber { .. } => {
                out.copy_from_slice(s)
            }
            Loss::LogLoss => {
                let p = sigmoid(s[0]);
                out[0] = 1.0 - p;
                out[1] = p;
            }
            Loss::Softmax => {
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for (o, v) in out.iter_mut().zip(s) {
                    *o = (v - max).exp();
                }
                let total: f64 = out.iter().sum();
                out.iter_mut().for_each(|o| *o /= total);
            }
        }
    }
}

fn sigmoid(s: f64) -> f64 {
    1.0 / (1.0 + (-s).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gradients are the derivatives of the loss (checked by finite
    /// differences), hessians the second derivatives.
    #[test]
    fn gradients_are_derivatives_of_the_loss() {
        for (loss, outputs, y, s) in [
            (Loss::SquaredError, 1, 2.5, vec![0.7]),
            (Loss::LogLoss, 1, 1.0, vec![-0.3]),
            (Loss::LogLoss, 1, 0.0, vec![1.2]),
            (Loss::Softmax, 3, 2.0, vec![0.1, -0.4, 0.9]),
        ] {
            let mut gh = vec![[0.0f32; 2]; outputs];
            loss.row_gradients(&s, y, &mut gh);
            let h = 1e-6;
            for k in 0..outputs {
                let at = |d: f64| {
                    let mut t = s.clone();
                    t[k] += d;
                    loss.row_loss(&t, y)
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                // Squared error's gradient is half the derivative's scale
                // (LightGBM's convention: g = s − y, h = 1).
                let scale = if loss == Loss::SquaredError { 0.5 } else { 1.0 };
                let (g, hess) = (f64::from(gh[k][0]), f64::from(gh[k][1]));
                assert!((g - numeric * scale).abs() < 1e-5, "{loss:?} {k}");
                let second = (at(h) - 2.0 * at(0.0) + at(-h)) / (h * h);
                assert!((hess - second * scale).abs() < 1e-3, "{loss:?} {k}");
            }
        }
    }

    /// Absolute error's gradient is the residual's sign, Huber's the
    /// residual clipped to ±delta: the derivatives of their losses.
    #[test]
    fn robust_losses_have_clipped_gradients() {
        let huber = Loss::Huber { delta: 1.5 };
        for (s, y) in [(0.3, 2.0), (5.0, 1.0), (1.2, 1.0), (-4.0, 0.0)] {
            for loss in [Loss::AbsoluteError, huber] {
                let mut gh = [[0.0f32; 2]];
                loss.row_gradients(&[s], y, &mut gh);
                let h = 1e-6;
                let numeric =
                    (loss.row_loss(&[s + h], y) - loss.row_loss(&[s - h], y)) / (2.0 * h);
                assert!((f64::from(gh[0][0]) - numeric).abs() < 1e-5, "{loss:?} {s} {y}");
                assert_eq!(gh[0][1], 1.0);
            }
        }
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        let rows = [0, 1, 2];
        assert_eq!(Loss::AbsoluteError.initial(&[5.0, -1.0, 100.0], &rows, 1), vec![5.0]);
    }

    #[test]
    fn initial_scores_are_the_best_constants() {
        let truth = [0.0, 1.0, 1.0, 1.0];
        let rows = [0, 1, 2, 3];
        assert!((Loss::LogLoss.initial(&truth, &rows, 1)[0] - 3f64.ln()).abs() < 1e-12);
        assert_eq!(Loss::SquaredError.initial(&truth, &rows, 1), vec![0.75]);
        let classes = [0.0, 1.0, 2.0, 2.0];
        let init = Loss::Softmax.initial(&classes, &rows, 3);
        assert!((init[2] - 0.5f64.ln()).abs() < 1e-12);
    }
}
