//! `logistic_regression`: scikit-learn's objective (mean log loss plus
//! `alpha / (2n) · ‖w‖²`, intercepts not penalised; one weight vector for two
//! classes, a softmax over all classes for more), minimised by argmin's
//! L-BFGS until the gradient's norm is below `tol`, as scikit-learn's `lbfgs`
//! solver does. The loss and its gradient come from one pass over the rows,
//! split into chunks on rayon. smartcore's logistic regression evaluates the
//! loss and the gradient in separate single-threaded passes and iterates to a
//! gradient tolerance of 1e-8; on a million rows that took minutes.

use std::sync::Mutex;

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::LogisticParams;
use crate::estimator::{Proba, rows};
use crate::error::{Error, Result};

/// Rows per rayon task in a loss pass.
const CHUNK: usize = 8192;
/// Curvature pairs L-BFGS keeps (scikit-learn's `lbfgs` uses 10).
const MEMORY: usize = 10;

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    classes: usize,
    width: usize,
    /// `vectors × (width + 1)`: each weight vector followed by its intercept;
    /// one vector for two classes (the second class's), else one per class.
    coefficients: Vec<f64>,
}

impl Logistic {
    /// Checks a decoded model for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.classes != classes || classes < 2 || self.width != features {
            return Err(format!(
                "{} classes × {} features, the model has {classes} × {features}",
                self.classes, self.width
            ));
        }
        let vectors = if classes == 2 { 1 } else { classes };
        if self.coefficients.len() != vectors * (features + 1) {
            return Err(format!(
                "{} coefficients, expected {}",
                self.coefficients.len(),
                vectors * (features + 1)
            ));
        }
        Ok(())
    }
}

impl Logistic {
    /// Fits on `x` and class indexes `y` in `0..classes`.
    pub fn fit(
        x: &DenseMatrix<f64>,
        y: &[i32],
        classes: usize,
        p: &LogisticParams,
    ) -> Result<Self> {
        let (n, width) = x.shape();
        if n == 0 {
            return Err(Error::Data("logistic_regression: no training rows".into()));
        }
        let vectors = if classes == 2 { 1 } else { classes };
        let problem = Loss {
            x,
            y,
            vectors,
            width,
            l2: p.alpha / n as f64,
            last: Mutex::new(None),
        };
        let estimator = |message: String| Error::Estimator {
            algorithm: "logistic_regression",
            message,
        };
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), MEMORY)
            .with_tolerance_grad(p.tol)
            .and_then(|s| s.with_tolerance_cost(0.0))
            .map_err(|e| estimator(e.to_string()))?;
        let start = vec![0.0; vectors * (width + 1)];
        let result = Executor::new(problem, solver)
            .configure(|state| state.param(start).max_iters(p.max_iter as u64))
            .run()
            .map_err(|e| estimator(e.to_string()))?;
        let state = result.state();
        let coefficients = state
            .get_best_param()
            .cloned()
            .ok_or_else(|| estimator("the solver returned no parameters".into()))?;
        if state.get_iter() >= p.max_iter as u64 {
            log::warn!(
                "logistic_regression: L-BFGS stopped at max_iter ({}) without converging to tol {}; \
                 raise params.max_iter, or scale the features",
                p.max_iter,
                p.tol
            );
        }
        log::debug!(
            "logistic_regression: {} iterations, loss {:.6}",
            state.get_iter(),
            state.get_best_cost()
        );
        Ok(Self {
            classes,
            width,
            coefficients,
        })
    }

    /// Class probabilities of every row.
    pub fn predict_proba(&self, x: &DenseMatrix<f64>) -> Proba {
        let mut scores = vec![0.0; self.coefficients.len() / (self.width + 1)];
        let mut values = Vec::with_capacity(x.shape().0 * self.classes);
        for row in rows(x) {
            scores_of(&self.coefficients, self.width, row, &mut scores);
            if self.classes == 2 {
                let p1 = sigmoid(scores[0]);
                values.extend([1.0 - p1, p1]);
            } else {
                softmax(&mut scores);
                values.extend_from_slice(&scores);
            }
        }
        Proba {
            classes: self.classes,
            values,
        }
    }

    /// The class probabilities as ONNX nodes over `x`: the scores, then the
    /// sigmoid of the one score (two classes) or the softmax.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        let vectors = self.coefficients.len() / (self.width + 1);
        let mut weights = vec![0.0; self.width * vectors];
        let mut intercepts = Vec::with_capacity(vectors);
        for (v, vector) in self.coefficients.chunks_exact(self.width + 1).enumerate() {
            for (j, w) in vector[..self.width].iter().enumerate() {
                weights[j * vectors + v] = *w;
            }
            intercepts.push(vector[self.width]);
        }
        let (width, count) = (self.width as i64, vectors as i64);
        let weights = graph.doubles("coefficients", &[width, count], weights);
        let intercepts = graph.doubles("intercepts", &[count], intercepts);
        let product = graph.op("MatMul", &[x, &weights], vec![]);
        let scores = graph.op("Add", &[&product, &intercepts], vec![]);
        if self.classes == 2 {
            let p1 = graph.op("Sigmoid", &[&scores], vec![]);
            let one = graph.doubles("one", &[], vec![1.0]);
            let p0 = graph.op("Sub", &[&one, &p1], vec![]);
            graph.op("Concat", &[&p0, &p1], vec![("axis", crate::onnx::Attr::Int(1))])
        } else {
            graph.op("Softmax", &[&scores], vec![("axis", crate::onnx::Attr::Int(1))])
        }
    }

    /// The coefficients, `vectors × (width + 1)` (intercept last in each).
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// In place: `scores` becomes probabilities.
fn softmax(scores: &mut [f64]) {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        total += *s;
    }
    scores.iter_mut().for_each(|s| *s /= total);
}

/// `log(1 + e^z)` without overflow.
fn log1pexp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn scores_of(coefficients: &[f64], width: usize, row: &[f64], scores: &mut [f64]) {
    for (score, w) in scores.iter_mut().zip(coefficients.chunks_exact(width + 1)) {
        *score = w[width] + w[..width].iter().zip(row).map(|(a, b)| a * b).sum::<f64>();
    }
}

/// Parameters with the loss and gradient there.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The objective for argmin. The last (parameters, loss, gradient) is kept
/// because argmin asks for the loss and the gradient at the same point in two
/// calls, and both come from one pass.
struct Loss<'a> {
    x: &'a DenseMatrix<f64>,
    y: &'a [i32],
    vectors: usize,
    width: usize,
    l2: f64,
    last: Mutex<Option<Evaluated>>,
}

impl Loss<'_> {
    /// Mean loss and its gradient at `w`.
    fn evaluate(&self, w: &[f64]) -> (f64, Vec<f64>) {
        if let Ok(last) = self.last.lock()
            && let Some((at, loss, gradient)) = last.as_ref()
            && at.as_slice() == w
        {
            return (*loss, gradient.clone());
        }
        let (n, width) = (self.y.len(), self.width);
        let data = self.x.iter().as_slice();
        // Per-chunk partial sums, added up in chunk order: the result does not
        // depend on how rayon splits the work, so neither does the model.
        let partials: Vec<(f64, Vec<f64>)> = data
            .par_chunks(CHUNK * width)
            .enumerate()
            .map(|(chunk, values)| {
                let mut loss = 0.0;
                let mut gradient = vec![0.0; w.len()];
                let mut scores = vec![0.0; self.vectors];
                for (i, row) in values.chunks_exact(width).enumerate() {
                    let label = self.y[chunk * CHUNK + i] as usize;
                    scores_of(w, width, row, &mut scores);
                    if self.vectors == 1 {
                        let z = scores[0];
                        let positive = (label == 1) as u8 as f64;
                        loss += log1pexp(z) - positive * z;
                        scores[0] = sigmoid(z) - positive;
                    } else {
                        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                        loss += max + total.ln() - scores[label];
                        for (k, s) in scores.iter_mut().enumerate() {
                            *s = (*s - max).exp() / total - (k == label) as u8 as f64;
                        }
                    }
                    for (residual, g) in scores.iter().zip(gradient.chunks_exact_mut(width + 1)) {
                        for (gj, xj) in g[..width].iter_mut().zip(row) {
                            *gj += residual * xj;
                        }
                        g[width] += residual;
                    }
                }
                (loss, gradient)
            })
            .collect();
        let mut loss = 0.0;
        let mut gradient = vec![0.0; w.len()];
        for (l, g) in &partials {
            loss += l;
            gradient.iter_mut().zip(g).for_each(|(a, b)| *a += b);
        }
        let scale = 1.0 / n as f64;
        loss *= scale;
        for (g, wv) in gradient
            .chunks_exact_mut(width + 1)
            .zip(w.chunks_exact(width + 1))
        {
            for (gj, wj) in g.iter_mut().zip(wv).take(width) {
                *gj = *gj * scale + self.l2 * wj;
                loss += 0.5 * self.l2 * wj * wj;
            }
            g[width] *= scale;
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some((w.to_vec(), loss, gradient.clone()));
        }
        (loss, gradient)
    }
}

impl CostFunction for Loss<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, w: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.evaluate(w).0)
    }
}

impl Gradient for Loss<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, w: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        Ok(self.evaluate(w).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn_on_a_small_problem() {
        // scikit-learn 1.5.2:
        //   X = [[0.5, 1.0], [1.5, -0.5], [-1.0, 2.0], [2.0, 1.0], [-0.5, -1.5], [1.0, 0.0]]
        //   y = [0, 1, 0, 1, 0, 1]
        //   LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
        //   → coef_ [[1.14552512, -0.16889346]], intercept_ [-0.66303928]
        let x = DenseMatrix::new(
            6,
            2,
            vec![
                0.5, 1.0, 1.5, -0.5, -1.0, 2.0, 2.0, 1.0, -0.5, -1.5, 1.0, 0.0,
            ],
            false,
        )
        .unwrap();
        let y = [0, 1, 0, 1, 0, 1];
        // Regression (issue 11.6): the default was alpha 0 (no penalty), not
        // scikit-learn's C = 1.
        let p = LogisticParams {
            tol: 1e-10,
            max_iter: 1000,
            ..LogisticParams::default()
        };
        let model = Logistic::fit(&x, &y, 2, &p).unwrap();
        let c = model.coefficients();
        for (got, want) in c.iter().zip([1.14552512, -0.16889346, -0.66303928]) {
            assert!((got - want).abs() < 1e-5, "{c:?}");
        }
        let proba = model.predict_proba(&x);
        assert!(proba.iter().all(|p| (p[0] + p[1] - 1.0).abs() < 1e-12));
    }

    #[test]
    fn same_model_on_one_or_two_threads() {
        // Several loss chunks, so that a thread-dependent sum order would show.
        let rows = 3 * CHUNK + 17;
        let mut uniform = crate::estimator::test_uniform(11);
        let mut next = || uniform() - 0.5;
        let values: Vec<f64> = (0..rows * 3).map(|_| next()).collect();
        let y: Vec<i32> = values
            .chunks_exact(3)
            .map(|r| i32::from(r[0] - r[1] + 0.3 * next() > 0.0))
            .collect();
        let x = DenseMatrix::new(rows, 3, values, false).unwrap();
        let fit = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Logistic::fit(&x, &y, 2, &LogisticParams::default()).unwrap())
        };
        assert_eq!(fit(1), fit(2));
    }

    #[test]
    fn multinomial_probabilities_follow_the_classes() {
        let x = DenseMatrix::new(6, 1, vec![-3.0, -2.5, 0.0, 0.2, 3.0, 2.6], false).unwrap();
        let y = [0, 0, 1, 1, 2, 2];
        let model = Logistic::fit(&x, &y, 3, &LogisticParams::default()).unwrap();
        let proba = model.predict_proba(&x);
        for (row, &label) in proba.iter().zip(&y) {
            let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(best, label as usize, "{proba:?}");
        }
    }
}
