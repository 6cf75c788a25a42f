//! The boosting loop and the fitted model. Each round computes every
//! training row's gradients at the current scores, grows one tree per
//! output (classes of a softmax in parallel) on the round's rows and
//! features, and adds its leaves to the scores. With early stopping a seeded
//! holdout is scored every round, and the trees after the round with the
//! lowest holdout loss are dropped, as LightGBM's `best_iteration` does.
//! Every random draw (holdout, rows, features) comes from the seed, and no
//! sum depends on the thread count, so the same data, parameters and seed
//! give the same bytes.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::BoostingParams;
use super::bins::Binned;
use super::grow::{Gradients, Grown, Settings, grow};
use super::loss::Loss;
use super::tree::{BoostedTree, LANES};
use crate::estimator::compiled::{BLOCK, Compiled, Lazy, padded};
use super::RegressionLoss;
use crate::estimator::hist_tree::Rng;
use crate::features::median;
use crate::estimator::{Proba, Target, Validation, rows};
use crate::error::{Error, Result, params};

/// Training rows the per-round training loss is measured on, at most.
pub const TRAIN_SCORE_ROWS: usize = 10_000;

/// The losses of every round: what the report plots, and the round kept
/// (the training record's type, stored in the artifact as it is in the card).
pub use records::training::LossHistory as History;

/// A fitted gradient-boosted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    loss: Loss,
    /// Classes (0: regression).
    classes: usize,
    /// Features it was fitted on.
    width: usize,
    /// Starting score of each output.
    base: Vec<f64>,
    /// Round-major: round `i`'s tree for output `k` is `trees[i * outputs + k]`.
    trees: Vec<BoostedTree>,
    /// Total split gain per feature over the trees kept.
    gains: Vec<f64>,
    /// Losses per round.
    history: History,
    /// The trees compiled for prediction, on first use.
    #[serde(skip)]
    compiled: Lazy<Option<Compiled<u8>>>,
}

impl Booster {
    /// Fits on `x` and `y` with `p`; `seed` draws the holdout, rows and
    /// features. With early stopping, `validation` (when given) is what it
    /// stops on; otherwise a seeded share of the rows is held out.
    pub fn fit(
        x: &DenseMatrix<f64>,
        y: &Target,
        validation: Option<&Validation<'_>>,
        p: &BoostingParams,
        seed: u64,
    ) -> Result<Self> {
        let width = x.shape().1;
        let (truth, classes) = truth_of(y);
        if x.shape().0 == 0 || truth.len() != x.shape().0 {
            return Err(Error::Data(format!(
                "gradient_boosting: {} rows and {} targets",
                x.shape().0,
                truth.len()
            )));
        }
        if classes > 0 && p.loss.is_some_and(|l| l != RegressionLoss::SquaredError) {
            return Err(params(
                "params.loss",
                "absolute_error and huber are regression losses; classification minimises log loss",
            ));
        }
        let mut rng = Rng(seed);
        // The validation split's rows go after the training rows, binned
        // with the training rows' edges and scored like a holdout.
        let stacked = match validation.filter(|_| p.early_stopping_rounds.is_some()) {
            Some(v) if v.x.shape().0 > 0 => Some(stack(x, &truth, v)?),
            _ => None,
        };
        let (x, truth, train, holdout, from) = match stacked {
            Some((all, truth)) => {
                let n = x.shape().0 as u32;
                let total = all.shape().0 as u32;
                let rows = ((0..n).collect(), (n..total).collect());
                (std::borrow::Cow::Owned(all), truth, rows.0, rows.1, "validation split")
            }
            None => {
                let (train, holdout) = split_holdout(x.shape().0, p, &mut rng);
                let from = if holdout.is_empty() { "none" } else { "training holdout" };
                (std::borrow::Cow::Borrowed(x), truth, train, holdout, from)
            }
        };
        let x = x.as_ref();
        let n = x.shape().0;
        let loss = Loss::for_classes(classes, p.regression_loss());
        let outputs = loss.outputs(classes);
        if train.is_empty() {
            return Err(Error::Data("gradient_boosting: no training rows".into()));
        }
        let scored = sample_of(&train, TRAIN_SCORE_ROWS, &mut rng);
        let started = std::time::Instant::now();
        let data = Binned::new(x, &train);
        log::debug!(
            "gradient_boosting: {n} rows × {width} features binned into {} groups in {:.2} s",
            data.groups(),
            started.elapsed().as_secs_f64()
        );
        let started = std::time::Instant::now();
        let base = loss.initial(&truth, &train, outputs);
        let mut scores: Vec<f64> = (0..n).flat_map(|_| base.iter().copied()).collect();
        let mut gh = vec![[0.0f32; 2]; n * outputs];
        let settings = Settings {
            max_leaves: p.max_leaves,
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf as f64,
            min_child_weight: p.min_child_weight,
            l2: p.l2_regularization,
            min_gain: p.min_gain_to_split,
            learning_rate: p.learning_rate,
        };
        // The trees grown so far with their split gains (a grown tree's row
        // lists are dropped once its scores are added).
        let mut trees: Vec<(BoostedTree, Vec<f64>)> = Vec::new();
        let mut history = History {
            metric: loss.metric().into(),
            train: Vec::new(),
            validation: Vec::new(),
            validation_from: from.into(),
            validation_rows: holdout.len(),
            best_iteration: 0,
        };
        let mut best = (f64::INFINITY, 0);
        for round in 0..p.n_estimators {
            loss.gradients(&scores, &truth, outputs, &mut gh);
            let rows = sample_rows(&train, p.subsample, &mut rng);
            let features = sample_features(width, p.colsample_bytree, &mut rng);
            let mut grown: Vec<Grown> = (0..outputs)
                .into_par_iter()
                .map(|output| {
                    let grad = Gradients {
                        gh: &gh,
                        outputs,
                        output,
                    };
                    grow(&data, grad, rows.clone(), &features, &settings)
                })
                .collect();
            if loss.refits_leaves() {
                for tree in &mut grown {
                    refit_to_median(tree, &scores, &truth, p.learning_rate);
                }
            }
            // Rows the trees were not grown on (the holdout, and training
            // rows out of the bag) take their paths through their bins.
            let out_of_bag;
            let others = if rows.len() == train.len() {
                &holdout
            } else {
                out_of_bag = out_of(&rows, n);
                &out_of_bag
            };
            for (output, tree) in grown.iter().enumerate() {
                add_leaves(tree, &mut scores, outputs, output);
                add_binned(tree, &data, others, &mut scores, outputs, output);
            }
            trees.extend(grown.into_iter().map(|g| (g.tree, g.gains)));
            history
                .train
                .push(loss.mean(&scores, &truth, outputs, &scored));
            if let Some(patience) = p.early_stopping_rounds {
                let validation = loss.mean(&scores, &truth, outputs, &holdout);
                history.validation.push(validation);
                if validation < best.0 {
                    best = (validation, round + 1);
                } else if round + 1 - best.1 >= patience {
                    break;
                }
            }
        }
        log::debug!(
            "gradient_boosting: {} rounds in {:.2} s",
            trees.len() / outputs,
            started.elapsed().as_secs_f64()
        );
        let kept = match p.early_stopping_rounds {
            Some(_) => best.1.max(1),
            None => trees.len() / outputs,
        };
        trees.truncate(kept * outputs);
        history.best_iteration = kept;
        let mut gains = vec![0.0; width];
        for (_, tree_gains) in &trees {
            gains.iter_mut().zip(tree_gains).for_each(|(a, b)| *a += b);
        }
        Ok(Self {
            loss,
            classes,
            width,
            base,
            trees: trees.into_iter().map(|(tree, _)| tree).collect(),
            gains,
            history,
            compiled: Lazy::default(),
        })
    }

    /// The loss it minimised.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Losses per round and the round kept.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Total split gain per feature.
    pub fn gains(&self) -> Vec<f64> {
        self.gains.clone()
    }

    fn outputs(&self) -> usize {
        self.base.len()
    }

    /// The booster as ONNX nodes over `x`: one `TreeEnsemble` summing each
    /// output's trees, the starting scores added, then the loss's link
    /// (the sigmoid or the softmax of a classifier).
    pub(crate) fn onnx(&self, graph: &mut crate::onnx::Graph, x: &str) -> crate::onnx::Head {
        use crate::onnx::{Attr, Head};
        let outputs = self.outputs();
        let mut ensemble = crate::onnx::Ensemble::default();
        for (t, tree) in self.trees.iter().enumerate() {
            tree.onnx(&mut ensemble, t % outputs);
        }
        let sums = ensemble.finish(graph, x, outputs);
        let base = graph.doubles("base", &[outputs as i64], self.base.clone());
        let scores = graph.op("Add", &[&sums, &base], vec![]);
        match self.loss {
            Loss::LogLoss => {
                let p1 = graph.op("Sigmoid", &[&scores], vec![]);
                let one = graph.doubles("one", &[], vec![1.0]);
                let p0 = graph.op("Sub", &[&one, &p1], vec![]);
                Head::Probabilities(graph.op("Concat", &[&p0, &p1], vec![("axis", Attr::Int(1))]))
            }
            Loss::Softmax => {
                Head::Probabilities(graph.op("Softmax", &[&scores], vec![("axis", Attr::Int(1))]))
            }
            Loss::SquaredError | Loss::AbsoluteError | Loss::Huber { .. } => Head::Values(scores),
        }
    }

    /// Raw scores of every row (`rows × outputs`, row-major): blocks of rows
    /// on rayon, every tree walked over a block before the next. A block
    /// without NaN walks the compiled trees (byte-sized bins, see
    /// [`compiled`](crate::estimator::compiled)); one with NaN walks the
    /// trees on raw values, where every split sends NaN its own way.
    pub fn raw_scores(&self, x: &DenseMatrix<f64>) -> Vec<f64> {
        let outputs = self.outputs();
        let all: Vec<&[f64]> = rows(x).collect();
        let compiled = self
            .compiled
            .get_or_init(|| Compiled::new(&self.trees, x.shape().1));
        let mut out = vec![0.0; all.len() * outputs];
        out.par_chunks_mut(BLOCK * outputs)
            .zip(all.par_chunks(BLOCK))
            .for_each(|(out, block)| {
                let mut sums = vec![0.0; block.len() * outputs];
                let clean = || block.iter().all(|row| !row.iter().any(|v| v.is_nan()));
                match compiled {
                    Some(compiled) if clean() => self.add_compiled(compiled, block, &mut sums),
                    _ => self.add_walked(block, &mut sums),
                }
                for (o, (s, b)) in out
                    .iter_mut()
                    .zip(sums.iter().zip(self.base.iter().cycle()))
                {
                    *o = b + s;
                }
            });
        out
    }

    /// Adds every tree's score of a block's rows, walked on raw values.
    fn add_walked(&self, block: &[&[f64]], sums: &mut [f64]) {
        let outputs = self.outputs();
        let mut lane = [0.0; LANES];
        for (t, tree) in self.trees.iter().enumerate() {
            let k = t % outputs;
            for (c, rows) in block.chunks(LANES).enumerate() {
                lane.fill(0.0);
                tree.add_scores(rows, &mut lane);
                for (i, v) in lane.iter().take(rows.len()).enumerate() {
                    sums[(c * LANES + i) * outputs + k] += v;
                }
            }
        }
    }

    /// The same through the compiled trees (the block has no NaN).
    fn add_compiled(&self, compiled: &Compiled<u8>, block: &[&[f64]], sums: &mut [f64]) {
        let outputs = self.outputs();
        let bins = compiled.bins(block, self.width);
        let n = padded(block.len());
        let mut leaves = vec![0u32; n];
        for (t, tree) in self.trees.iter().enumerate() {
            let k = t % outputs;
            compiled.leaves(t, &bins, n, &mut leaves);
            for (sum, &leaf) in sums.iter_mut().skip(k).step_by(outputs).zip(&leaves) {
                *sum += tree.value(leaf as usize);
            }
        }
    }

    /// Predicted values (regression).
    pub fn predict_values(&self, x: &DenseMatrix<f64>) -> Vec<f64> {
        self.raw_scores(x)
    }

    /// Class probabilities (classification).
    pub fn predict_proba(&self, x: &DenseMatrix<f64>) -> Proba {
        let outputs = self.outputs();
        let scores = self.raw_scores(x);
        let mut values = vec![0.0; scores.len() / outputs * self.classes];
        values
            .par_chunks_mut(self.classes)
            .zip(scores.par_chunks(outputs))
            .for_each(|(p, s)| self.loss.probabilities(s, p));
        Proba {
            classes: self.classes,
            values,
        }
    }

    /// Checks a decoded model for `features` inputs and `classes` classes.
    pub fn validate(&self, features: usize, classes: usize) -> std::result::Result<(), String> {
        if self.classes != classes || !self.loss.fits(classes) {
            return Err(format!(
                "a {:?} booster for {} classes in a model with {classes}",
                self.loss, self.classes
            ));
        }
        let outputs = self.loss.outputs(classes);
        if self.width != features || self.gains.len() != features {
            return Err(format!("{} features, the model has {features}", self.width));
        }
        if self.base.len() != outputs || self.trees.is_empty() || !self.trees.len().is_multiple_of(outputs) {
            return Err(format!(
                "{} trees and {} base scores for {outputs} outputs",
                self.trees.len(),
                self.base.len()
            ));
        }
        // A row's score is a base plus one leaf per tree: bounding each so
        // that the sum stays finite keeps NaN out of the probabilities.
        let bound = f64::MAX / (self.trees.len() + 1) as f64;
        if let Some(b) = self.base.iter().find(|b| b.is_nan() || b.abs() > bound) {
            return Err(format!("a base score of {b:e}"));
        }
        self.trees.iter().try_for_each(|t| t.validate(features, bound))
    }
}

/// The training target as numbers (class indexes for classification) and
/// the number of classes (0: regression).
fn truth_of(y: &Target) -> (Vec<f64>, usize) {
    match y {
        Target::Classes(y, classes) => (y.iter().map(|&c| f64::from(c)).collect(), *classes),
        Target::Values(y) => (y.clone(), 0),
    }
}

/// The training rows with the validation rows after them, and their targets.
fn stack(
    x: &DenseMatrix<f64>,
    truth: &[f64],
    validation: &Validation<'_>,
) -> Result<(DenseMatrix<f64>, Vec<f64>)> {
    let (n, width) = x.shape();
    let (m, other) = validation.x.shape();
    let (extra, _) = truth_of(validation.y);
    if other != width || extra.len() != m {
        return Err(Error::Data(format!(
            "gradient_boosting: validation rows are {m} × {other} with {} targets, training rows {n} × {width}",
            extra.len()
        )));
    }
    let values: Vec<f64> = rows(x).chain(rows(validation.x)).flatten().copied().collect();
    let all = DenseMatrix::new(n + m, width, values, false)
        .map_err(|e| Error::Data(e.to_string()))?;
    Ok((all, truth.iter().copied().chain(extra).collect()))
}

/// Training and holdout rows (both sorted): the holdout is a seeded share
/// `validation_fraction` of the rows when early stopping is on.
fn split_holdout(n: usize, p: &BoostingParams, rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
    if p.early_stopping_rounds.is_none() || n < 2 {
        return ((0..n as u32).collect(), Vec::new());
    }
    let held = ((n as f64 * p.validation_fraction).ceil() as usize).clamp(1, n - 1);
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in 0..held {
        let j = i + rng.below(n - i);
        order.swap(i, j);
    }
    let mut holdout = order[..held].to_vec();
    let mut train = order[held..].to_vec();
    holdout.sort_unstable();
    train.sort_unstable();
    (train, holdout)
}

/// At most `n` of `rows`, drawn without replacement (sorted); all of them
/// when there are no more than `n`.
fn sample_of(rows: &[u32], n: usize, rng: &mut Rng) -> Vec<u32> {
    if rows.len() <= n {
        return rows.to_vec();
    }
    let mut order = rows.to_vec();
    for i in 0..n {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
    order.truncate(n);
    order.sort_unstable();
    order
}

/// The round's rows: each training row with probability `subsample`.
fn sample_rows(train: &[u32], subsample: f64, rng: &mut Rng) -> Vec<u32> {
    if subsample >= 1.0 {
        return train.to_vec();
    }
    let rows: Vec<u32> = train
        .iter()
        .copied()
        .filter(|_| rng.uniform() < subsample)
        .collect();
    if rows.is_empty() {
        train.to_vec()
    } else {
        rows
    }
}

/// The tree's features: `ceil(colsample × width)` drawn without
/// replacement, in column order.
fn sample_features(width: usize, colsample: f64, rng: &mut Rng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..width).collect();
    if colsample >= 1.0 {
        return all;
    }
    let m = ((width as f64 * colsample).ceil() as usize).clamp(1, width.max(1));
    for i in 0..m.min(width) {
        let j = i + rng.below(width - i);
        all.swap(i, j);
    }
    all.truncate(m);
    all.sort_unstable();
    all
}

/// Rows of `0..n` not in `rows` (sorted).
fn out_of(rows: &[u32], n: usize) -> Vec<u32> {
    let mut inside = vec![false; n];
    rows.iter().for_each(|&r| inside[r as usize] = true);
    (0..n as u32).filter(|&r| !inside[r as usize]).collect()
}

/// Sets every leaf of a one-output tree to `learning_rate` × the median
/// residual of its rows (absolute error's optimal leaf value).
fn refit_to_median(grown: &mut Grown, scores: &[f64], truth: &[f64], learning_rate: f64) {
    for (node, rows) in &grown.leaves {
        let residuals: Vec<f64> = rows
            .iter()
            .map(|&r| truth[r as usize] - scores[r as usize])
            .collect();
        grown.tree.set_value(*node, learning_rate * median(&residuals));
    }
}

/// Adds each leaf's value to the scores of the rows it was grown on.
fn add_leaves(grown: &Grown, scores: &mut [f64], outputs: usize, output: usize) {
    for (node, rows) in &grown.leaves {
        let value = grown.tree.value(*node);
        for &r in rows {
            scores[r as usize * outputs + output] += value;
        }
    }
}

/// Adds the tree's scores of `rows`, walked through their bins.
fn add_binned(
    grown: &Grown,
    data: &Binned,
    rows: &[u32],
    scores: &mut [f64],
    outputs: usize,
    output: usize,
) {
    let values: Vec<f64> = rows
        .par_iter()
        .map(|&r| grown.tree.score_binned(&data.columns, &grown.bins, r as usize))
        .collect();
    for (&r, v) in rows.iter().zip(values) {
        scores[r as usize * outputs + output] += v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::shape::Walkable;

    #[test]
    fn holdout_and_samples_are_seeded_and_disjoint() {
        let p = BoostingParams {
            early_stopping_rounds: Some(5),
            validation_fraction: 0.25,
            ..BoostingParams::default()
        };
        let (train, holdout) = split_holdout(100, &p, &mut Rng(3));
        assert_eq!((train.len(), holdout.len()), (75, 25));
        assert!(train.iter().all(|r| holdout.binary_search(r).is_err()));
        assert_eq!(split_holdout(100, &p, &mut Rng(3)), (train, holdout));
        let features = sample_features(10, 0.35, &mut Rng(1));
        assert_eq!(features.len(), 4);
        assert!(features.windows(2).all(|w| w[0] < w[1]));
        let rows = sample_rows(&(0..1000).collect::<Vec<_>>(), 0.5, &mut Rng(9));
        assert!((400..600).contains(&rows.len()), "{}", rows.len());
    }

    fn matrix(rows: &[[f64; 2]]) -> DenseMatrix<f64> {
        let values = rows.iter().flatten().copied().collect();
        DenseMatrix::new(rows.len(), 2, values, false).unwrap()
    }

    /// Binary log loss: a label that follows x0 > 0, and rows whose x0 is
    /// missing are all class 1: the booster learns both, on 1 or 2 threads
    /// alike, and early stopping keeps the best round.
    #[test]
    fn learns_a_boundary_and_where_missing_values_go() {
        let mut u = crate::estimator::test_uniform(3);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..2_000 {
            let (a, b) = (u() * 2.0 - 1.0, u());
            let missing = i % 10 == 0;
            rows.push([if missing { f64::NAN } else { a }, b]);
            y.push(i32::from(missing || a > 0.0));
        }
        let x = matrix(&rows);
        let target = Target::Classes(y.clone(), 2);
        let p = BoostingParams {
            early_stopping_rounds: Some(5),
            ..BoostingParams::default()
        };
        let fit = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Booster::fit(&x, &target, None, &p, 7).unwrap())
        };
        let model = fit(1);
        assert_eq!(model, fit(2));
        let history = model.history();
        assert!(history.best_iteration >= 1);
        assert_eq!(model.trees.len(), history.best_iteration);
        assert!(history.validation.len() >= history.best_iteration);
        let best = history.validation[history.best_iteration - 1];
        assert!(history.validation.iter().all(|&v| v >= best));
        let probe = matrix(&[[0.5, 0.5], [-0.5, 0.5], [f64::NAN, 0.5]]);
        let proba = model.predict_proba(&probe);
        assert_eq!(proba.labels(), vec![1, 0, 1]);
        assert!(proba.row(2)[1] > 0.9, "{:?}", proba.row(2));
        assert!(model.gains()[0] > model.gains()[1]);
        model.validate(2, 2).unwrap();
        assert!(model.validate(3, 2).is_err() && model.validate(2, 3).is_err());
    }

    /// Softmax over three classes and squared error on the same features.
    #[test]
    fn multiclass_and_regression_fit() {
        let mut u = crate::estimator::test_uniform(5);
        let rows: Vec<[f64; 2]> = (0..900).map(|_| [u() * 3.0, u()]).collect();
        let x = matrix(&rows);
        let classes: Vec<i32> = rows.iter().map(|r| r[0] as i32).collect();
        let model = Booster::fit(
            &x,
            &Target::Classes(classes.clone(), 3),
            None,
            &BoostingParams::default(),
            1,
        )
        .unwrap();
        assert_eq!(model.loss(), Loss::Softmax);
        let labels = model.predict_proba(&x).labels();
        let right = labels
            .iter()
            .zip(&classes)
            .filter(|(l, c)| **l as i32 == **c)
            .count();
        assert!(right > 880, "{right} of 900");
        let values: Vec<f64> = rows.iter().map(|r| 5.0 * r[0] + r[1]).collect();
        let model = Booster::fit(
            &x,
            &Target::Values(values.clone()),
            None,
            &BoostingParams::default(),
            1,
        )
        .unwrap();
        let predicted = model.predict_values(&x);
        let mse = predicted
            .iter()
            .zip(&values)
            .map(|(p, v)| (p - v).powi(2))
            .sum::<f64>()
            / 900.0;
        assert!(mse < 0.05, "mse {mse}");
        assert_eq!(model.history().train.len(), 100);
    }

    /// The compiled walk gives exactly the raw-value walk's scores, at every
    /// threshold, just beside it, and at the extremes; a block with NaN
    /// takes the raw walk.
    #[test]
    fn compiled_trees_score_exactly_as_walked_trees() {
        let mut u = crate::estimator::test_uniform(9);
        let rows: Vec<[f64; 2]> = (0..3_000)
            .map(|_| [(u() * 50.0).round() / 10.0, u() * 100.0])
            .collect();
        let classes: Vec<i32> = rows
            .iter()
            .map(|r| i32::from(r[0] * 7.0 + r[1] > 60.0) + i32::from(r[1] > 90.0))
            .collect();
        let model = Booster::fit(
            &matrix(&rows),
            &Target::Classes(classes, 3),
            None,
            &BoostingParams::default(),
            4,
        )
        .unwrap();
        let mut probes: Vec<[f64; 2]> = Vec::new();
        for tree in &model.trees {
            for (threshold, feature, _, leaf) in tree.walk_nodes() {
                if leaf || !threshold.is_finite() {
                    continue;
                }
                for v in [threshold, threshold.next_down(), threshold.next_up()] {
                    let mut row = rows[probes.len() % rows.len()];
                    row[feature] = v;
                    probes.push(row);
                }
            }
        }
        probes.extend([[f64::INFINITY, f64::NEG_INFINITY], [-0.0, 1e300], [1e-300, 0.0]]);
        let block: Vec<&[f64]> = probes.iter().map(|r| &r[..]).collect();
        let compiled = Compiled::new(&model.trees, 2).expect("boosted trees compile");
        for chunk in block.chunks(BLOCK) {
            let (mut walked, mut fast) = (vec![0.0; chunk.len() * 3], vec![0.0; chunk.len() * 3]);
            model.add_walked(chunk, &mut walked);
            model.add_compiled(&compiled, chunk, &mut fast);
            assert_eq!(walked, fast);
        }
        let with_nan = matrix(&[[f64::NAN, 50.0], [2.0, 50.0]]);
        let scores = model.raw_scores(&with_nan);
        let mut walked = vec![0.0; 6];
        model.add_walked(&[&[f64::NAN, 50.0], &[2.0, 50.0]], &mut walked);
        let expected: Vec<f64> = walked
            .iter()
            .zip(model.base.iter().cycle())
            .map(|(s, b)| b + s)
            .collect();
        assert_eq!(scores, expected);
    }

    /// With 5% of the targets thrown off by +1000, absolute error and Huber
    /// still fit the clean relation; squared error is pulled towards the
    /// outliers. A classifier refuses a regression loss by name.
    #[test]
    fn robust_losses_ignore_outliers() {
        let mut u = crate::estimator::test_uniform(21);
        let rows: Vec<[f64; 2]> = (0..2_000).map(|_| [u() * 10.0, u()]).collect();
        let clean: Vec<f64> = rows.iter().map(|r| 2.0 * r[0]).collect();
        let noisy: Vec<f64> = clean
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 20 == 0 { v + 1000.0 } else { *v })
            .collect();
        let x = matrix(&rows);
        let error = |loss: RegressionLoss| {
            let p = BoostingParams {
                loss: Some(loss),
                huber_delta: 1.0,
                ..BoostingParams::default()
            };
            let model = Booster::fit(&x, &Target::Values(noisy.clone()), None, &p, 2).unwrap();
            assert_eq!(model.history().metric, model.loss().metric());
            let predicted = model.predict_values(&x);
            let errors: Vec<f64> = predicted
                .iter()
                .zip(&clean)
                .map(|(p, c)| (p - c).abs())
                .collect();
            median(&errors)
        };
        let squared = error(RegressionLoss::SquaredError);
        let absolute = error(RegressionLoss::AbsoluteError);
        let huber = error(RegressionLoss::Huber);
        assert!(absolute < 0.5 && huber < 0.5, "absolute {absolute}, huber {huber}");
        assert!(squared > 5.0 * absolute.max(huber), "squared {squared}");
        let p = BoostingParams {
            loss: Some(RegressionLoss::Huber),
            ..BoostingParams::default()
        };
        let err = Booster::fit(&x, &Target::Classes(vec![0; 2_000], 2), None, &p, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("params.loss"), "{err}");
    }
}
