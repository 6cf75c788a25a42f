//! Trees as one `ai.onnx.ml` `TreeEnsemble` node (opset 5, doubles). A leaf
//! of that operator adds one weight to one target, so a tree whose leaves
//! hold several values (a classifier's class probabilities) is written once
//! per value, each copy adding its leaves' value to that target; the copies
//! are summed, with weights scaled so that the sum is the model's mean.

use super::graph::{Attr, Graph, tensor_f64, tensor_u8};

/// Where a branch goes: an interior node or a leaf, by index.
#[derive(Debug, Clone, Copy)]
pub enum Branch {
    /// An interior node.
    Node(usize),
    /// A leaf.
    Leaf(usize),
}

/// The `TreeEnsemble` attributes, built tree by tree.
#[derive(Debug, Default)]
pub struct Ensemble {
    features: Vec<i64>,
    splits: Vec<f64>,
    true_ids: Vec<i64>,
    true_leafs: Vec<i64>,
    false_ids: Vec<i64>,
    false_leafs: Vec<i64>,
    missing_true: Vec<i64>,
    leaf_targets: Vec<i64>,
    leaf_weights: Vec<f64>,
    roots: Vec<i64>,
}

impl Ensemble {
    /// A split sending a row to its true branch when `feature ≤ threshold`,
    /// and a NaN to the true branch when `nan_true` (Cauce's histogram trees
    /// send NaN left, as `x > t` is false; a boosted split says which way);
    /// its index. Link its branches with [`Ensemble::link`].
    pub fn split(&mut self, feature: usize, threshold: f64, nan_true: bool) -> usize {
        self.missing_true.push(i64::from(nan_true));
        self.features.push(feature as i64);
        self.splits.push(threshold);
        self.true_ids.push(0);
        self.true_leafs.push(0);
        self.false_ids.push(0);
        self.false_leafs.push(0);
        self.features.len() - 1
    }

    /// A leaf adding `weight` to `target`; its index.
    pub fn leaf(&mut self, target: usize, weight: f64) -> usize {
        self.leaf_targets.push(target as i64);
        self.leaf_weights.push(weight);
        self.leaf_targets.len() - 1
    }

    /// Sets the branches of split `node`.
    pub fn link(&mut self, node: usize, when_true: Branch, when_false: Branch) {
        let (id, leaf) = parts(when_true);
        self.true_ids[node] = id;
        self.true_leafs[node] = leaf;
        let (id, leaf) = parts(when_false);
        self.false_ids[node] = id;
        self.false_leafs[node] = leaf;
    }

    /// Makes `root` a tree: a split, or a leaf alone (written as a split
    /// whose both branches are that leaf).
    pub fn tree(&mut self, root: Branch) {
        let node = match root {
            Branch::Node(node) => node,
            Branch::Leaf(_) => {
                let node = self.split(0, 0.0, true);
                self.link(node, root, root);
                node
            }
        };
        self.roots.push(node as i64);
    }

    /// The node over `x` with `targets` outputs (the leaves' weights summed
    /// per target); its output's name.
    pub fn finish(self, graph: &mut Graph, x: &str, targets: usize) -> String {
        let count = self.features.len();
        let leaves = self.leaf_weights.len();
        graph.ml(
            "TreeEnsemble",
            &[x],
            vec![
                ("n_targets", Attr::Int(targets as i64)),
                ("aggregate_function", Attr::Int(1)),
                ("post_transform", Attr::Int(0)),
                ("tree_roots", Attr::Ints(self.roots)),
                ("nodes_featureids", Attr::Ints(self.features)),
                (
                    "nodes_splits",
                    Attr::Tensor(tensor_f64(self.splits, &[count as i64])),
                ),
                ("nodes_modes", Attr::Tensor(tensor_u8(&vec![0; count]))),
                ("nodes_truenodeids", Attr::Ints(self.true_ids)),
                ("nodes_trueleafs", Attr::Ints(self.true_leafs)),
                ("nodes_falsenodeids", Attr::Ints(self.false_ids)),
                ("nodes_falseleafs", Attr::Ints(self.false_leafs)),
                (
                    "nodes_missing_value_tracks_true",
                    Attr::Ints(self.missing_true),
                ),
                ("leaf_targetids", Attr::Ints(self.leaf_targets)),
                (
                    "leaf_weights",
                    Attr::Tensor(tensor_f64(self.leaf_weights, &[leaves as i64])),
                ),
            ],
        )
    }
}

fn parts(branch: Branch) -> (i64, i64) {
    match branch {
        Branch::Node(i) => (i as i64, 0),
        Branch::Leaf(i) => (i as i64, 1),
    }
}
