//! Tree ensembles compiled for prediction (random forests here, boosted
//! trees in `gradient_boosting`). A value becomes its bin, the count of the
//! feature's thresholds (over all trees) below it, and a tree step compares
//! bins with 8-byte nodes instead of floats with 16-byte ones. Trees grown
//! on shared bins (boosted trees, forests of bounded depth) have at most
//! 255 thresholds per feature and take one-byte bins; an unbounded forest's
//! thresholds sit between its nodes' own training values (tens of
//! thousands per feature) and take two-byte bins ([`Bin`]). The bins of a
//! block of rows then stay in the cache while all the trees walk it: the
//! walk is bound by the latency of its two dependent loads per step, node
//! and bin. (Measured on 1M rows: the benchmark's 100-tree forest of depth
//! 12, 4 096-row blocks of f64 2.18 s, of one-byte bins 1.96 s, 1 024-row
//! blocks 1.49 s, 512 and 2 048 both slower; a default, unbounded 100-tree
//! forest, f64 walk 5.3 s, two-byte bins in blocks of 1 024 rows 3.6 s, of
//! 8 192 3.25 s, 2 048 3.9 s, 32 768 3.4 s.)
//!
//! The comparison is exact: with `bin(x)` the number of thresholds `t < x`
//! and `t_k` the `k`-th smallest, `x > t_k ⇔ bin(x) > k` (and NaN, which no
//! threshold is below, goes left as `NaN > t` does).
//!
//! A tree of at most 32 leaves (a boosted tree) is not walked but evaluated
//! by leaf masks ([`Masks`]): 1M rows × 100 boosted trees of 31 leaves, the
//! whole inference run 0.89 s → 0.60 s (the I/O floor is 0.37 s).

use std::sync::OnceLock;

use rayon::prelude::*;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::hist_tree::Tree;
use super::rows;
use super::shape::Walkable;

/// Rows of one-byte bins walked through every tree before moving on
/// ([`Bin::BLOCK`] for `u8`).
pub(super) const BLOCK: usize = <u8 as Bin>::BLOCK;

/// Rows that walk a tree in lockstep: independent chains of loads the CPU
/// overlaps (16 measured no faster than 8 on 1M rows × 100 boosted trees).
pub(super) const LANES: usize = 8;

/// Steps a deep tree's lanes take between looking whether all of them stand
/// on leaves (an unbounded forest's trees are ~40 deep, their leaves ~20).
const BURST: u16 = 8;

/// `rows` rounded up to whole sets of [`LANES`]: the length of a block's
/// leaf buffer for [`Compiled::leaves`].
pub(super) fn padded(rows: usize) -> usize {
    rows.div_ceil(LANES) * LANES
}

/// A value computed on first use; not part of the model (equality,
/// serialization, clones start empty).
#[derive(Debug)]
pub(super) struct Lazy<T>(OnceLock<T>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Self(OnceLock::new())
    }
}

impl<T> Lazy<T> {
    pub(super) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(init)
    }
}

impl<T> PartialEq for Lazy<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A value's bin: the count of a feature's thresholds below it. `u8` when
/// every feature has at most 255 thresholds (trees grown on shared bins:
/// boosted trees, bounded forests), `u16` up to 65 535 (an unbounded
/// forest's thresholds sit between its nodes' own training values).
pub(super) trait Bin: Copy + Default + PartialOrd + Send + Sync + std::fmt::Debug {
    /// Most thresholds a feature may have.
    const MAX_EDGES: usize;
    /// Rows walked through every tree before moving on, a multiple of
    /// [`LANES`]: the bins of a block and the trees' nodes share the cache.
    const BLOCK: usize;
    /// A leaf's bin, which no value's bin is above.
    const LEAF: Self;
    /// `index` ≤ [`MAX_EDGES`](Self::MAX_EDGES) as a bin.
    fn of(index: usize) -> Self;
}

const BLOCK_U8: usize = 1024;
const BLOCK_U16: usize = 8192;
const _: () = assert!(BLOCK_U8.is_multiple_of(LANES) && BLOCK_U16.is_multiple_of(LANES));

impl Bin for u8 {
    const MAX_EDGES: usize = 255;
    const BLOCK: usize = BLOCK_U8;
    const LEAF: Self = u8::MAX;
    fn of(index: usize) -> Self {
        index as u8
    }
}

impl Bin for u16 {
    const MAX_EDGES: usize = 65_535;
    const BLOCK: usize = BLOCK_U16;
    const LEAF: Self = u16::MAX;
    fn of(index: usize) -> Self {
        index as u16
    }
}

/// One node in 8 bytes: go to `next + 1` when the row's bin of `feature` is
/// above `bin`, else to `next`. A leaf has bin [`Bin::LEAF`] and points at
/// itself.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node<B> {
    next: u32,
    feature: u16,
    bin: B,
}

impl<B: Bin> Node<B> {
    fn is_leaf(&self, at: u32) -> bool {
        self.next == at
    }
}

#[derive(Debug, PartialEq)]
struct CompiledTree<B> {
    nodes: Vec<Node<B>>,
    depth: u16,
    /// The same tree as leaf masks, when it has at most [`MASK_LEAVES`]
    /// leaves (boosted trees: 31 by default).
    masks: Option<Masks<B>>,
}

/// Most leaves a tree may have to be evaluated by [`Masks`].
const MASK_LEAVES: usize = 32;

/// A tree evaluated QuickScorer-style (Lucchese et al., SIGIR 2015): leaves
/// are numbered left to right, and a split a row passes to the right rules
/// out the leaves under its left child. Every split is applied to a whole
/// block of rows, a compare and an AND per row that the compiler turns into
/// vector code; a row's leaf is then the leftmost one left (its leaves left
/// of it are ruled out by the splits where its path and theirs part, and no
/// split rules it out: it is under the left child only of splits its path
/// goes left at). No dependent loads, and no steps past a shallow leaf,
/// where the lockstep walk takes the deepest path for every row.
#[derive(Debug, PartialEq)]
struct Masks<B> {
    /// Per split and byte of the leaf mask its left child covers: the
    /// split's feature and bin, which byte, and its bits there. A row's mask
    /// is kept as four byte planes, so that a split touches only the planes
    /// of its left child's leaves, 16 rows to a vector instruction.
    splits: Vec<(u16, B, u8, u8)>,
    /// Leaf number to node index; one more entry, for a mask with no bit
    /// left, which a checked tree cannot produce.
    leaf_nodes: Vec<u32>,
}

impl<B: Bin> Masks<B> {
    /// `None` when the tree has more than [`MASK_LEAVES`] leaves.
    fn new(nodes: &[Node<B>]) -> Option<Self> {
        let mut leaf_nodes = Vec::new();
        let mut masks: Vec<(Node<B>, u32)> = Vec::new();
        // Depth first, left before right; a split's mask is known once its
        // left child's leaves are numbered.
        let mut stack = vec![(0u32, None::<(usize, u32)>)];
        while let Some((at, left_of)) = stack.pop() {
            if let Some((split, first)) = left_of {
                let count = leaf_nodes.len() as u32 - first;
                let bits = u32::MAX.checked_shr(32 - count).unwrap_or(0) << first;
                masks.get_mut(split)?.1 = bits;
                continue;
            }
            let node = *nodes.get(at as usize)?;
            if node.is_leaf(at) {
                if leaf_nodes.len() == MASK_LEAVES {
                    return None;
                }
                leaf_nodes.push(at);
                continue;
            }
            if masks.len() == nodes.len() {
                return None; // a cycle: not a tree
            }
            masks.push((node, 0));
            let first = leaf_nodes.len() as u32;
            stack.push((node.next + 1, None));
            stack.push((0, Some((masks.len() - 1, first))));
            stack.push((node.next, None));
        }
        let splits = masks
            .iter()
            .flat_map(|&(node, bits)| {
                (0..4u8).filter_map(move |plane| {
                    let byte = (bits >> (8 * plane)) as u8;
                    (byte != 0).then_some((node.feature, node.bin, plane, byte))
                })
            })
            .collect();
        let last = *leaf_nodes.first()?;
        leaf_nodes.push(last);
        Some(Self { splits, leaf_nodes })
    }

    /// As [`CompiledTree::leaves`].
    fn leaves(&self, bins: &[B], n: usize, out: &mut [u32]) {
        let mut planes = vec![u8::MAX; 4 * n];
        for &(feature, bin, plane, under_left) in &self.splits {
            let start = usize::from(feature) * B::BLOCK;
            let plane = &mut planes[usize::from(plane) * n..][..n];
            for (l, &b) in plane.iter_mut().zip(&bins[start..start + n]) {
                // All ones where the row goes right.
                let right = u8::from(b > bin).wrapping_neg();
                *l &= !(right & under_left);
            }
        }
        let last = self.leaf_nodes.len() - 1;
        let (p0, rest) = planes.split_at(n);
        let (p1, rest) = rest.split_at(n);
        let (p2, p3) = rest.split_at(n);
        for (r, o) in out.iter_mut().take(n).enumerate() {
            let mask = u32::from_le_bytes([p0[r], p1[r], p2[r], p3[r]]);
            *o = self.leaf_nodes[(mask.trailing_zeros() as usize).min(last)];
        }
    }
}

/// The trees of a forest with comparisons of bins.
#[derive(Debug, PartialEq)]
pub(super) struct Compiled<B> {
    /// Per feature, the sorted distinct thresholds the trees use.
    edges: Vec<Vec<f64>>,
    trees: Vec<CompiledTree<B>>,
}

impl<B: Bin> Compiled<B> {
    /// Compiles `trees` over `width` features; `None` when a feature has more
    /// than [`Bin::MAX_EDGES`] distinct thresholds or there are more
    /// features than a node can name.
    pub(super) fn new<T: Walkable>(trees: &[T], width: usize) -> Option<Self> {
        if width > usize::from(u16::MAX) + 1 {
            return None;
        }
        let mut edges: Vec<Vec<f64>> = vec![Vec::new(); width];
        for tree in trees {
            for (threshold, feature, _, leaf) in tree.walk_nodes() {
                if !leaf {
                    edges.get_mut(feature)?.push(threshold);
                }
            }
        }
        for e in &mut edges {
            e.sort_by(f64::total_cmp);
            e.dedup();
            if e.len() > B::MAX_EDGES {
                return None;
            }
        }
        let trees = trees
            .iter()
            .map(|tree| {
                let nodes: Vec<Node<B>> = tree
                    .walk_nodes()
                    .map(|(threshold, feature, next, leaf)| {
                        if leaf {
                            Node {
                                next,
                                feature: 0,
                                bin: B::LEAF,
                            }
                        } else {
                            let at = edges[feature].partition_point(|&t| t < threshold);
                            Node {
                                next,
                                feature: feature as u16,
                                bin: B::of(at),
                            }
                        }
                    })
                    .collect();
                CompiledTree {
                    masks: Masks::new(&nodes),
                    nodes,
                    depth: tree.walk_depth(),
                }
            })
            .collect();
        Some(Self { edges, trees })
    }

    /// The mean of the trees' leaves (`width` values per row, row after row)
    /// for every row of `x`, into `out`. `trees` are the ones this was
    /// compiled from. Blocks of rows run on rayon; within a block the loop is
    /// tree-major.
    fn mean_of_leaves(&self, trees: &[Tree], x: &DenseMatrix<f64>, width: usize, out: &mut [f64]) {
        let all: Vec<&[f64]> = rows(x).collect();
        let features = x.shape().1.min(self.edges.len());
        let scale = 1.0 / trees.len().max(1) as f64;
        out.par_chunks_mut(B::BLOCK * width)
            .zip(all.par_chunks(B::BLOCK))
            .for_each(|(out, rows)| {
                let bins = self.bins(rows, features);
                let n = padded(rows.len());
                let mut leaves = vec![0u32; n];
                for (t, tree) in trees.iter().enumerate() {
                    self.leaves(t, &bins, n, &mut leaves);
                    let offsets = tree.leaf_offsets();
                    for (sum, &node) in out.chunks_exact_mut(width).zip(&leaves) {
                        let leaf = tree.value(offsets[node as usize] as usize, width);
                        sum.iter_mut().zip(leaf).for_each(|(s, v)| *s += v);
                    }
                }
                out.iter_mut().for_each(|v| *v *= scale);
            });
    }

    /// For the first `n` rows of a block (a multiple of [`LANES`]; `bins`
    /// from [`bins`](Self::bins)), the node index of each row's leaf in tree
    /// `t`, into `out`.
    pub(super) fn leaves(&self, t: usize, bins: &[B], n: usize, out: &mut [u32]) {
        self.trees[t].leaves(bins, n, out);
    }

    /// The bins of up to [`Bin::BLOCK`] rows, feature by feature:
    /// `bins[feature * Bin::BLOCK + row]`. NaN is below every threshold.
    pub(super) fn bins(&self, rows: &[&[f64]], features: usize) -> Vec<B> {
        let mut bins = vec![B::default(); self.edges.len() * B::BLOCK];
        for (f, edges) in self.edges.iter().enumerate().take(features) {
            let column = &mut bins[f * B::BLOCK..][..rows.len()];
            match edges.as_slice() {
                [] => {}
                [edge] => {
                    for (b, row) in column.iter_mut().zip(rows) {
                        *b = B::of(usize::from(row[f] > *edge));
                    }
                }
                _ => {
                    for (b, row) in column.iter_mut().zip(rows) {
                        let x = row[f];
                        *b = B::of(edges.partition_point(|&t| t < x));
                    }
                }
            }
        }
        bins
    }
}

impl<B: Bin> CompiledTree<B> {
    /// For the first `n` rows of the block (a multiple of [`LANES`]), the
    /// node index of each row's leaf, into `out`. [`LANES`] rows walk in
    /// lockstep, branch-free; a tree deeper than [`BURST`] stops once all
    /// of them stand on leaves, looked at every [`BURST`] steps.
    fn leaves(&self, bins: &[B], n: usize, out: &mut [u32]) {
        if let Some(masks) = &self.masks {
            return masks.leaves(bins, n, out);
        }
        for (r, out) in (0..n).step_by(LANES).zip(out.chunks_exact_mut(LANES)) {
            let mut at = [0u32; LANES];
            let mut steps = 0;
            while steps < self.depth {
                for _ in 0..BURST.min(self.depth - steps) {
                    for (lane, a) in at.iter_mut().enumerate() {
                        let node = self.nodes[*a as usize];
                        let bin = bins[usize::from(node.feature) * B::BLOCK + r + lane];
                        *a = node.next + u32::from(bin > node.bin);
                    }
                }
                steps += BURST;
                if at.iter().all(|&a| self.nodes[a as usize].is_leaf(a)) {
                    break;
                }
            }
            out.copy_from_slice(&at);
        }
    }
}

/// A forest compiled with the narrowest bins its thresholds allow. (Its
/// leaf values laid out by node, to save the load of the leaf's offset,
/// measured slower: 3.4 → 3.7 s on 1M rows × 100 unbounded trees, the
/// values no longer fitting the cache beside the nodes.)
#[derive(Debug, PartialEq)]
pub(super) enum CompiledForest {
    Narrow(Compiled<u8>),
    Wide(Compiled<u16>),
}

impl CompiledForest {
    /// `None` when a feature has more than 65 535 thresholds or the trees
    /// cannot be compiled (see [`Compiled::new`]).
    pub(super) fn new(trees: &[Tree], width: usize) -> Option<Self> {
        Compiled::new(trees, width)
            .map(Self::Narrow)
            .or_else(|| Compiled::new(trees, width).map(Self::Wide))
    }

    /// The mean of the leaves of `trees` (the ones this was compiled from;
    /// `width` values per row, row after row) for every row of `x`, into
    /// `out`.
    pub(super) fn mean_of_leaves(
        &self,
        trees: &[Tree],
        x: &DenseMatrix<f64>,
        width: usize,
        out: &mut [f64],
    ) {
        match self {
            Self::Narrow(c) => c.mean_of_leaves(trees, x, width, out),
            Self::Wide(c) => c.mean_of_leaves(trees, x, width, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::hist_tree::Criterion;
    use crate::estimator::hist_tree::{Binned, Growth, Target, bootstrap};

    /// A seeded forest of 8 trees on 3 features (one with few distinct
    /// values, like a one-hot column), and rows that hit the thresholds.
    fn forest() -> (Vec<Tree>, Vec<Vec<f64>>) {
        forest_scaled(1.0, 8)
    }

    /// The same with feature 0 scaled, so its bins (and thresholds) differ,
    /// and trees `depth` deep.
    fn forest_scaled(scale: f64, depth: u16) -> (Vec<Tree>, Vec<Vec<f64>>) {
        let mut next = crate::estimator::test_uniform(0x9E37_79B9_7F4A_7C15);
        let rows: Vec<[f64; 3]> = (0..2000)
            .map(|_| [next() * 10.0 * scale, (next() * 3.0).floor(), next() - 0.5])
            .collect();
        let y: Vec<i32> = rows
            .iter()
            .map(|r| i32::from(r[0] / scale + r[1] * 2.0 + r[2] * 4.0 > 7.0))
            .collect();
        let x = DenseMatrix::new(
            rows.len(),
            3,
            rows.iter().flatten().copied().collect(),
            false,
        )
        .unwrap();
        let data = Binned::new(&x);
        let growth = Growth {
            max_depth: Some(depth),
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: Some(2),
            parallel: false,
            random_splits: false,
        };
        let target = Target::Classes(&y, 2, Criterion::Gini);
        let trees: Vec<Tree> = (0..8)
            .map(|t| Tree::grow(&data, &target, bootstrap(rows.len(), t), &growth, t + 100))
            .collect();
        // Every threshold itself, its neighbours, and the odd values.
        let mut probes: Vec<Vec<f64>> = Vec::new();
        for tree in &trees {
            for (threshold, feature, _) in tree.nodes().filter(|n| n.0.is_finite()) {
                for v in [threshold, threshold.next_down(), threshold.next_up()] {
                    let mut row = rows[probes.len() % rows.len()].to_vec();
                    row[feature as usize] = v;
                    probes.push(row);
                }
            }
        }
        for odd in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e300] {
            probes.push(vec![odd, odd, odd]);
        }
        probes.extend(rows.iter().map(|r| r.to_vec()));
        (trees, probes)
    }

    /// At 8 deep (one burst of steps) and 30 deep (several, where lanes
    /// stop on leaves at different bursts).
    #[test]
    fn compiled_forest_predicts_exactly_what_the_trees_do() {
        for depth in [8, 30] {
            let (trees, probes) = forest_scaled(1.0, depth);
            let compiled = CompiledForest::new(&trees, 3).expect("shared bins compile");
            let CompiledForest::Narrow(narrow) = &compiled else {
                panic!("one-byte bins");
            };
            assert!(
                narrow.trees.iter().all(|t| t.masks.is_none()),
                "trees {depth} deep are walked"
            );
            if depth > 8 {
                assert!(narrow.trees.iter().any(|t| t.depth > BURST + 2));
            }
            predicts_what_the_trees_do(&trees, &compiled, &probes);
        }
    }

    /// Trees of at most 32 leaves are evaluated by leaf masks, with the
    /// same leaves: at 3 deep (8 leaves, one byte plane) and 5 deep (up to
    /// 32 leaves, every plane).
    #[test]
    fn leaf_masks_reach_the_leaves_the_walk_does() {
        for depth in [3, 5] {
            let (trees, probes) = forest_scaled(1.0, depth);
            let compiled = Compiled::<u8>::new(&trees, 3).expect("shared bins compile");
            assert!(compiled.trees.iter().all(|t| t.masks.is_some()));
            let leaves =
                |t: &CompiledTree<u8>| (0..).zip(&t.nodes).filter(|(at, n)| n.is_leaf(*at)).count();
            let most = compiled.trees.iter().map(leaves).max().unwrap_or(0);
            assert!(
                most > 8 * usize::from(depth - 3),
                "{most} leaves at depth {depth}"
            );
            // Leaf by leaf against the lockstep walk.
            let rows: Vec<&[f64]> = probes.iter().map(Vec::as_slice).take(BLOCK).collect();
            let bins = compiled.bins(&rows, 3);
            let n = padded(rows.len());
            for tree in &compiled.trees {
                let (mut masked, mut walked) = (vec![0; n], vec![0; n]);
                tree.leaves(&bins, n, &mut masked);
                let walk = CompiledTree {
                    nodes: tree.nodes.clone(),
                    depth: tree.depth,
                    masks: None,
                };
                walk.leaves(&bins, n, &mut walked);
                assert_eq!(masked, walked);
            }
            predicts_what_the_trees_do(&trees, &CompiledForest::Narrow(compiled), &probes);
        }
    }

    fn predicts_what_the_trees_do(trees: &[Tree], compiled: &CompiledForest, probes: &[Vec<f64>]) {
        let x = DenseMatrix::new(
            probes.len(),
            3,
            probes.iter().flatten().copied().collect(),
            false,
        )
        .unwrap();
        let mut got = vec![0.0; probes.len() * 2];
        compiled.mean_of_leaves(trees, &x, 2, &mut got);
        let scale = 1.0 / trees.len() as f64;
        for (row, got) in probes.iter().zip(got.chunks_exact(2)) {
            let mut sum = [0.0; 2];
            for tree in trees {
                let leaf = tree.leaf_of(row, 2);
                sum.iter_mut().zip(leaf).for_each(|(s, v)| *s += v);
            }
            let expected: Vec<f64> = sum.iter().map(|s| s * scale).collect();
            assert_eq!(got, expected, "row {row:?}");
        }
    }

    /// Regression: a split whose threshold is -inf (a column whose -inf
    /// values are their own bin) was compiled as a leaf, so every row went
    /// to its left child.
    #[test]
    fn a_split_at_minus_infinity_compiles_as_a_split() {
        let rows: Vec<[f64; 2]> = (0..200)
            .map(|i| {
                let x = if i % 3 == 0 {
                    f64::NEG_INFINITY
                } else {
                    f64::from(i)
                };
                [x, f64::from(i % 7)]
            })
            .collect();
        let y: Vec<i32> = (0..200).map(|i| i32::from(i % 3 == 0)).collect();
        let x = DenseMatrix::new(200, 2, rows.iter().flatten().copied().collect(), false).unwrap();
        let data = Binned::new(&x);
        let growth = Growth {
            max_depth: Some(1),
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            parallel: false,
            random_splits: false,
        };
        let target = Target::Classes(&y, 2, Criterion::Gini);
        let tree = Tree::grow(&data, &target, (0..200).collect(), &growth, 1);
        assert!(
            tree.nodes().any(|n| n.0 == f64::NEG_INFINITY),
            "the root splits at -inf"
        );
        let trees = [tree];
        let compiled = CompiledForest::new(&trees, 2).expect("compiles");
        let mut got = vec![0.0; 200 * 2];
        compiled.mean_of_leaves(&trees, &x, 2, &mut got);
        for (row, got) in rows.iter().zip(got.chunks_exact(2)) {
            assert_eq!(got, trees[0].leaf_of(row, 2), "row {row:?}");
        }
    }

    /// More than 255 thresholds on a feature (an unbounded forest's) take
    /// two-byte bins, with the same predictions; more than 65 535, or
    /// features outside the width, are not compiled.
    #[test]
    fn more_than_255_thresholds_compile_to_wide_bins() {
        let (trees, _) = forest();
        assert!(matches!(
            CompiledForest::new(&trees, 3),
            Some(CompiledForest::Narrow(_))
        ));
        assert!(CompiledForest::new(&trees, 1).is_none());
        let many: Vec<Tree> = (0..20)
            .flat_map(|k| forest_scaled(1.0 + f64::from(k) * 1e-3, 8).0)
            .collect();
        let distinct: std::collections::BTreeSet<u64> = many
            .iter()
            .flat_map(|t| {
                t.nodes()
                    .filter(|n| n.1 == 0 && n.0.is_finite())
                    .map(|n| n.0.to_bits())
            })
            .collect();
        assert!(distinct.len() > 255, "{} thresholds", distinct.len());
        let wide = CompiledForest::new(&many, 3).expect("two-byte bins");
        assert!(matches!(wide, CompiledForest::Wide(_)));
        let (_, probes) = forest();
        predicts_what_the_trees_do(&many, &wide, &probes);
        let too_many = Stump((0..70_000).map(f64::from).collect());
        assert!(Compiled::<u16>::new(std::slice::from_ref(&too_many), 1).is_none());
        let enough = Stump((0..65_535).map(f64::from).collect());
        assert!(Compiled::<u16>::new(std::slice::from_ref(&enough), 1).is_some());
    }

    /// A chain of splits on feature 0 at the given thresholds, each
    /// split's left child a leaf.
    struct Stump(Vec<f64>);

    impl Walkable for Stump {
        fn walk_nodes(&self) -> impl Iterator<Item = (f64, usize, u32, bool)> + '_ {
            // Split k at node 2k, its leaf at 2k + 1, the next split at 2k + 2.
            let last = 2 * self.0.len() as u32;
            self.0
                .iter()
                .enumerate()
                .flat_map(|(k, &t)| {
                    let at = 2 * k as u32;
                    [(t, 0, at + 1, false), (f64::INFINITY, 0, at + 1, true)]
                })
                .chain(std::iter::once((f64::INFINITY, 0, last, true)))
        }

        fn walk_depth(&self) -> u16 {
            u16::MAX
        }
    }
}
