//! Support vector machines. smartcore's SMO solver fits them (one binary SVC
//! per pair of classes, on rayon; or one SVR); this module keeps what the
//! solver learned — support vectors, their weights, the bias and the kernel —
//! as plain data and evaluates the decision function itself. smartcore's own
//! fitted SVC/SVR borrow their parameters and lose the kernel when
//! deserialized, so a loaded smartcore SVM cannot predict; these can.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::svm::Kernels;
use smartcore::svm::svc::{SVC, SVCParameters};
use smartcore::svm::svr::{SVR, SVRParameters};

use super::params::{Gamma, KernelName, SvmParams};
use crate::estimator::{rows, trained};
use crate::error::{Error, Result};

/// A kernel with every parameter resolved (gamma is a number here).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kernel {
    /// `⟨a, b⟩`.
    Linear,
    /// `exp(−γ‖a − b‖²)`.
    Rbf {
        /// γ.
        gamma: f64,
    },
    /// `(γ⟨a, b⟩ + coef0)^degree`.
    Poly {
        /// γ.
        gamma: f64,
        /// Exponent.
        degree: f64,
        /// Constant term.
        coef0: f64,
    },
    /// `tanh(γ⟨a, b⟩ + coef0)`.
    Sigmoid {
        /// γ.
        gamma: f64,
        /// Constant term.
        coef0: f64,
    },
}

impl Kernel {
    /// Resolves `params` for training data `x` (`gamma: scale` uses its variance).
    fn resolve(params: &SvmParams, x: &DenseMatrix<f64>) -> Self {
        let (rows, width) = x.shape();
        let gamma = match params.gamma {
            Gamma::Value(g) => g,
            Gamma::Rule(rule) => {
                let values = x.iter().as_slice();
                let n = (rows * width) as f64;
                let mean = values.iter().sum::<f64>() / n;
                let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                rule.gamma(width, variance)
            }
        };
        match params.kernel {
            KernelName::Linear => Self::Linear,
            KernelName::Rbf => Self::Rbf { gamma },
            KernelName::Poly => Self::Poly {
                gamma,
                degree: params.degree,
                coef0: params.coef0,
            },
            KernelName::Sigmoid => Self::Sigmoid {
                gamma,
                coef0: params.coef0,
            },
        }
    }

    /// The same kernel for smartcore's solver.
    fn smartcore(self) -> Kernels {
        match self {
            Self::Linear => Kernels::linear(),
            Self::Rbf { gamma } => Kernels::rbf().with_gamma(gamma),
            Self::Poly {
                gamma,
                degree,
                coef0,
            } => Kernels::polynomial()
                .with_gamma(gamma)
                .with_degree(degree)
                .with_coef0(coef0),
            Self::Sigmoid { gamma, coef0 } => {
                Kernels::sigmoid().with_gamma(gamma).with_coef0(coef0)
            }
        }
    }

    /// `K(a, b)`, with smartcore's formulas.
    fn apply(self, a: &[f64], b: &[f64]) -> f64 {
        let dot = || a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        match self {
            Self::Linear => dot(),
            Self::Rbf { gamma } => {
                let squared: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
                (-gamma * squared).exp()
            }
            Self::Poly {
                gamma,
                degree,
                coef0,
            } => (gamma * dot() + coef0).powf(degree),
            Self::Sigmoid { gamma, coef0 } => (gamma * dot() + coef0).tanh(),
        }
    }
}

/// `f(x) = b + Σ wᵢ K(svᵢ, x)`: what one solver run learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Decision {
    /// Support vectors, row-major, `width` values each.
    vectors: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

impl Decision {
    fn validate(&self, width: usize) -> Result<(), String> {
        if self.vectors.len() != self.weights.len() * width {
            return Err(format!(
                "{} support vector values for {} weights of width {width}",
                self.vectors.len(),
                self.weights.len()
            ));
        }
        Ok(())
    }
}

impl Decision {
    fn value(&self, kernel: Kernel, width: usize, row: &[f64]) -> f64 {
        if width == 0 {
            return self.bias;
        }
        self.vectors
            .chunks_exact(width)
            .zip(&self.weights)
            .map(|(sv, w)| w * kernel.apply(sv, row))
            .sum::<f64>()
            + self.bias
    }

    /// Reads the learned state out of a fitted smartcore model's serde form
    /// (its fields are private): `instances`, `w`, `b`.
    fn from_smartcore<M: Serialize>(model: &M, what: &'static str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Learned {
            instances: Option<Vec<Vec<f64>>>,
            w: Option<Vec<f64>>,
            b: Option<f64>,
        }
        let learned: Learned = serde_json::to_value(model)
            .and_then(serde_json::from_value)
            .map_err(|e| estimator(what, format!("reading the fitted solver: {e}")))?;
        let (Some(instances), Some(weights), Some(bias)) =
            (learned.instances, learned.w, learned.b)
        else {
            return Err(estimator(
                what,
                "the solver returned an unfitted model".into(),
            ));
        };
        Ok(Self {
            vectors: instances.into_iter().flatten().collect(),
            weights,
            bias,
        })
    }
}

impl Kernel {
    /// The kernel between every row of `x` (`[N, width]`) and every row of
    /// the constant `vectors` (`[S, width]`) as ONNX nodes: `[N, S]`.
    fn onnx(self, graph: &mut crate::onnx::Graph, x: &str, vectors: &str) -> String {
        use crate::onnx::Attr;
        let dot = |graph: &mut crate::onnx::Graph| {
            let transposed = graph.op("Transpose", &[vectors], vec![("perm", Attr::Ints(vec![1, 0]))]);
            graph.op("MatMul", &[x, &transposed], vec![])
        };
        let affine = |graph: &mut crate::onnx::Graph, gamma: f64, coef0: f64| {
            let product = dot(graph);
            let gamma = graph.doubles("gamma", &[], vec![gamma]);
            let scaled = graph.op("Mul", &[&product, &gamma], vec![]);
            let coef0 = graph.doubles("coef0", &[], vec![coef0]);
            graph.op("Add", &[&scaled, &coef0], vec![])
        };
        match self {
            Self::Linear => dot(graph),
            Self::Rbf { gamma } => {
                let axis = graph.ints("vector_axis", &[1], vec![1]);
                let rows = graph.op("Unsqueeze", &[x, &axis], vec![]);
                let diff = graph.op("Sub", &[&rows, vectors], vec![]);
                let squared = graph.op("Mul", &[&diff, &diff], vec![]);
                let last = graph.ints("feature_axis", &[1], vec![2]);
                let distance =
                    graph.op("ReduceSum", &[&squared, &last], vec![("keepdims", Attr::Int(0))]);
                let minus_gamma = graph.doubles("minus_gamma", &[], vec![-gamma]);
                let exponent = graph.op("Mul", &[&distance, &minus_gamma], vec![]);
                graph.op("Exp", &[&exponent], vec![])
            }
            Self::Poly {
                gamma,
                degree,
                coef0,
            } => {
                let base = affine(graph, gamma, coef0);
                let degree = graph.doubles("degree", &[], vec![degree]);
                graph.op("Pow", &[&base, &degree], vec![])
            }
            Self::Sigmoid { gamma, coef0 } => {
                let base = affine(graph, gamma, coef0);
                graph.op("Tanh", &[&base], vec![])
            }
        }
    }
}

/// The decision values of `decisions` over `x` as ONNX nodes, `[N, count]`:
/// every support vector in one constant, each decision's weights in its
/// column of one weight matrix, then the biases.
fn decisions_onnx(
    graph: &mut crate::onnx::Graph,
    x: &str,
    kernel: Kernel,
    width: usize,
    decisions: &[&Decision],
) -> String {
    let count = decisions.len();
    let total: usize = decisions.iter().map(|d| d.weights.len()).sum();
    let mut vectors = Vec::with_capacity(total * width);
    let mut weights = vec![0.0; total * count];
    let mut row = 0;
    for (column, decision) in decisions.iter().enumerate() {
        vectors.extend_from_slice(&decision.vectors);
        for w in &decision.weights {
            weights[row * count + column] = *w;
            row += 1;
        }
    }
    let vectors = graph.doubles("support_vectors", &[total as i64, width as i64], vectors);
    let kernel = kernel.onnx(graph, x, &vectors);
    let weights = graph.doubles("dual_weights", &[total as i64, count as i64], weights);
    let sums = graph.op("MatMul", &[&kernel, &weights], vec![]);
    let bias: Vec<f64> = decisions.iter().map(|d| d.bias).collect();
    let bias = graph.doubles("bias", &[count as i64], bias);
    graph.op("Add", &[&sums, &bias], vec![])
}

fn estimator(algorithm: &'static str, message: String) -> Error {
    Error::Estimator { algorithm, message }
}

/// A fitted support vector classifier: one binary machine per pair of
/// classes, predicting by their votes (ties broken by summed confidence, as
/// scikit-learn's SVC does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmClassifier {
    kernel: Kernel,
    width: usize,
    classes: usize,
    /// `(a, b, f)`: `f(x) > 0` votes for class `b`, otherwise `a`.
    pairs: Vec<(usize, usize, Decision)>,
}

impl SvmClassifier {
    /// Checks a decoded model for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.width != features || self.classes != classes || self.pairs.is_empty() {
            return Err(format!(
                "{} machines over {} features for {} classes, the model has {features} and {classes}",
                self.pairs.len(),
                self.width,
                self.classes
            ));
        }
        self.pairs.iter().try_for_each(|(a, b, decision)| {
            if *a >= classes || *b >= classes {
                return Err(format!("a machine votes for class {a} or {b} of {classes}"));
            }
            decision.validate(features)
        })
    }
}

impl SvmClassifier {
    /// Fits on `x` and class indexes `y` in `0..classes`; pairs train in parallel.
    pub fn fit(
        x: &DenseMatrix<f64>,
        y: &[i32],
        classes: usize,
        params: &SvmParams,
        seed: u64,
    ) -> Result<Self> {
        let width = x.shape().1;
        let kernel = Kernel::resolve(params, x);
        let present: Vec<usize> = (0..classes).filter(|&c| y.contains(&(c as i32))).collect();
        if present.len() < 2 {
            return Err(Error::Data(
                "svm needs at least two classes in the training rows".into(),
            ));
        }
        let pairs: Vec<(usize, usize)> = present
            .iter()
            .enumerate()
            .flat_map(|(i, &a)| present[i + 1..].iter().map(move |&b| (a, b)))
            .collect();
        let pairs = pairs
            .into_par_iter()
            .map(|(a, b)| {
                let (mut values, mut sub_y) = (Vec::new(), Vec::new());
                for (row, &label) in rows(x).zip(y) {
                    if label == a as i32 || label == b as i32 {
                        values.extend_from_slice(row);
                        // 0 and 1 so that smartcore's `classes` is (a, b) in that order.
                        sub_y.push(i32::from(label == b as i32));
                    }
                }
                let sub_x = DenseMatrix::new(sub_y.len(), width, values, false)
                    .map_err(|e| Error::Data(e.to_string()))?;
                let solver = SVCParameters::default()
                    .with_c(params.c)
                    .with_tol(params.tol)
                    .with_epoch(params.epochs)
                    .with_kernel(kernel.smartcore())
                    .with_seed(Some(seed ^ ((a as u64) << 32 | b as u64)));
                let svc = trained("svm", SVC::fit(&sub_x, &sub_y, &solver))?;
                Ok((a, b, Decision::from_smartcore(&svc, "svm")?))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            kernel,
            width,
            classes,
            pairs,
        })
    }

    /// One-vs-one voting as ONNX nodes over `x`: each pair's decision,
    /// a vote for its second class when positive (else its first), and the
    /// same score as [`predict`](Self::predict) (votes plus the squashed
    /// confidence), whose largest is the class.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        let decisions: Vec<&Decision> = self.pairs.iter().map(|(_, _, d)| d).collect();
        let f = decisions_onnx(graph, x, self.kernel, self.width, &decisions);
        let (pairs, classes) = (self.pairs.len(), self.classes);
        let mut first = vec![0.0; pairs * classes];
        let mut second = vec![0.0; pairs * classes];
        for (p, (a, b, _)) in self.pairs.iter().enumerate() {
            first[p * classes + a] = 1.0;
            second[p * classes + b] = 1.0;
        }
        let toward: Vec<f64> = second.iter().zip(&first).map(|(b, a)| b - a).collect();
        let dims = [pairs as i64, classes as i64];
        let first = graph.doubles("first_class", &dims, first);
        let second = graph.doubles("second_class", &dims, second);
        let toward = graph.doubles("pair_direction", &dims, toward);
        let zero = graph.doubles("zero", &[], vec![0.0]);
        let positive = graph.op("Greater", &[&f, &zero], vec![]);
        let positive = graph.op("Cast", &[&positive], vec![("to", crate::onnx::Attr::Int(11))]);
        let one = graph.doubles("one", &[], vec![1.0]);
        let negative = graph.op("Sub", &[&one, &positive], vec![]);
        let for_second = graph.op("MatMul", &[&positive, &second], vec![]);
        let for_first = graph.op("MatMul", &[&negative, &first], vec![]);
        let votes = graph.op("Add", &[&for_second, &for_first], vec![]);
        let confidence = graph.op("MatMul", &[&f, &toward], vec![]);
        let size = graph.op("Abs", &[&confidence], vec![]);
        let size = graph.op("Add", &[&size, &one], vec![]);
        let three = graph.doubles("three", &[], vec![3.0]);
        let size = graph.op("Mul", &[&size, &three], vec![]);
        let squashed = graph.op("Div", &[&confidence, &size], vec![]);
        graph.op("Add", &[&votes, &squashed], vec![])
    }

    /// Class index of every row of `x`.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Vec<usize> {
        rows(x)
            .map(|row| {
                let mut votes = vec![0.0; self.classes];
                let mut confidence = vec![0.0; self.classes];
                for (a, b, decision) in &self.pairs {
                    let f = decision.value(self.kernel, self.width, row);
                    votes[if f > 0.0 { *b } else { *a }] += 1.0;
                    confidence[*b] += f;
                    confidence[*a] -= f;
                }
                // Confidence only breaks ties: squashed into (−1/3, 1/3).
                let score =
                    |c: usize| votes[c] + confidence[c] / (3.0 * (confidence[c].abs() + 1.0));
                (0..self.classes)
                    .max_by(|&p, &q| score(p).total_cmp(&score(q)).then(q.cmp(&p)))
                    .unwrap_or(0)
            })
            .collect()
    }
}

/// A fitted epsilon-insensitive support vector regressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmRegressor {
    kernel: Kernel,
    width: usize,
    decision: Decision,
}

impl SvmRegressor {
    /// Checks a decoded model for `features` inputs.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if self.width != features {
            return Err(format!("{} features, the model has {features}", self.width));
        }
        self.decision.validate(features)
    }
}

impl SvmRegressor {
    /// Fits on `x` and values `y`.
    pub fn fit(x: &DenseMatrix<f64>, y: &[f64], params: &SvmParams) -> Result<Self> {
        let kernel = Kernel::resolve(params, x);
        let solver = SVRParameters::default()
            .with_c(params.c)
            .with_eps(params.epsilon)
            .with_tol(params.tol)
            .with_kernel(kernel.smartcore());
        let y = y.to_vec();
        let svr = trained("svm", SVR::fit(x, &y, &solver))?;
        Ok(Self {
            kernel,
            width: x.shape().1,
            decision: Decision::from_smartcore(&svr, "svm")?,
        })
    }

    /// The decision value as ONNX nodes over `x`, `[N, 1]`.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> String {
        decisions_onnx(graph, x, self.kernel, self.width, &[&self.decision])
    }

    /// The prediction for every row of `x`.
    pub fn predict(&self, x: &DenseMatrix<f64>) -> Vec<f64> {
        rows(x)
            .map(|row| self.decision.value(self.kernel, self.width, row))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use smartcore::svm::Kernel as _;

    use super::*;

    #[test]
    fn kernels_match_smartcore() {
        let (a, b) = (vec![0.5, -1.0, 2.0], vec![1.5, 0.25, -0.75]);
        for kernel in [
            Kernel::Linear,
            Kernel::Rbf { gamma: 0.3 },
            Kernel::Poly {
                gamma: 0.5,
                degree: 3.0,
                coef0: 1.0,
            },
            Kernel::Sigmoid {
                gamma: 0.2,
                coef0: 0.1,
            },
        ] {
            let theirs = kernel.smartcore().apply(&a, &b).unwrap();
            assert!((kernel.apply(&a, &b) - theirs).abs() < 1e-12, "{kernel:?}");
        }
    }

    #[test]
    fn decision_matches_smartcore_predictions() {
        // Two noisy blobs: our decision function must agree with smartcore's
        // own predict on the model it just fitted.
        let mut uniform = crate::estimator::test_uniform(7);
        let mut noise = || uniform() - 0.5;
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for i in 0..80 {
            let class = i % 2;
            let centre = if class == 0 { -1.0 } else { 1.0 };
            values.extend([centre + 1.5 * noise(), centre + 1.5 * noise()]);
            labels.push(class);
        }
        let x = DenseMatrix::new(80, 2, values, false).unwrap();
        let params = SvmParams::default();
        let ours = SvmClassifier::fit(&x, &labels, 2, &params, 1).unwrap();
        let solver = SVCParameters::default()
            .with_kernel(ours.kernel.smartcore())
            .with_seed(Some(1 ^ 1));
        let theirs = SVC::fit(&x, &labels, &solver).unwrap().predict(&x).unwrap();
        let theirs: Vec<usize> = theirs.iter().map(|&v| v as usize).collect();
        assert_eq!(ours.predict(&x), theirs);
        let correct = theirs
            .iter()
            .zip(&labels)
            .filter(|(p, y)| **p == **y as usize)
            .count();
        assert!(correct >= 60, "{correct}/80");
    }
}
