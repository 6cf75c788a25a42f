//! A fitted boosted tree. Nodes are 16 bytes, children side by side: a row
//! goes to `next + 1` when its value is above the threshold, or when it is
//! NaN and the split sends missing values right (the top bit of `feature`),
//! else to `next`. A leaf points at itself, so a walk of `depth` steps needs
//! no branch. Thresholds are bin edges, so raw values and training bins
//! take the same paths.

use serde::{Deserialize, Serialize};

use super::bins::MISSING;
use crate::estimator::shape::{self, Walkable};

/// Set in a node's `feature` when missing values go right.
const MISSING_RIGHT: u32 = 1 << 31;

/// Rows walked in lockstep.
pub(super) const LANES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    threshold: f64,
    feature: u32,
    next: u32,
}

/// One tree: nodes, and each node's value (a leaf's score, already scaled
/// by the learning rate; 0 for a split).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct BoostedTree {
    nodes: Vec<Node>,
    values: Vec<f64>,
    depth: u16,
}

/// A split as the grower made it: on training bins, with its raw threshold.
pub(super) struct Split {
    pub feature: usize,
    pub threshold: f64,
    pub missing_right: bool,
}

impl BoostedTree {
    /// A single leaf.
    pub fn new() -> Self {
        Self {
            nodes: vec![Node {
                threshold: f64::INFINITY,
                feature: 0,
                next: 0,
            }],
            values: vec![0.0],
            depth: 0,
        }
    }

    /// Turns leaf `at` (at `depth`) into `split`; returns its children.
    pub fn split(&mut self, at: usize, depth: u16, split: &Split) -> (usize, usize) {
        let l = self.nodes.len();
        for child in [l, l + 1] {
            self.nodes.push(Node {
                threshold: f64::INFINITY,
                feature: 0,
                next: child as u32,
            });
            self.values.push(0.0);
        }
        let missing = if split.missing_right { MISSING_RIGHT } else { 0 };
        self.nodes[at] = Node {
            threshold: split.threshold,
            feature: split.feature as u32 | missing,
            next: l as u32,
        };
        self.depth = self.depth.max(depth + 1);
        (l, l + 1)
    }

    /// Sets leaf `at`'s score.
    pub fn set_value(&mut self, at: usize, value: f64) {
        self.values[at] = value;
    }

    /// The scores of up to [`LANES`] rows, added into `out` (one per row).
    #[inline]
    pub fn add_scores(&self, rows: &[&[f64]], out: &mut [f64]) {
        match <&[&[f64]; LANES]>::try_from(rows) {
            Ok(full) => {
                for (o, v) in out.iter_mut().zip(self.walk(full)) {
                    *o += v;
                }
            }
            Err(_) => {
                for (o, row) in out.iter_mut().zip(rows) {
                    *o += self.walk(&[*row])[0];
                }
            }
        }
    }

    #[inline]
    fn walk<const N: usize>(&self, rows: &[&[f64]; N]) -> [f64; N] {
        let mut at = [0usize; N];
        for _ in 0..self.depth {
            for (a, row) in at.iter_mut().zip(rows) {
                let node = self.nodes[*a];
                let v = row[(node.feature & !MISSING_RIGHT) as usize];
                let right = v > node.threshold
                    || (v.is_nan() && node.feature & MISSING_RIGHT != 0);
                *a = node.next as usize + usize::from(right);
            }
        }
        at.map(|a| self.values[a])
    }

    /// The score of a training row given its bins (`columns[f][row]`) and
    /// `splits[node]`'s bin: the same path as its raw values take.
    pub fn score_binned(&self, columns: &[Vec<u8>], bins: &[u8], row: usize) -> f64 {
        let mut at = 0;
        for _ in 0..self.depth {
            let node = self.nodes[at];
            if node.next as usize == at {
                break;
            }
            let b = columns[(node.feature & !MISSING_RIGHT) as usize][row];
            let right = if b == MISSING {
                node.feature & MISSING_RIGHT != 0
            } else {
                b > bins[at]
            };
            at = node.next as usize + usize::from(right);
        }
        self.values[at]
    }

    /// Checks a decoded tree: features below `features`, children after
    /// their parent and inside the tree, one value per node, the recorded
    /// depth the longest path, every leaf's value within `±bound`.
    pub fn validate(&self, features: usize, bound: f64) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 || n > u32::MAX as usize / 2 || self.values.len() != n {
            return Err(format!(
                "a boosted tree has {n} nodes and {} values",
                self.values.len()
            ));
        }
        shape::check(self, features, |i| {
            let node = self.nodes[i];
            if node.threshold != f64::INFINITY || node.feature & MISSING_RIGHT != 0 {
                return Err(format!("leaf {i} does not stay put"));
            }
            let value = self.values[i];
            if value.is_nan() || value.abs() > bound {
                return Err(format!("leaf {i} holds {value:e}"));
            }
            Ok(())
        })
    }
}

impl BoostedTree {
    /// The value of node `at` (a leaf's score).
    pub fn value(&self, at: usize) -> f64 {
        self.values[at]
    }

    /// Adds this tree to an ONNX `ensemble`, its leaves' scores added to
    /// `target`.
    pub(super) fn onnx(&self, ensemble: &mut crate::onnx::Ensemble, target: usize) {
        let root = self.onnx_node(ensemble, 0, target);
        ensemble.tree(root);
    }

    fn onnx_node(
        &self,
        ensemble: &mut crate::onnx::Ensemble,
        at: usize,
        target: usize,
    ) -> crate::onnx::Branch {
        let node = self.nodes[at];
        if node.threshold == f64::INFINITY {
            return crate::onnx::Branch::Leaf(ensemble.leaf(target, self.values[at]));
        }
        let feature = (node.feature & !MISSING_RIGHT) as usize;
        let nan_left = node.feature & MISSING_RIGHT == 0;
        let split = ensemble.split(feature, node.threshold, nan_left);
        let left = self.onnx_node(ensemble, node.next as usize, target);
        let right = self.onnx_node(ensemble, node.next as usize + 1, target);
        ensemble.link(split, left, right);
        crate::onnx::Branch::Node(split)
    }
}

impl Walkable for BoostedTree {
    fn walk_nodes(&self) -> impl Iterator<Item = (f64, usize, u32, bool)> + '_ {
        self.nodes.iter().enumerate().map(|(i, n)| {
            let feature = (n.feature & !MISSING_RIGHT) as usize;
            (n.threshold, feature, n.next, n.next as usize == i)
        })
    }

    fn walk_depth(&self) -> u16 {
        self.depth
    }
}
