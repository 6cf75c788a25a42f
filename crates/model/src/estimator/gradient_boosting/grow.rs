//! Leaf-wise growth of one boosted tree on binned features, LightGBM's way:
//! every open leaf knows its best split (second-order gain
//! `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`), and the leaf whose split gains
//! most is split next, until the tree has `max_leaves` leaves or no split
//! gains. A split tries missing values on both sides and keeps the better
//! (when the node has none, they go with the larger child, as
//! scikit-learn's do). Only the smaller child's histograms are counted; the
//! larger child's are its parent's minus the smaller's. Histograms are
//! counted row by row, every feature of a row at once (as XGBoost's `hist`
//! does): the updates of one row go to different histograms, so they do not
//! wait on each other the way a column's runs of equal bins (one-hot
//! columns) do. Big nodes are counted in fixed chunks of rows on rayon and
//! the chunks summed in order, so the sums do not depend on the thread
//! count.

use rayon::prelude::*;

use super::bins::{Binned, MISSING, Place};
use super::tree::{BoostedTree, Split};

/// Rows per chunk of a node's histogram pass (each chunk is counted on its
/// own, then the chunks are summed in order).
const CHUNK: usize = 1 << 13;
/// Slots per feature in a histogram: 255 value bins and the missing bin.
const BINS: usize = 256;

/// How to grow a tree.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub max_leaves: usize,
    pub max_depth: Option<u16>,
    pub min_samples_leaf: f64,
    pub min_child_weight: f64,
    pub l2: f64,
    pub min_gain: f64,
    pub learning_rate: f64,
}

/// Gradient, hessian and row count summed over some rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    g: f64,
    h: f64,
    n: f64,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        self.g += other.g;
        self.h += other.h;
        self.n += other.n;
    }

    fn minus(self, other: Sums) -> Sums {
        Sums {
            g: self.g - other.g,
            h: self.h - other.h,
            n: self.n - other.n,
        }
    }

    /// `G² / (H + λ)`: how much the optimal leaf value lowers the loss (× 2).
    fn score(self, l2: f64) -> f64 {
        self.g * self.g / (self.h + l2)
    }
}

/// Per group of features (see [`Binned`]), [`BINS`] slots.
type Histograms = Vec<[Sums; BINS]>;

/// The gradients of one output: `gh[row * outputs + output]`.
#[derive(Clone, Copy)]
pub(super) struct Gradients<'a> {
    pub gh: &'a [[f32; 2]],
    pub outputs: usize,
    pub output: usize,
}

impl Gradients<'_> {
    #[inline]
    fn at(&self, row: u32) -> [f64; 2] {
        let [g, h] = self.gh[row as usize * self.outputs + self.output];
        [f64::from(g), f64::from(h)]
    }
}

/// A grown tree, with what boosting needs next.
pub(super) struct Grown {
    pub tree: BoostedTree,
    /// Per node, the bin its split is on (255 for leaves).
    pub bins: Vec<u8>,
    /// Every leaf with the rows it was grown on.
    pub leaves: Vec<(usize, Vec<u32>)>,
    /// Gain of the splits, per feature.
    pub gains: Vec<f64>,
}

/// A candidate split of one leaf.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    feature: usize,
    bin: u8,
    missing_right: bool,
    gain: f64,
    left: Sums,
    right: Sums,
}

/// A leaf that may still be split.
struct Open {
    node: usize,
    depth: u16,
    rows: Vec<u32>,
    sums: Sums,
    hists: Option<Histograms>,
    best: Option<Candidate>,
}

/// Grows a tree on `rows` with `grad`, splitting only on `features`.
pub(super) fn grow(
    data: &Binned,
    grad: Gradients<'_>,
    rows: Vec<u32>,
    features: &[usize],
    settings: &Settings,
) -> Grown {
    let mut tree = BoostedTree::new();
    let mut bins = vec![MISSING];
    let mut gains = vec![0.0; data.width()];
    let sums = rows.iter().fold(Sums::default(), |mut s, &r| {
        let [g, h] = grad.at(r);
        s.add(Sums { g, h, n: 1.0 });
        s
    });
    let mut open = vec![settle(data, grad, features, settings, Open {
        node: 0,
        depth: 0,
        rows,
        sums,
        hists: None,
        best: None,
    })];
    let mut closed: Vec<Open> = Vec::new();
    let mut leaves = 1;
    while leaves < settings.max_leaves {
        // The open leaf whose split gains most (ties: the earliest node).
        let Some(at) = (0..open.len())
            .filter(|&i| open[i].best.is_some())
            .max_by(|&a, &b| {
                let gain = |i: usize| open[i].best.map_or(f64::NEG_INFINITY, |c| c.gain);
                gain(a)
                    .total_cmp(&gain(b))
                    .then(open[b].node.cmp(&open[a].node))
            })
        else {
            break;
        };
        let parent = open.swap_remove(at);
        let Some(best) = parent.best else { break };
        let (left_rows, right_rows) = partition(&data.columns[best.feature], &parent.rows, &best);
        let edges = &data.edges[best.feature];
        let split = Split {
            feature: best.feature,
            threshold: edges.get(best.bin as usize).copied().unwrap_or(f64::INFINITY),
            missing_right: best.missing_right,
        };
        let (l, r) = tree.split(parent.node, parent.depth, &split);
        bins[parent.node] = best.bin;
        bins.extend([MISSING, MISSING]);
        gains[best.feature] += best.gain;
        leaves += 1;
        let depth = parent.depth + 1;
        let may_split = |n: usize| {
            n as f64 >= 2.0 * settings.min_samples_leaf
                && settings.max_depth.is_none_or(|d| depth < d)
        };
        // Histograms of the children: count the smaller, subtract for the larger.
        let (left_hists, right_hists) = match parent.hists {
            Some(hists) if may_split(left_rows.len()) || may_split(right_rows.len()) => {
                let left_smaller = left_rows.len() <= right_rows.len();
                let smaller = if left_smaller { &left_rows } else { &right_rows };
                let counted = histograms(data, grad, smaller);
                let rest = subtract(hists, &counted);
                if left_smaller {
                    (Some(counted), Some(rest))
                } else {
                    (Some(rest), Some(counted))
                }
            }
            _ => (None, None),
        };
        for (node, rows, sums, hists) in [
            (l, left_rows, best.left, left_hists),
            (r, right_rows, best.right, right_hists),
        ] {
            let child = Open {
                node,
                depth,
                best: None,
                hists: if may_split(rows.len()) { hists } else { None },
                rows,
                sums,
            };
            let child = if child.hists.is_some() {
                settle(data, grad, features, settings, child)
            } else {
                child
            };
            if child.best.is_some() {
                open.push(child);
            } else {
                closed.push(child);
            }
        }
    }
    let mut all_leaves = Vec::with_capacity(open.len() + closed.len());
    for leaf in open.into_iter().chain(closed) {
        let value = -settings.learning_rate * leaf.sums.g / (leaf.sums.h + settings.l2);
        tree.set_value(leaf.node, if value.is_finite() { value } else { 0.0 });
        all_leaves.push((leaf.node, leaf.rows));
    }
    all_leaves.sort_unstable_by_key(|l| l.0);
    Grown {
        tree,
        bins,
        leaves: all_leaves,
        gains,
    }
}

/// A node's rows split by `split`, both sides in row order; big nodes in
/// chunks on rayon.
fn partition(column: &[u8], rows: &[u32], split: &Candidate) -> (Vec<u32>, Vec<u32>) {
    // Branch-free: every row is written to both sides and only the side it
    // belongs to moves on (a branch per row mispredicts half the time).
    let split_chunk = |rows: &[u32]| {
        let (mut left, mut right) = (vec![0u32; rows.len()], vec![0u32; rows.len()]);
        let (mut l, mut r) = (0, 0);
        for &row in rows {
            let b = column[row as usize];
            let go_left = (b == MISSING && !split.missing_right) | (b != MISSING && b <= split.bin);
            left[l] = row;
            right[r] = row;
            l += usize::from(go_left);
            r += usize::from(!go_left);
        }
        left.truncate(l);
        right.truncate(r);
        (left, right)
    };
    if rows.len() <= CHUNK {
        return split_chunk(rows);
    }
    let parts: Vec<(Vec<u32>, Vec<u32>)> = rows.par_chunks(CHUNK).map(split_chunk).collect();
    let mut left = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut right = Vec::with_capacity(rows.len() - left.capacity());
    for (l, r) in parts {
        left.extend_from_slice(&l);
        right.extend_from_slice(&r);
    }
    (left, right)
}

/// Counts a leaf's histograms if it has none, then finds its best split.
fn settle(
    data: &Binned,
    grad: Gradients<'_>,
    features: &[usize],
    settings: &Settings,
    mut leaf: Open,
) -> Open {
    if leaf.rows.len() as f64 >= 2.0 * settings.min_samples_leaf
        && settings.max_depth.is_none_or(|d| leaf.depth < d)
    {
        let hists = leaf
            .hists
            .take()
            .unwrap_or_else(|| histograms(data, grad, &leaf.rows));
        leaf.best = best_split(data, &hists, features, leaf.sums, settings);
        leaf.hists = leaf.best.is_some().then_some(hists);
    } else {
        leaf.hists = None;
    }
    leaf
}

/// The group histograms of `rows`.
fn histograms(data: &Binned, grad: Gradients<'_>, rows: &[u32]) -> Histograms {
    let count = |rows: &[u32]| -> Histograms {
        let mut hists = vec![[Sums::default(); BINS]; data.groups()];
        for &r in rows {
            let [g, h] = grad.at(r);
            for (hist, &b) in hists.iter_mut().zip(data.row(r as usize)) {
                let slot = &mut hist[b as usize];
                slot.g += g;
                slot.h += h;
                slot.n += 1.0;
            }
        }
        hists
    };
    if rows.len() <= CHUNK {
        return count(rows);
    }
    let parts: Vec<Histograms> = rows.par_chunks(CHUNK).map(count).collect();
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_default();
    for part in parts {
        for (t, p) in total.iter_mut().zip(&part) {
            for (t, p) in t.iter_mut().zip(p) {
                t.add(*p);
            }
        }
    }
    total
}

/// Feature `f`'s histogram at a node with `sums`, from the group histograms.
fn feature_histogram(data: &Binned, hists: &Histograms, f: usize, sums: Sums) -> [Sums; BINS] {
    match data.places[f] {
        Place::Alone(group) => hists[group],
        Place::Bundled {
            group,
            offset,
            default,
        } => {
            let bins = data.value_bins(f);
            let mut hist = [Sums::default(); BINS];
            let mut rest = sums;
            for b in (0..bins).filter(|&b| b != default as usize) {
                let slot = hists[group][offset + b - usize::from(b > default as usize)];
                hist[b] = slot;
                rest = rest.minus(slot);
            }
            hist[default as usize] = rest;
            hist
        }
    }
}

/// A parent's histograms minus one child's: the other child's.
fn subtract(mut parent: Histograms, child: &Histograms) -> Histograms {
    for (p, c) in parent.iter_mut().zip(child) {
        for (p, c) in p.iter_mut().zip(c) {
            *p = p.minus(*c);
        }
    }
    parent
}

/// The best split of a leaf with `sums` over its rows, if any gains more
/// than `min_gain`. Ties keep the first feature and the lowest bin.
fn best_split(
    data: &Binned,
    hists: &Histograms,
    features: &[usize],
    sums: Sums,
    s: &Settings,
) -> Option<Candidate> {
    let parent = sums.score(s.l2);
    let mut best: Option<Candidate> = None;
    for &f in features {
        let hist = feature_histogram(data, hists, f, sums);
        let bins = data.value_bins(f);
        let missing = hist[MISSING as usize];
        let mut left = Sums::default();
        for (b, &slot) in hist.iter().enumerate().take(bins) {
            left.add(slot);
            let last = b + 1 == bins;
            // With every value left, only "missing right" is a split.
            if last && missing.n == 0.0 {
                break;
            }
            let sides: &[bool] = match (missing.n > 0.0, last) {
                (false, _) => &[true],
                (true, true) => &[true],
                (true, false) => &[true, false],
            };
            for &missing_right in sides {
                let l = if missing_right { left } else { Sums { g: left.g + missing.g, h: left.h + missing.h, n: left.n + missing.n } };
                let r = sums.minus(l);
                if l.n < s.min_samples_leaf
                    || r.n < s.min_samples_leaf
                    || l.h < s.min_child_weight
                    || r.h < s.min_child_weight
                {
                    continue;
                }
                let gain = l.score(s.l2) + r.score(s.l2) - parent;
                if gain > s.min_gain && gain > 0.0 && best.is_none_or(|c| gain > c.gain) {
                    // No missing values here: they go with the larger child.
                    let missing_right = if missing.n > 0.0 {
                        missing_right
                    } else {
                        r.n > l.n
                    };
                    best = Some(Candidate {
                        feature: f,
                        bin: b as u8,
                        missing_right,
                        gain,
                        left: l,
                        right: r,
                    });
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use smartcore::linalg::basic::matrix::DenseMatrix;

    use super::*;

    fn settings() -> Settings {
        Settings {
            max_leaves: 31,
            max_depth: None,
            min_samples_leaf: 1.0,
            min_child_weight: 1e-3,
            l2: 0.0,
            min_gain: 0.0,
            learning_rate: 1.0,
        }
    }

    /// Squared-error gradients of `y` at score 0: one leaf-wise tree with
    /// learning rate 1 fits a step function exactly, NaN included.
    #[test]
    fn fits_a_step_and_learns_where_missing_values_go() {
        let x: Vec<f64> = vec![1.0, 2.0, 3.0, 4.0, f64::NAN, f64::NAN];
        let y = [0.0, 0.0, 10.0, 10.0, 10.0, 10.0];
        let m = DenseMatrix::new(6, 1, x.clone(), false).unwrap();
        let rows: Vec<u32> = (0..6).collect();
        let data = Binned::new(&m, &rows);
        let gh: Vec<[f32; 2]> = y.iter().map(|v| [-*v as f32, 1.0]).collect();
        let grad = Gradients { gh: &gh, outputs: 1, output: 0 };
        let grown = grow(&data, grad, rows, &[0], &settings());
        for (v, want) in x.iter().zip(y) {
            let mut out = [0.0];
            grown.tree.add_scores(&[&[*v]], &mut out);
            assert_eq!(out[0], want, "x = {v}");
        }
        // Training rows take the same leaves through their bins.
        for (r, &want) in y.iter().enumerate() {
            assert_eq!(grown.tree.score_binned(&data.columns, &grown.bins, r), want);
        }
        assert_eq!(grown.leaves.iter().map(|l| l.1.len()).sum::<usize>(), 6);
    }

    #[test]
    fn max_leaves_and_min_samples_leaf_bound_the_tree() {
        let x: Vec<f64> = (0..100).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| (v * 0.37).sin()).collect();
        let m = DenseMatrix::new(100, 1, x, false).unwrap();
        let rows: Vec<u32> = (0..100).collect();
        let data = Binned::new(&m, &rows);
        let gh: Vec<[f32; 2]> = y.iter().map(|v| [-*v as f32, 1.0]).collect();
        let grad = Gradients { gh: &gh, outputs: 1, output: 0 };
        let mut s = settings();
        s.max_leaves = 5;
        s.min_samples_leaf = 7.0;
        let grown = grow(&data, grad, rows, &[0], &s);
        assert_eq!(grown.leaves.len(), 5);
        assert!(grown.leaves.iter().all(|l| l.1.len() >= 7), "{:?}", grown.leaves);
        s.max_depth = Some(1);
        let stump = grow(&data, grad, (0..100).collect(), &[0], &s);
        assert_eq!(stump.leaves.len(), 2);
    }
}
