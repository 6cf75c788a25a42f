//! k nearest neighbours (Euclidean), Cauce's own: a KD-tree for up to
//! [`KD_TREE_MAX_WIDTH`] features, brute force beyond (what scikit-learn's
//! `algorithm="auto"` picks), queries in parallel on rayon.
//!
//! The tree is scikit-learn's layout: a complete binary tree in an array
//! (node `i` has children `2i + 1`, `2i + 2`), each node a contiguous range
//! of the training rows (stored in tree order) split at its middle on the
//! feature of largest spread, with a bounding box per node; a query visits
//! the nearer child first and skips any node whose box is farther than the
//! current k-th neighbour. Leaves hold about [`LEAF_SIZE`] rows.
//!
//! Predictions follow scikit-learn's `KNeighborsClassifier` /
//! `KNeighborsRegressor`: `uniform` weights every neighbour 1, `distance`
//! weights it `1/d`, and a query with neighbours at distance 0 uses only
//! those (each weight 1). Class probabilities are the weighted shares.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::Weights;
use crate::estimator::{Proba, rows};
use crate::error::{Error, Result};

/// Above this many features the tree prunes too little: brute force.
const KD_TREE_MAX_WIDTH: usize = 15;
/// Rows per leaf (scikit-learn's default `leaf_size` is 30).
const LEAF_SIZE: usize = 30;
/// Queries per parallel task.
const QUERY_CHUNK: usize = 256;

/// What the neighbours vote with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KnnTarget {
    /// Class indexes, and the number of classes.
    Classes(Vec<u32>, usize),
    /// Values.
    Values(Vec<f64>),
}

/// A fitted kNN model: the training rows (in tree order) and their targets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Knn {
    k: usize,
    weights: Weights,
    width: usize,
    /// Training rows, row-major, in tree order.
    points: Vec<f64>,
    target: KnnTarget,
    /// The tree's nodes (empty: brute force).
    nodes: Vec<Node>,
}

/// One tree node: its rows and bounding box.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Node {
    start: usize,
    end: usize,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Knn {
    /// Checks a decoded model for `features` inputs and `classes` classes
    /// (0: regression): rows and targets agree, labels are classes, the
    /// tree's nodes are complete and cover only stored rows.
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), String> {
        if self.width != features || features == 0 || self.k == 0 {
            return Err(format!(
                "k {} over {} features, the model has {features}",
                self.k, self.width
            ));
        }
        let n = self.points.len() / features;
        if n == 0 || n * features != self.points.len() {
            return Err(format!(
                "{} stored values are not rows of {features}",
                self.points.len()
            ));
        }
        let targets = match &self.target {
            KnnTarget::Classes(labels, c) => {
                if *c != classes || labels.iter().any(|&l| l as usize >= classes) {
                    return Err(format!("labels outside the model's {classes} classes"));
                }
                labels.len()
            }
            KnnTarget::Values(values) if classes == 0 => values.len(),
            KnnTarget::Values(_) => return Err("a regressor in a classification model".into()),
        };
        if targets != n {
            return Err(format!("{n} rows but {targets} targets"));
        }
        let len = self.nodes.len();
        for (i, node) in self.nodes.iter().enumerate() {
            let children_fit = 2 * i + 1 >= len || 2 * i + 2 < len;
            if !children_fit || node.start > node.end || node.end > n {
                return Err(format!("tree node {i} is outside the stored rows"));
            }
            if node.lower.len() != features || node.upper.len() != features {
                return Err(format!("tree node {i} has a box of the wrong width"));
            }
        }
        Ok(())
    }
}

impl Knn {
    /// Keeps the training rows of `x` and builds the tree.
    pub fn fit(
        x: &DenseMatrix<f64>,
        target: KnnTarget,
        k: usize,
        weights: Weights,
    ) -> Result<Self> {
        let rows_of: Vec<&[f64]> = rows(x).collect();
        let n = rows_of.len();
        let target_len = match &target {
            KnnTarget::Classes(y, _) => y.len(),
            KnnTarget::Values(y) => y.len(),
        };
        if n == 0 || target_len != n {
            return Err(Error::Estimator {
                algorithm: "knn",
                message: format!("{n} training rows and {target_len} targets"),
            });
        }
        let width = rows_of[0].len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut nodes = Vec::new();
        if width <= KD_TREE_MAX_WIDTH && n > LEAF_SIZE {
            // Levels so that leaves hold at least LEAF_SIZE rows (scikit-learn's rule).
            let levels = 1 + ((n - 1) / LEAF_SIZE).max(1).ilog2() as usize;
            let count = (1usize << levels) - 1;
            nodes = vec![
                Node {
                    start: 0,
                    end: 0,
                    lower: Vec::new(),
                    upper: Vec::new(),
                };
                count
            ];
            build(&rows_of, &mut order, &mut nodes, 0, 0, n);
        }
        let points: Vec<f64> = order
            .iter()
            .flat_map(|&i| rows_of[i].iter().copied())
            .collect();
        let target = match target {
            KnnTarget::Classes(y, classes) => {
                KnnTarget::Classes(order.iter().map(|&i| y[i]).collect(), classes)
            }
            KnnTarget::Values(y) => KnnTarget::Values(order.iter().map(|&i| y[i]).collect()),
        };
        Ok(Self {
            k: k.min(n),
            weights,
            width,
            points,
            target,
            nodes,
        })
    }

    /// `f` of the `k` nearest training rows (squared distance, row in tree
    /// order) of every row of `x`, in parallel over the rows.
    fn each_query<T: Send>(
        &self,
        x: &DenseMatrix<f64>,
        f: impl Fn(&[(f64, usize)]) -> T + Sync,
    ) -> Vec<Vec<T>> {
        let queries: Vec<&[f64]> = rows(x).collect();
        queries
            .par_chunks(QUERY_CHUNK)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|q| {
                        let mut best = Best::new(self.k);
                        if self.nodes.is_empty() {
                            self.scan(q, 0, self.points.len() / self.width.max(1), &mut best);
                        } else {
                            self.search(q, 0, &mut best);
                        }
                        f(&best.found)
                    })
                    .collect()
            })
            .collect()
    }

    fn scan(&self, q: &[f64], start: usize, end: usize, best: &mut Best) {
        let w = self.width;
        for i in start..end {
            let point = &self.points[i * w..(i + 1) * w];
            let mut d = 0.0;
            for (a, b) in point.iter().zip(q) {
                d += (a - b) * (a - b);
            }
            best.offer(d, i);
        }
    }

    fn search(&self, q: &[f64], node: usize, best: &mut Best) {
        let n = &self.nodes[node];
        let left = 2 * node + 1;
        if left >= self.nodes.len() {
            self.scan(q, n.start, n.end, best);
            return;
        }
        let (near, far) = {
            let (dl, dr) = (self.min_distance(q, left), self.min_distance(q, left + 1));
            if dl <= dr {
                ((left, dl), (left + 1, dr))
            } else {
                ((left + 1, dr), (left, dl))
            }
        };
        for (child, d) in [near, far] {
            if d <= best.bound() {
                self.search(q, child, best);
            }
        }
    }

    /// Squared distance from `q` to node's bounding box.
    fn min_distance(&self, q: &[f64], node: usize) -> f64 {
        let n = &self.nodes[node];
        let mut d = 0.0;
        for ((v, lo), hi) in q.iter().zip(&n.lower).zip(&n.upper) {
            let gap = if v < lo {
                lo - v
            } else if v > hi {
                v - hi
            } else {
                0.0
            };
            d += gap * gap;
        }
        d
    }

    /// Neighbour weights, scikit-learn's rule (zero distances take all the weight).
    fn weigh(&self, neighbours: &[(f64, usize)]) -> Vec<(f64, usize)> {
        match self.weights {
            Weights::Uniform => neighbours.iter().map(|&(_, i)| (1.0, i)).collect(),
            Weights::Distance => {
                if neighbours.iter().any(|&(d, _)| d == 0.0) {
                    neighbours
                        .iter()
                        .map(|&(d, i)| (f64::from(u8::from(d == 0.0)), i))
                        .collect()
                } else {
                    neighbours
                        .iter()
                        .map(|&(d, i)| (1.0 / d.sqrt(), i))
                        .collect()
                }
            }
        }
    }

    /// Predictions as ONNX nodes over `x`: the squared distance to every
    /// stored row, the `k` nearest by `TopK` (ties to the earlier row),
    /// their weights (1, or `1/d` with a distance of 0 taking all the
    /// weight), then the weighted class shares or the weighted mean. The
    /// graph holds every training row, as the model does.
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> crate::onnx::Head {
        use crate::onnx::{Attr, Head};
        let rows = (self.points.len() / self.width) as i64;
        let points = graph.doubles("points", &[rows, self.width as i64], self.points.clone());
        let middle = graph.ints("row_axis", &[1], vec![1]);
        let queries = graph.op("Unsqueeze", &[x, &middle], vec![]);
        let diff = graph.op("Sub", &[&queries, &points], vec![]);
        let squared = graph.op("Mul", &[&diff, &diff], vec![]);
        let last = graph.ints("feature_axis", &[1], vec![2]);
        let distances = graph.op("ReduceSum", &[&squared, &last], vec![("keepdims", Attr::Int(0))]);
        let k = graph.ints("k", &[1], vec![self.k as i64]);
        let (nearest, index) = graph.op2(
            "TopK",
            &[&distances, &k],
            vec![("axis", Attr::Int(1)), ("largest", Attr::Int(0)), ("sorted", Attr::Int(1))],
        );
        let one = graph.doubles("one", &[], vec![1.0]);
        let weights = match self.weights {
            Weights::Uniform => {
                let shape = graph.op("Shape", &[&nearest], vec![]);
                graph.op("Expand", &[&one, &shape], vec![])
            }
            Weights::Distance => {
                let zero = graph.doubles("zero", &[], vec![0.0]);
                let exact = graph.op("Equal", &[&nearest, &zero], vec![]);
                let exact = graph.op("Cast", &[&exact], vec![("to", Attr::Int(11))]);
                let any = graph.op("ReduceMax", &[&exact, &middle], vec![("keepdims", Attr::Int(1))]);
                let any = graph.op("Greater", &[&any, &zero], vec![]);
                let root = graph.op("Sqrt", &[&nearest], vec![]);
                let inverse = graph.op("Reciprocal", &[&root], vec![]);
                graph.op("Where", &[&any, &exact, &inverse], vec![])
            }
        };
        let total = graph.op("ReduceSum", &[&weights, &middle], vec![("keepdims", Attr::Int(1))]);
        match &self.target {
            KnnTarget::Classes(labels, classes) => {
                let mut hot = vec![0.0; labels.len() * classes];
                for (i, &label) in labels.iter().enumerate() {
                    hot[i * classes + label as usize] = 1.0;
                }
                let hot = graph.doubles("classes_of_rows", &[rows, *classes as i64], hot);
                let votes = graph.op("Gather", &[&hot, &index], vec![("axis", Attr::Int(0))]);
                let weight = graph.op("Unsqueeze", &[&weights, &last], vec![]);
                let weighted = graph.op("Mul", &[&votes, &weight], vec![]);
                let sums = graph.op("ReduceSum", &[&weighted, &middle], vec![("keepdims", Attr::Int(0))]);
                Head::Probabilities(graph.op("Div", &[&sums, &total], vec![]))
            }
            KnnTarget::Values(values) => {
                let values = graph.doubles("values_of_rows", &[rows], values.clone());
                let found = graph.op("Gather", &[&values, &index], vec![("axis", Attr::Int(0))]);
                let weighted = graph.op("Mul", &[&found, &weights], vec![]);
                let sums = graph.op("ReduceSum", &[&weighted, &middle], vec![("keepdims", Attr::Int(1))]);
                Head::Values(graph.op("Div", &[&sums, &total], vec![]))
            }
        }
    }

    /// The number of classes of a classifier; `None` for a regressor.
    pub fn classes(&self) -> Option<usize> {
        match &self.target {
            KnnTarget::Classes(_, classes) => Some(*classes),
            KnnTarget::Values(_) => None,
        }
    }

    /// Class probabilities (classification).
    pub fn predict_proba(&self, x: &DenseMatrix<f64>) -> Result<Proba> {
        let KnnTarget::Classes(y, classes) = &self.target else {
            return Err(Error::Estimator {
                algorithm: "knn",
                message: "a regressor has no class probabilities".into(),
            });
        };
        let classes = *classes;
        let values = self
            .each_query(x, |found| {
                let mut p = vec![0.0; classes];
                let weighted = self.weigh(found);
                let total: f64 = weighted.iter().map(|w| w.0).sum();
                for (w, i) in weighted {
                    p[y[i] as usize] += w / total;
                }
                p
            })
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        Ok(Proba { classes, values })
    }

    /// Values (regression).
    pub fn predict_values(&self, x: &DenseMatrix<f64>) -> Result<Vec<f64>> {
        let KnnTarget::Values(y) = &self.target else {
            return Err(Error::Estimator {
                algorithm: "knn",
                message: "a classifier has no values".into(),
            });
        };
        Ok(self
            .each_query(x, |found| {
                let weighted = self.weigh(found);
                let total: f64 = weighted.iter().map(|w| w.0).sum();
                weighted.iter().map(|&(w, i)| w * y[i]).sum::<f64>() / total
            })
            .into_iter()
            .flatten()
            .collect())
    }
}

/// Fills node `node` with rows `order[start..end]` and recurses.
fn build(
    rows: &[&[f64]],
    order: &mut [usize],
    nodes: &mut [Node],
    node: usize,
    start: usize,
    end: usize,
) {
    let width = rows[order[start]].len();
    let mut lower = vec![f64::INFINITY; width];
    let mut upper = vec![f64::NEG_INFINITY; width];
    for &i in &order[start..end] {
        for (j, &v) in rows[i].iter().enumerate() {
            lower[j] = lower[j].min(v);
            upper[j] = upper[j].max(v);
        }
    }
    let left = 2 * node + 1;
    if left < nodes.len() {
        let spread = (0..width)
            .max_by(|&a, &b| (upper[a] - lower[a]).total_cmp(&(upper[b] - lower[b])))
            .unwrap_or(0);
        let mid = start + (end - start) / 2;
        order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            rows[a][spread].total_cmp(&rows[b][spread])
        });
        build(rows, order, nodes, left, start, mid);
        build(rows, order, nodes, left + 1, mid, end);
    }
    nodes[node] = Node {
        start,
        end,
        lower,
        upper,
    };
}

/// The `k` best (smallest squared distance) candidates, sorted, ties by row.
struct Best {
    k: usize,
    found: Vec<(f64, usize)>,
}

impl Best {
    fn new(k: usize) -> Self {
        Self {
            k,
            found: Vec::with_capacity(k + 1),
        }
    }

    /// The distance a candidate must beat (∞ until `k` are found).
    fn bound(&self) -> f64 {
        if self.found.len() < self.k {
            f64::INFINITY
        } else {
            self.found.last().map_or(f64::INFINITY, |b| b.0)
        }
    }

    /// Keeps `(d, i)` if it is among the `k` smallest so far, by distance
    /// then by row: of rows equally far at the k-th place the earlier one
    /// is kept, whatever order the search meets them in (as ONNX's `TopK`
    /// does, so an exported model finds the same neighbours).
    fn offer(&mut self, d: f64, i: usize) {
        if self.found.len() == self.k && self.found.last().is_some_and(|&last| (d, i) >= last) {
            return;
        }
        let at = self.found.partition_point(|&(e, j)| (e, j) < (d, i));
        self.found.insert(at, (d, i));
        self.found.truncate(self.k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::test_uniform;

    fn matrix(values: Vec<f64>, width: usize) -> DenseMatrix<f64> {
        DenseMatrix::new(values.len() / width, width, values, false).unwrap()
    }

    /// The tree finds exactly the neighbours brute force finds.
    #[test]
    fn tree_and_brute_force_agree() {
        let mut u = test_uniform(11);
        let width = 4;
        // Rounded values: many ties.
        let train: Vec<f64> = (0..5000 * width).map(|_| (u() * 20.0).round()).collect();
        let queries: Vec<f64> = (0..300 * width).map(|_| (u() * 20.0).round()).collect();
        let y: Vec<f64> = (0..5000).map(|i| f64::from(i % 7)).collect();
        let x = matrix(train.clone(), width);
        let tree = Knn::fit(&x, KnnTarget::Values(y.clone()), 5, Weights::Uniform).unwrap();
        assert!(!tree.nodes.is_empty());
        let q = matrix(queries, width);
        let found: Vec<Vec<(f64, usize)>> = tree
            .each_query(&q, <[_]>::to_vec)
            .into_iter()
            .flatten()
            .collect();
        for (qi, row) in rows(&q).enumerate() {
            let mut all: Vec<f64> = rows(&x)
                .map(|p| p.iter().zip(row).map(|(a, b)| (a - b) * (a - b)).sum())
                .collect();
            all.sort_by(f64::total_cmp);
            let got: Vec<f64> = found[qi].iter().map(|f| f.0).collect();
            assert_eq!(got, all[..5], "query {qi}");
        }
    }

    #[test]
    fn predictions_follow_scikit_learns_weights() {
        // 1-D: training points 0, 1, 2, 10 with targets 0, 1, 2, 10.
        let x = matrix(vec![0.0, 1.0, 2.0, 10.0], 1);
        let y = vec![0.0, 1.0, 2.0, 10.0];
        let uniform = Knn::fit(&x, KnnTarget::Values(y.clone()), 2, Weights::Uniform).unwrap();
        let q = matrix(vec![0.4, 1.2, 9.0], 1);
        assert_eq!(uniform.predict_values(&q).unwrap(), [0.5, 1.5, 6.0]);
        let distance = Knn::fit(&x, KnnTarget::Values(y), 2, Weights::Distance).unwrap();
        let p = distance.predict_values(&q).unwrap();
        // 0.4: weights 1/0.4 and 1/0.6 → (0·2.5 + 1·1.667) / 4.167 = 0.4.
        assert!((p[0] - 0.4).abs() < 1e-12, "{p:?}");
        let exact = distance.predict_values(&matrix(vec![1.0], 1)).unwrap();
        assert_eq!(exact, [1.0], "a zero distance takes all the weight");
        let classes = Knn::fit(
            &x,
            KnnTarget::Classes(vec![0, 0, 1, 1], 2),
            3,
            Weights::Uniform,
        )
        .unwrap()
        .predict_proba(&matrix(vec![0.0], 1))
        .unwrap();
        assert_eq!(classes.values.len(), 2);
        assert!((classes.values[0] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn wide_data_uses_brute_force_and_k_is_capped() {
        let x = matrix((0..3 * 20).map(f64::from).collect(), 20);
        let knn = Knn::fit(
            &x,
            KnnTarget::Values(vec![1.0, 2.0, 3.0]),
            10,
            Weights::Uniform,
        )
        .unwrap();
        assert!(knn.nodes.is_empty());
        assert_eq!(knn.predict_values(&x).unwrap(), [2.0, 2.0, 2.0]);
    }
}
