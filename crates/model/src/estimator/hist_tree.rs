//! CART trees grown on binned features, for `decision_tree` and
//! `random_forest`. smartcore's trees re-sort at every node (74 s for 100k
//! rows × 32 features, where scikit-learn takes under 10 s); here each
//! feature is cut once into at most 256 bins at quantiles of its values
//! (exactly between its distinct values when it has at most 256), and a
//! node's best split comes from per-bin histograms: one pass over its rows per
//! candidate feature. This is how LightGBM and scikit-learn's
//! HistGradientBoosting find splits. When every split tries every feature
//! (a single tree), only the smaller child's histograms are counted; the
//! larger child's are its parent's minus its sibling's. Thresholds are
//! midpoints between the node's training values either side of the cut (a
//! value exactly midway goes left), so a tree predicts on raw features
//! without the bins. Each node tries its features in a fresh seeded order,
//! and a split of equal gain goes to the first tried, as scikit-learn's
//! per-node shuffle does, so no column wins every tie by its position.
//!
//! Impurities are scikit-learn's: Gini, entropy or misclassification for
//! classification, squared error for regression. Leaves keep class
//! distributions (probabilities) or means. The same seed gives the same tree
//! whatever the thread count: randomness (bootstrap rows, features tried per
//! split) comes from the tree's own seeded stream, and parallel histogram
//! passes are per feature.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::rows as rows_of;

/// Split quality measure of classification trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Gini impurity.
    #[default]
    Gini,
    /// Information gain.
    Entropy,
    /// Misclassification rate.
    ClassificationError,
}

/// Most bins per feature (bin indexes fit in a `u8`).
const MAX_BINS: usize = 256;
/// Values sampled per feature to place the bin edges.
const EDGE_SAMPLE: usize = 200_000;
/// Rows × features below which a node's histograms are built on one thread.
const PARALLEL_WORK: usize = 1 << 16;

/// The features of a training matrix, binned column by column.
#[derive(Debug)]
pub struct Binned {
    rows: usize,
    /// `columns[f][r]`: bin of row `r` in feature `f`.
    columns: Vec<Vec<u8>>,
    /// `edges[f][b]`: upper edge of bin `b` (value ≤ edge ⇒ bin ≤ b).
    edges: Vec<Vec<f64>>,
    /// `bounds[f][b]`: the smallest and largest training value in bin `b`
    /// (infinite for a bin no row fell into), so that a split can sit
    /// midway between the values either side of it, as scikit-learn's does.
    bounds: Vec<Vec<(f64, f64)>>,
}

impl Binned {
    /// Bins every column of `x` (columns in parallel).
    pub fn new(x: &DenseMatrix<f64>) -> Self {
        let (rows, width) = x.shape();
        let (columns, (edges, bounds)) = (0..width)
            .into_par_iter()
            .map(|f| {
                let values: Vec<f64> = rows_of(x).map(|row| row[f]).collect();
                let edges = edges(&values);
                let mut bounds = vec![(f64::INFINITY, f64::NEG_INFINITY); edges.len() + 1];
                let bins = values
                    .iter()
                    .map(|&v| {
                        let b = edges.partition_point(|&e| e < v);
                        if !v.is_nan() {
                            let (lo, hi) = &mut bounds[b];
                            (*lo, *hi) = (lo.min(v), hi.max(v));
                        }
                        b as u8
                    })
                    .collect();
                (bins, (edges, bounds))
            })
            .unzip();
        Self {
            rows,
            columns,
            edges,
            bounds,
        }
    }

    /// Number of features.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// Bin edges of one feature, placed the way LightGBM and scikit-learn's
/// HistGradientBoosting place them: on the distinct values of (a sample of)
/// the column, each weighted by how often it occurs. With at most
/// [`MAX_BINS`] distinct values every one gets its own bin (edges at the
/// midpoints between neighbours). With more, distinct values are taken in
/// order into the current bin until it holds its share of the rows not yet
/// binned, so a heavily repeated value closes a bin by itself and ties never
/// merge two cuts into one; a bin is also closed whenever the distinct values
/// left are only just enough to give every remaining bin one. A column with
/// more than [`MAX_BINS`] distinct values therefore always gets exactly
/// [`MAX_BINS`] bins.
fn edges(values: &[f64]) -> Vec<f64> {
    bin_edges(values, MAX_BINS)
}

/// [`edges`] for at most `max_bins` bins (≥ 2), NaN left out: what
/// gradient boosting bins with, keeping one more bin for missing values.
pub(crate) fn bin_edges(values: &[f64], max_bins: usize) -> Vec<f64> {
    let step = values.len().div_ceil(EDGE_SAMPLE).max(1);
    let mut sample: Vec<f64> = values
        .iter()
        .step_by(step)
        .copied()
        .filter(|v| !v.is_nan())
        .collect();
    sample.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for v in sample {
        match distinct.last_mut() {
            // -0.0 and 0.0 are one value for a threshold test.
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    // Midway, and always in [a, b): with an infinite neighbour (or a gap
    // wider than f64 holds) the plain formula gives NaN or b.
    let cut = |a: f64, b: f64| {
        let m = a + (b - a) / 2.0;
        if m >= a && m < b {
            return m;
        }
        let m = f64::midpoint(a, b);
        if m >= a && m < b { m } else { a }
    };
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| cut(w[0].0, w[1].0)).collect();
    }
    let mut edges = Vec::with_capacity(max_bins - 1);
    let mut rows_left: usize = distinct.iter().map(|d| d.1).sum();
    let mut in_bin = 0;
    for (i, pair) in distinct.windows(2).enumerate() {
        let bins_left = max_bins - edges.len();
        if bins_left == 1 {
            break;
        }
        in_bin += pair[0].1;
        let share = rows_left as f64 / bins_left as f64;
        let values_after = distinct.len() - 1 - i;
        let close = in_bin as f64 >= share
            // Let a value that fills a bin alone start its own.
            || (pair[1].1 as f64 >= share && in_bin as f64 >= share / 2.0)
            || values_after < bins_left;
        if close {
            edges.push(cut(pair[0].0, pair[1].0));
            rows_left -= in_bin;
            in_bin = 0;
        }
    }
    edges
}

/// What a tree predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Class indexes `0..classes` with a split criterion.
    Classes(usize, Criterion),
    /// Numbers (squared error).
    Values,
}

impl Goal {
    /// Histogram slots per bin: class counts, or (count, sum, sum of squares).
    fn stride(self) -> usize {
        match self {
            Goal::Classes(k, _) => k,
            Goal::Values => 3,
        }
    }

    /// Rows counted in `stats`.
    fn count(self, stats: &[f64]) -> f64 {
        match self {
            Goal::Classes(..) => stats.iter().sum(),
            Goal::Values => stats[0],
        }
    }

    /// Impurity of `stats` times its row count (so that gains add up).
    fn total_impurity(self, stats: &[f64]) -> f64 {
        let n = self.count(stats);
        if n <= 0.0 {
            return 0.0;
        }
        match self {
            Goal::Classes(_, Criterion::Gini) => n - stats.iter().map(|c| c * c).sum::<f64>() / n,
            Goal::Classes(_, Criterion::Entropy) => stats
                .iter()
                .filter(|&&c| c > 0.0)
                .map(|&c| -c * (c / n).log2())
                .sum(),
            Goal::Classes(_, Criterion::ClassificationError) => {
                n - stats.iter().copied().fold(0.0, f64::max)
            }
            Goal::Values => (stats[2] - stats[1] * stats[1] / n).max(0.0),
        }
    }
}

/// How to grow one tree.
#[derive(Debug, Clone)]
pub struct Growth {
    /// Depth limit.
    pub max_depth: Option<u16>,
    /// Minimum rows in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum rows to split.
    pub min_samples_split: usize,
    /// Features tried per split (all when `None` or ≥ width).
    pub max_features: Option<usize>,
    /// Whether histogram passes may use rayon (off inside a forest, whose
    /// trees are already parallel).
    pub parallel: bool,
    /// Extremely randomized splits: per feature tried, one random cut
    /// instead of the best ([`random_split`]).
    pub random_splits: bool,
}

/// Rows a tree walks at once in [`Tree::leaves_of`].
pub const LANES: usize = 8;
/// Steps a walk takes between checks that every lane is on a leaf.
const WALK_BURST: u16 = 8;

/// One node in 16 bytes. A split sends a row to `next` when its feature is
/// ≤ `threshold`, else to `next + 1` (children are stored side by side). A
/// leaf points at itself with an infinite threshold, so a walk needs no
/// branch: after `depth` steps every row stands on its leaf.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    threshold: f64,
    feature: u32,
    next: u32,
}

impl Node {
    fn leaf(at: usize) -> Self {
        Self {
            threshold: f64::INFINITY,
            feature: 0,
            next: at as u32,
        }
    }
}

/// A fitted tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    nodes: Vec<Node>,
    /// Per node: where a leaf's value starts in `values`.
    leaf_values: Vec<u32>,
    /// Leaf values, `leaf_width` each.
    values: Vec<f64>,
    /// Longest path from the root, in splits.
    depth: u16,
    /// Total impurity decrease per feature.
    gains: Vec<f64>,
}

/// SplitMix64 stream for bootstrap rows, feature draws and boosting's
/// holdout and samples.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
}

/// A bootstrap sample: `rows` row indexes drawn with replacement (sorted,
/// so that histogram passes read the columns in order).
pub fn bootstrap(rows: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng(seed);
    let mut sample: Vec<u32> = (0..rows).map(|_| rng.below(rows) as u32).collect();
    sample.sort_unstable();
    sample
}

/// The best split of a node.
struct Split {
    feature: usize,
    bin: u8,
    gain: f64,
    /// Where raw values split: midway between the largest training value of
    /// the left side and the smallest of the right side in this node.
    threshold: f64,
}

impl Tree {
    /// Grows a tree on `rows` (indexes into `data`; repeats count twice, as
    /// a bootstrap sample needs) with targets `classes` or `values`.
    pub fn grow(
        data: &Binned,
        target: &Target<'_>,
        rows: Vec<u32>,
        growth: &Growth,
        seed: u64,
    ) -> Self {
        let goal = target.goal();
        let mut tree = Tree {
            nodes: Vec::new(),
            leaf_values: Vec::new(),
            values: Vec::new(),
            depth: 0,
            gains: vec![0.0; data.width()],
        };
        let mut rng = Rng(seed);
        // When every split tries every feature, a child's histograms are its
        // parent's minus its sibling's: only the smaller child is counted.
        let every_feature = growth.max_features.is_none_or(|m| m >= data.width());
        let may_split = |rows: usize, depth: u16| {
            rows >= growth.min_samples_split && growth.max_depth.is_none_or(|d| depth < d)
        };
        // (rows, depth, index of the node to fill, histograms if known)
        let mut stack = vec![(rows, 0u16, 0usize, None)];
        tree.nodes.push(Node::leaf(0));
        tree.leaf_values.push(0);
        while let Some((rows, depth, at, known)) = stack.pop() {
            tree.depth = tree.depth.max(depth);
            let stats = target.stats(&rows);
            let parent = goal.total_impurity(&stats);
            let split = if !may_split(rows.len(), depth) || parent <= 1e-12 {
                None
            } else {
                let features = candidates(data.width(), growth, &mut rng);
                let hists =
                    known.unwrap_or_else(|| histograms(data, target, &rows, &features, growth));
                let order = shuffled(features.len(), &mut rng);
                let node = Search {
                    features: &features,
                    order: &order,
                    hists: &hists,
                    stats: &stats,
                    parent,
                };
                let split = if growth.random_splits {
                    random_split(data, goal, &node, growth, &mut rng)
                } else {
                    best_split(data, goal, &node, growth)
                };
                split.map(|split| (split, hists))
            };
            match split {
                None => {
                    tree.nodes[at] = Node::leaf(at);
                    tree.leaf_values[at] = tree.leaf(goal, &stats);
                }
                Some((split, hists)) => {
                    let column = &data.columns[split.feature];
                    let (left, right): (Vec<u32>, Vec<u32>) =
                        rows.iter().partition(|&&r| column[r as usize] <= split.bin);
                    drop(rows);
                    let (left_hists, right_hists) =
                        if every_feature && may_split(left.len().max(right.len()), depth + 1) {
                            let left_smaller = left.len() <= right.len();
                            let smaller = if left_smaller { &left } else { &right };
                            let counted = histograms(data, target, smaller, &all(data), growth);
                            let rest = subtract(hists, &counted);
                            if left_smaller {
                                (Some(counted), Some(rest))
                            } else {
                                (Some(rest), Some(counted))
                            }
                        } else {
                            (None, None)
                        };
                    tree.gains[split.feature] += split.gain;
                    let (l, r) = (tree.nodes.len(), tree.nodes.len() + 1);
                    tree.nodes.push(Node::leaf(l));
                    tree.nodes.push(Node::leaf(r));
                    tree.leaf_values.extend([0, 0]);
                    tree.nodes[at] = Node {
                        threshold: split.threshold,
                        feature: split.feature as u32,
                        next: l as u32,
                    };
                    stack.push((right, depth + 1, r, right_hists));
                    stack.push((left, depth + 1, l, left_hists));
                }
            }
        }
        tree
    }

    fn leaf(&mut self, goal: Goal, stats: &[f64]) -> u32 {
        let at = self.values.len() as u32;
        let n = goal.count(stats).max(1.0);
        match goal {
            Goal::Classes(..) => self.values.extend(stats.iter().map(|c| c / n)),
            Goal::Values => self.values.push(stats[1] / n),
        }
        at
    }

    /// The leaf value (`width` numbers) for one row.
    pub fn leaf_of(&self, row: &[f64], width: usize) -> &[f64] {
        let mut offsets = [0; LANES];
        self.leaves_of(&[row], &mut offsets);
        self.value(offsets[0], width)
    }

    /// Offsets into the leaf values (see [`value`](Self::value)) of up to
    /// [`LANES`] rows. A full set of lanes is walked in lockstep for `depth`
    /// steps: the lanes are independent and the steps branch-free, so the CPU
    /// overlaps the node loads of all lanes.
    #[inline]
    pub fn leaves_of(&self, rows: &[&[f64]], out: &mut [usize; LANES]) {
        match <&[&[f64]; LANES]>::try_from(rows) {
            Ok(full) => *out = self.walk(full),
            Err(_) => {
                for (o, row) in out.iter_mut().zip(rows) {
                    *o = self.walk(&[*row])[0];
                }
            }
        }
    }

    #[inline]
    fn walk<const N: usize>(&self, rows: &[&[f64]; N]) -> [usize; N] {
        let mut at = [0usize; N];
        let mut steps = 0;
        // Branch-free bursts of steps; between them, stop once every lane
        // stands on a leaf: a deep tree's leaves are mostly far shallower
        // than its depth (an unbounded forest: depth ~40, leaves ~20).
        while steps < self.depth {
            let burst = (self.depth - steps).min(WALK_BURST);
            for _ in 0..burst {
                for (a, row) in at.iter_mut().zip(rows) {
                    let node = self.nodes[*a];
                    let right = row[node.feature as usize] > node.threshold;
                    *a = node.next as usize + usize::from(right);
                }
            }
            steps += burst;
            if at.iter().all(|&a| self.nodes[a].threshold == f64::INFINITY) {
                break;
            }
        }
        at.map(|a| self.leaf_values[a] as usize)
    }

    /// The `width` leaf values at `offset` (from [`leaves_of`](Self::leaves_of)).
    #[inline]
    pub fn value(&self, offset: usize, width: usize) -> &[f64] {
        &self.values[offset..offset + width]
    }

    /// Adds this tree to an ONNX `ensemble`: its splits, and for its leaves
    /// value `position` (of `width` per leaf) times `scale`, added to
    /// `target`.
    pub(crate) fn onnx(
        &self,
        ensemble: &mut crate::onnx::Ensemble,
        (position, width): (usize, usize),
        target: usize,
        scale: f64,
    ) {
        let root = self.onnx_node(ensemble, 0, (position, width), target, scale);
        ensemble.tree(root);
    }

    fn onnx_node(
        &self,
        ensemble: &mut crate::onnx::Ensemble,
        at: usize,
        value: (usize, usize),
        target: usize,
        scale: f64,
    ) -> crate::onnx::Branch {
        let node = self.nodes[at];
        if node.threshold == f64::INFINITY {
            let weight = self.value(self.leaf_values[at] as usize, value.1)[value.0] * scale;
            return crate::onnx::Branch::Leaf(ensemble.leaf(target, weight));
        }
        let split = ensemble.split(node.feature as usize, node.threshold, true);
        let left = self.onnx_node(ensemble, node.next as usize, value, target, scale);
        let right = self.onnx_node(ensemble, node.next as usize + 1, value, target, scale);
        ensemble.link(split, left, right);
        crate::onnx::Branch::Node(split)
    }

    /// Total impurity decrease per feature.
    pub fn gains(&self) -> &[f64] {
        &self.gains
    }

    /// Longest path from the root, in splits.
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// Each node as `(threshold, feature, next)` (see [`Node`]); a leaf has
    /// an infinite threshold and points at itself.
    pub fn nodes(&self) -> impl Iterator<Item = (f64, u32, u32)> + '_ {
        self.nodes.iter().map(|n| (n.threshold, n.feature, n.next))
    }

    /// Where each node's leaf values start in the values (leaves only).
    pub fn leaf_offsets(&self) -> &[u32] {
        &self.leaf_values
    }
}

impl Tree {
    /// Checks a decoded tree before it predicts: every split's feature below
    /// `features`, children stored after their parent and inside the tree,
    /// every leaf's `width` values inside the values, the recorded depth the
    /// longest path, and every leaf's values what the tree predicts: finite,
    /// and for `classes` a distribution (in [0, 1], summing to 1). A crafted
    /// artifact fails here, not with a panic or a wrong probability later.
    pub fn validate(&self, features: usize, width: usize, classes: bool) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 || n > u32::MAX as usize {
            return Err(format!("a tree has {n} nodes"));
        }
        if self.leaf_values.len() != n {
            return Err(format!(
                "a tree has {n} nodes but {} leaf offsets",
                self.leaf_values.len()
            ));
        }
        if self.gains.len() != features {
            return Err(format!(
                "a tree has {} importances for {features} features",
                self.gains.len()
            ));
        }
        super::shape::check(self, features, |i| {
            let start = self.leaf_values[i] as usize;
            let Some(values) = <[f64]>::get(&self.values, start..start + width) else {
                return Err(format!("leaf {i} points outside the tree"));
            };
            check_leaf(values, classes).map_err(|e| format!("leaf {i} {e}"))
        })
    }
}

/// Checks one leaf's values: finite, and for a classifier a distribution
/// over the classes (each in [0, 1], summing to 1 within rounding).
fn check_leaf(values: &[f64], classes: bool) -> Result<(), String> {
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(format!("holds {v:e}"));
    }
    if classes {
        let sum: f64 = values.iter().sum();
        if values.iter().any(|v| !(0.0..=1.0).contains(v)) || (sum - 1.0).abs() > 1e-9 {
            return Err(format!("holds {values:?}, not class probabilities"));
        }
    }
    Ok(())
}

/// Training targets.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Class indexes and the number of classes, with the criterion.
    Classes(&'a [i32], usize, Criterion),
    /// Values.
    Values(&'a [f64]),
}

impl Target<'_> {
    fn goal(&self) -> Goal {
        match self {
            Target::Classes(_, k, c) => Goal::Classes(*k, *c),
            Target::Values(_) => Goal::Values,
        }
    }

    /// Adds row `r` into the `stride`-wide slot `slot`.
    #[inline]
    fn add(&self, slot: &mut [f64], r: usize) {
        match self {
            Target::Classes(y, ..) => slot[y[r] as usize] += 1.0,
            Target::Values(y) => {
                slot[0] += 1.0;
                slot[1] += y[r];
                slot[2] += y[r] * y[r];
            }
        }
    }

    fn stats(&self, rows: &[u32]) -> Vec<f64> {
        let mut stats = vec![0.0; self.goal().stride()];
        for &r in rows {
            self.add(&mut stats, r as usize);
        }
        stats
    }
}

/// Features tried at one node: all, or `max_features` drawn without replacement.
fn candidates(width: usize, growth: &Growth, rng: &mut Rng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..width).collect();
    match growth.max_features {
        Some(m) if m < width => {
            for i in 0..m {
                let j = i + rng.below(width - i);
                all.swap(i, j);
            }
            all.truncate(m.max(1));
            all
        }
        _ => all,
    }
}

/// `0..n` in an order drawn from `rng` (Fisher–Yates).
fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

/// Per feature tried (in the order of `features`), its histogram over a
/// node's rows: `bins × stride` slots, row statistics summed per bin.
type Histograms = Vec<Vec<f64>>;

/// Every feature, in order: what a node tries when `max_features` is off.
fn all(data: &Binned) -> Vec<usize> {
    (0..data.width()).collect()
}

/// The histograms of `rows` for `features`, over both cores when the node
/// is big enough (per feature, so the sums do not depend on the threads).
fn histograms(
    data: &Binned,
    target: &Target<'_>,
    rows: &[u32],
    features: &[usize],
    growth: &Growth,
) -> Histograms {
    let stride = target.goal().stride();
    let count = |&f: &usize| -> Vec<f64> {
        let column = &data.columns[f];
        let mut hist = vec![0.0; (data.edges[f].len() + 1) * stride];
        for &r in rows {
            let b = column[r as usize] as usize;
            target.add(&mut hist[b * stride..(b + 1) * stride], r as usize);
        }
        hist
    };
    if growth.parallel && rows.len() * features.len() >= PARALLEL_WORK {
        features.par_iter().map(count).collect()
    } else {
        features.iter().map(count).collect()
    }
}

/// A parent's histograms minus one child's: the other child's. Class
/// counts stay exact; regression sums may differ from a recount in the last
/// bits.
fn subtract(mut parent: Histograms, child: &Histograms) -> Histograms {
    for (p, c) in parent.iter_mut().zip(child) {
        for (p, c) in p.iter_mut().zip(c) {
            *p -= c;
        }
    }
    parent
}

/// What [`best_split`] searches at one node.
struct Search<'a> {
    /// Features tried, and their histograms in the same order.
    features: &'a [usize],
    hists: &'a Histograms,
    /// The order in which positions of `features` are tried: a fresh
    /// permutation per node, so that features of equal gain (one-hot columns
    /// of one category, duplicated or mirrored columns) win equally often, as
    /// scikit-learn's per-node feature shuffle makes them. A fixed order
    /// would always favour the first column and route unseen values the
    /// same way at every such node.
    order: &'a [usize],
    /// The node's row statistics and total impurity.
    stats: &'a [f64],
    parent: f64,
}

/// The split of most gain among the cuts a search offers: strictly more
/// than the best so far, so ties keep the first offered, and more than a
/// rounding error of the parent's impurity.
struct Best {
    goal: Goal,
    /// Position in the search's features, and the split.
    best: Option<(usize, Split)>,
}

impl Best {
    fn new(goal: Goal) -> Self {
        Self { goal, best: None }
    }

    /// The cut after bin `bin` of the search's feature `at`, with the
    /// statistics of its two sides.
    fn offer(&mut self, node: &Search<'_>, at: usize, bin: usize, left: &[f64], right: &[f64]) {
        let goal = self.goal;
        let gain = node.parent - goal.total_impurity(left) - goal.total_impurity(right);
        if gain > 1e-12 * node.parent.max(1.0)
            && self.best.as_ref().is_none_or(|(_, s)| gain > s.gain)
        {
            let split = Split {
                feature: node.features[at],
                bin: bin as u8,
                gain,
                threshold: f64::NAN,
            };
            self.best = Some((at, split));
        }
    }

    /// The winner with its raw threshold.
    fn split(self, data: &Binned, node: &Search<'_>) -> Option<Split> {
        let (at, mut best) = self.best?;
        best.threshold = threshold(data, self.goal, best.feature, best.bin, &node.hists[at]);
        Some(best)
    }
}

/// The best split at `node`, if any improves the impurity. Ties keep the
/// feature tried first and, within a feature, the lowest bin.
fn best_split(data: &Binned, goal: Goal, node: &Search<'_>, growth: &Growth) -> Option<Split> {
    let stats = node.stats;
    let stride = goal.stride();
    let min_leaf = growth.min_samples_leaf as f64;
    let mut left = vec![0.0; stride];
    let mut right = vec![0.0; stride];
    let mut best = Best::new(goal);
    for &at in node.order {
        let (f, hist) = (node.features[at], &node.hists[at]);
        let bins = data.edges[f].len() + 1;
        left.fill(0.0);
        for b in 0..bins - 1 {
            for (s, (l, h)) in left.iter_mut().zip(&hist[b * stride..]).enumerate() {
                *l += h;
                right[s] = stats[s] - *l;
            }
            let (nl, nr) = (goal.count(&left), goal.count(&right));
            if nl < min_leaf {
                continue;
            }
            if nr < min_leaf {
                break;
            }
            best.offer(node, at, b, &left, &right);
        }
    }
    best.split(data, node)
}

/// Extremely randomized trees' split (Geurts, Ernst and Wehenkel 2006, as
/// scikit-learn's `ExtraTrees*`): per feature tried, one cut drawn
/// uniformly between the smallest and largest value of the bins the node
/// has rows in, taken at the bin the draw falls in; the cut of most gain
/// wins. A feature constant in the node, or whose cut leaves a side with
/// fewer than `min_samples_leaf` rows, is passed over. Draws come from the
/// tree's own stream, so a seed gives the same tree on any thread count.
fn random_split(
    data: &Binned,
    goal: Goal,
    node: &Search<'_>,
    growth: &Growth,
    rng: &mut Rng,
) -> Option<Split> {
    let stats = node.stats;
    let stride = goal.stride();
    let min_leaf = growth.min_samples_leaf as f64;
    let mut left = vec![0.0; stride];
    let mut right = vec![0.0; stride];
    let mut best = Best::new(goal);
    for &at in node.order {
        let (f, hist) = (node.features[at], &node.hists[at]);
        let (edges, bounds) = (&data.edges[f], &data.bounds[f]);
        let occupied = |b: &usize| goal.count(&hist[b * stride..(b + 1) * stride]) > 0.0;
        let (Some(lo), Some(hi)) = (
            (0..bounds.len()).find(occupied),
            (0..bounds.len()).rev().find(occupied),
        ) else {
            continue;
        };
        if lo == hi {
            continue;
        }
        // Drawn even where the cut is then passed over, so that one
        // feature's rows do not shift the draws of the next.
        let (min, max) = (bounds[lo].0, bounds[hi].1);
        let drawn = min + rng.uniform() * (max - min);
        let drawn_bin = edges.partition_point(|&e| e < drawn).clamp(lo, hi - 1);
        // The same rows go left as at the last bin with rows up to it.
        let bin = (lo..=drawn_bin).rev().find(occupied).unwrap_or(lo);
        left.fill(0.0);
        for h in hist[lo * stride..(bin + 1) * stride].chunks_exact(stride) {
            left.iter_mut().zip(h).for_each(|(l, h)| *l += h);
        }
        right
            .iter_mut()
            .zip(stats.iter().zip(&left))
            .for_each(|(r, (s, l))| *r = s - l);
        if goal.count(&left) < min_leaf || goal.count(&right) < min_leaf {
            continue;
        }
        best.offer(node, at, bin, &left, &right);
    }
    best.split(data, node)
}

/// The raw threshold of a split after bin `bin` of `feature`, given the
/// node's histogram. Ties keep the first bin of equal gain, so `bin` is the
/// last one the node has rows in on the left; the bins after it up to the
/// next with rows are empty here, and any threshold across that gap splits
/// the training rows alike. scikit-learn puts it midway between the two
/// values either side, and so does this (exactly when every distinct value
/// has its own bin), rather than just above the left value, which would
/// send unseen values in the gap to the right.
fn threshold(data: &Binned, goal: Goal, feature: usize, bin: u8, hist: &[f64]) -> f64 {
    let stride = goal.stride();
    let (bounds, edges) = (&data.bounds[feature], &data.edges[feature]);
    let bin = bin as usize;
    let next = (bin + 1..bounds.len())
        .find(|&b| goal.count(&hist[b * stride..(b + 1) * stride]) > 0.0)
        .unwrap_or(bin + 1);
    let (left, right) = (bounds[bin].1, bounds.get(next).map_or(f64::NAN, |b| b.0));
    if !(left.is_finite() && right.is_finite() && left < right) {
        return edges[bin];
    }
    // A raw value exactly midway goes left (≤), as in exact arithmetic; the
    // nudge keeps the rounding of scaling (a few ulps) from flipping it. On
    // rounded data (4.0 between 3.9 and 4.1) such values are common.
    let mid = left + (right - left) * (0.5 + 1e-9);
    // A midpoint that rounds up to the right value would send it left.
    if mid >= right { left } else { mid }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[[f64; 2]]) -> DenseMatrix<f64> {
        let values = rows.iter().flatten().copied().collect();
        DenseMatrix::new(rows.len(), 2, values, false).unwrap()
    }

    fn growth() -> Growth {
        Growth {
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            parallel: false,
            random_splits: false,
        }
    }

    #[test]
    fn a_parent_minus_one_child_is_the_other_child() {
        let mut uniform = crate::estimator::test_uniform(5);
        let values: Vec<f64> = (0..4_000).map(|_| uniform() * 100.0).collect();
        let x = DenseMatrix::new(1_000, 4, values, false).unwrap();
        let data = Binned::new(&x);
        let classes: Vec<i32> = (0..1_000).map(|_| (uniform() * 3.0) as i32).collect();
        let numbers: Vec<f64> = (0..1_000).map(|_| uniform() * 1e3 - 500.0).collect();
        let rows = bootstrap(1_000, 11); // with repeats, as a forest's trees see them
        let column = &data.columns[2];
        let (left, right): (Vec<u32>, Vec<u32>) =
            rows.iter().partition(|&&r| column[r as usize] <= 120);
        let (every, g) = (all(&data), growth());
        let classes = Target::Classes(&classes, 3, Criterion::Gini);
        let count = |target: &Target<'_>, rows: &[u32]| histograms(&data, target, rows, &every, &g);
        assert_eq!(
            subtract(count(&classes, &rows), &count(&classes, &left)),
            count(&classes, &right),
            "class counts are exact"
        );
        let numbers = Target::Values(&numbers);
        let derived = subtract(count(&numbers, &rows), &count(&numbers, &left));
        let counted = count(&numbers, &right);
        for (d, c) in derived.iter().flatten().zip(counted.iter().flatten()) {
            assert!((d - c).abs() <= 1e-9 * c.abs().max(1.0), "{d} vs {c}");
        }
    }

    #[test]
    fn edges_sit_between_distinct_values_or_at_quantiles() {
        assert_eq!(edges(&[3.0, 1.0, 2.0, 2.0]), vec![1.5, 2.5]);
        assert!(edges(&[5.0, 5.0]).is_empty());
        assert!(edges(&[f64::NAN, 1.0, f64::NAN]).is_empty());
        // Infinite values get edges that separate them, never NaN.
        assert_eq!(
            edges(&[f64::NEG_INFINITY, 1.0, f64::INFINITY, -1e308, 1e308]),
            vec![f64::NEG_INFINITY, -5e307, 5e307, 1e308]
        );
        let many: Vec<f64> = (0..10_000).map(f64::from).collect();
        let e = edges(&many);
        assert_eq!(e.len(), MAX_BINS - 1);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        // Evenly spread: every bin holds 10_000 / 256 ≈ 39 rows, give or take one.
        let sizes = bin_sizes(&many, &e);
        assert!(sizes.iter().all(|&s| (38..=41).contains(&s)), "{sizes:?}");
    }

    /// Rows per bin of `values` cut at `edges`.
    fn bin_sizes(values: &[f64], edges: &[f64]) -> Vec<usize> {
        let mut sizes = vec![0; edges.len() + 1];
        for v in values {
            sizes[edges.partition_point(|e| e < v)] += 1;
        }
        sizes
    }

    fn distinct(values: &[f64]) -> usize {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        sorted.len()
    }

    /// Regression (issue 11.1): a column of rounded measurements with a few
    /// hundred distinct values and many ties got 2–8 cuts instead of 255,
    /// because a quantile cut was kept only where the sampled values differed
    /// exactly at the quantile's index.
    #[test]
    fn tied_columns_get_min_of_distinct_and_max_bins() {
        let mut u = crate::estimator::test_uniform(11);
        let mut normal = move || {
            // Box–Muller from the seeded uniform stream.
            let (a, b) = (u().max(1e-12), u());
            (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        let n: i32 = 54_000;
        // Carat-like weights: log-normal, rounded to 0.01 (a few hundred distinct values).
        let carat: Vec<f64> = (0..n)
            .map(|_| ((normal() * 0.5 - 0.4).exp() * 100.0).round() / 100.0)
            .collect();
        // Lengths in mm rounded to 0.01 over a narrow range.
        let length: Vec<f64> = (0..n)
            .map(|_| ((5.7 + normal() * 1.1) * 100.0).round() / 100.0)
            .collect();
        // One value in 90% of the rows, then a long tail of distinct values.
        let skewed: Vec<f64> = (0..n)
            .map(|i| if i % 10 != 0 { 0.0 } else { f64::from(i) })
            .collect();
        // Few distinct values, each repeated evenly: every one its own bin.
        let small: Vec<f64> = (0..n).map(|i| f64::from(i % 200)).collect();
        // 300 evenly repeated values: the old rule's worst case.
        let even: Vec<f64> = (0..n).map(|i| f64::from(i % 300) / 10.0).collect();
        for (name, column) in [
            ("carat", &carat),
            ("length", &length),
            ("skewed", &skewed),
            ("small", &small),
            ("even", &even),
        ] {
            let e = edges(column);
            let d = distinct(column);
            assert!(d > 100, "{name}: only {d} distinct values");
            assert_eq!(e.len() + 1, d.min(MAX_BINS), "{name}: {d} distinct values");
            assert!(e.windows(2).all(|w| w[0] < w[1]), "{name}");
            let sizes = bin_sizes(column, &e);
            assert!(sizes.iter().all(|&s| s > 0), "{name}: an empty bin");
            // Balanced: no bin holds more than twice its share unless it is
            // one repeated value.
            let share = n as usize / MAX_BINS;
            for (b, &size) in sizes.iter().enumerate() {
                let lo = if b == 0 { f64::NEG_INFINITY } else { e[b - 1] };
                let hi = if b < e.len() { e[b] } else { f64::INFINITY };
                let values: Vec<f64> = column
                    .iter()
                    .copied()
                    .filter(|v| *v > lo && *v <= hi)
                    .collect();
                assert!(
                    size <= 2 * share + 1 || distinct(&values) == 1,
                    "{name}: bin {b} holds {size} rows of {} values",
                    distinct(&values)
                );
            }
        }
    }

    #[test]
    fn learns_an_xor_exactly_and_predicts_on_raw_values() {
        let x = matrix(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
        let y = [0, 1, 1, 0];
        let data = Binned::new(&x);
        let target = Target::Classes(&y, 2, Criterion::Gini);
        // Gini gains nothing at the root of an XOR; a depth-first grower that
        // demands a gain stops there, as scikit-learn's does.
        let tree = Tree::grow(&data, &target, vec![0, 1, 2, 3], &growth(), 1);
        assert_eq!(tree.leaf_of(&[0.0, 1.0], 2), &[0.5, 0.5]);

        let y = [0, 0, 1, 1];
        let target = Target::Classes(&y, 2, Criterion::Entropy);
        let tree = Tree::grow(&data, &target, vec![0, 1, 2, 3], &growth(), 1);
        assert_eq!(tree.leaf_of(&[0.2, 7.0], 2), &[1.0, 0.0]);
        assert_eq!(tree.leaf_of(&[0.9, -7.0], 2), &[0.0, 1.0]);
        assert_eq!(tree.gains()[1], 0.0);
        assert!((tree.gains()[0] - 4.0).abs() < 1e-12, "{:?}", tree.gains());
    }

    #[test]
    fn regression_leaves_hold_means_and_respect_min_leaf() {
        let x = matrix(&[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]]);
        let y = [1.0, 1.0, 10.0, 12.0];
        let data = Binned::new(&x);
        let mut g = growth();
        g.min_samples_leaf = 2;
        let tree = Tree::grow(&data, &Target::Values(&y), vec![0, 1, 2, 3], &g, 1);
        assert_eq!(tree.leaf_of(&[1.5, 0.0], 1), &[1.0]);
        assert_eq!(tree.leaf_of(&[3.5, 0.0], 1), &[11.0]);
        g.max_depth = Some(1);
        g.min_samples_leaf = 1;
        let stump = Tree::grow(&data, &Target::Values(&y), vec![0, 1, 2, 3], &g, 1);
        assert_eq!(stump.nodes.len(), 3);
        assert_eq!(std::mem::size_of::<Node>(), 16);
        let rows: Vec<&[f64]> = vec![&[1.5, 0.0], &[3.5, 0.0], &[9.0, 0.0]];
        let mut offsets = [0; LANES];
        tree.leaves_of(&rows, &mut offsets);
        for (row, &offset) in rows.iter().zip(&offsets) {
            assert_eq!(tree.value(offset, 1), tree.leaf_of(row, 1));
        }
    }

    /// A split sits midway between the node's own values either side of
    /// it, as scikit-learn's does, not at the first global bin edge past the
    /// left value: here the right child's rows have x0 in {1, 2, 9, 10} and
    /// 5 exists only in the other child, so the cut is 5.5, not 3.5. A value
    /// exactly midway goes left.
    #[test]
    fn thresholds_split_the_nodes_gap_in_the_middle() {
        let x = matrix(&[
            [1.0, 0.0],
            [2.0, 0.0],
            [9.0, 0.0],
            [10.0, 0.0],
            [5.0, 1.0],
            [5.0, 1.0],
        ]);
        let y = [0.0, 0.0, 10.0, 10.0, 100.0, 100.0];
        let data = Binned::new(&x);
        let tree = Tree::grow(&data, &Target::Values(&y), (0..6).collect(), &growth(), 1);
        assert_eq!(tree.leaf_of(&[5.4, 0.0], 1), &[0.0]);
        assert_eq!(tree.leaf_of(&[5.5, 0.0], 1), &[0.0]);
        assert_eq!(tree.leaf_of(&[5.6, 0.0], 1), &[10.0]);
        assert_eq!(tree.leaf_of(&[5.0, 1.0], 1), &[100.0]);
    }

    /// Splits of equal gain go to whichever feature the node's seeded
    /// shuffle tries first: over seeds, either of two identical columns
    /// wins, where a fixed order always picked the first.
    #[test]
    fn equal_gains_are_broken_by_the_seed_not_the_column_order() {
        let rows: Vec<[f64; 2]> = (0..40).map(|i| [f64::from(i), f64::from(i)]).collect();
        let x = matrix(&rows);
        let y: Vec<f64> = (0..40).map(|i| f64::from(i / 10)).collect();
        let data = Binned::new(&x);
        let roots: Vec<u32> = (0..16)
            .map(|seed| {
                let tree = Tree::grow(
                    &data,
                    &Target::Values(&y),
                    (0..40).collect(),
                    &growth(),
                    seed,
                );
                tree.nodes[0].feature
            })
            .collect();
        assert!(roots.contains(&0) && roots.contains(&1), "{roots:?}");
        let again = Tree::grow(&data, &Target::Values(&y), (0..40).collect(), &growth(), 3);
        assert_eq!(
            again.nodes[0].feature, roots[3],
            "the same seed, the same tree"
        );
    }

    /// Lanes that reach their leaves early stop with the rest: a deep tree
    /// walked 8 rows at a time lands every row where a walk of its own,
    /// step by step to its leaf, does.
    #[test]
    fn deep_trees_walked_in_bursts_land_on_each_rows_leaf() {
        let mut uniform = crate::estimator::test_uniform(17);
        let rows: Vec<[f64; 2]> = (0..3_000).map(|_| [uniform(), uniform()]).collect();
        let y: Vec<f64> = rows.iter().map(|r| (r[0] * 40.0).sin() + r[1]).collect();
        let data = Binned::new(&matrix(&rows));
        let tree = Tree::grow(
            &data,
            &Target::Values(&y),
            (0..3_000).collect(),
            &growth(),
            3,
        );
        assert!(tree.depth() > 3 * WALK_BURST, "depth {}", tree.depth());
        let by_hand = |row: &[f64]| {
            let mut at = 0;
            while tree.nodes[at].threshold != f64::INFINITY {
                let node = tree.nodes[at];
                at = node.next as usize + usize::from(row[node.feature as usize] > node.threshold);
            }
            tree.leaf_values[at] as usize
        };
        for lanes in rows.chunks(LANES) {
            let lanes: Vec<&[f64]> = lanes.iter().map(|r| &r[..]).collect();
            let mut offsets = [0; LANES];
            tree.leaves_of(&lanes, &mut offsets);
            for (row, &offset) in lanes.iter().zip(&offsets) {
                assert_eq!(offset, by_hand(row));
            }
        }
    }
}
