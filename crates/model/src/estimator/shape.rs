//! What every fitted tree shares: its nodes read one way ([`Walkable`]),
//! and the structural check a decoded tree passes before it predicts
//! ([`check`]), so that a crafted artifact is refused in one line instead of
//! indexing out of bounds or walking in circles.

use super::hist_tree::Tree;

/// A tree the compiler and [`check`] can read: its nodes as `(threshold, feature, next,
/// leaf)` (a split sends a row to `next + 1` when its value is above the
/// threshold, else to `next`; a leaf points at itself) and its depth.
pub(super) trait Walkable {
    /// The nodes, in order.
    fn walk_nodes(&self) -> impl Iterator<Item = (f64, usize, u32, bool)> + '_;
    /// Longest path from the root, in splits.
    fn walk_depth(&self) -> u16;
}

impl Walkable for Tree {
    fn walk_nodes(&self) -> impl Iterator<Item = (f64, usize, u32, bool)> + '_ {
        // Only +inf marks a leaf: a split on a column with -inf values can
        // sit at -inf (every -inf left, everything else right).
        self.nodes().map(|(threshold, feature, next)| {
            (
                threshold,
                feature as usize,
                next,
                threshold == f64::INFINITY,
            )
        })
    }

    fn walk_depth(&self) -> u16 {
        self.depth()
    }
}

/// Checks a decoded tree's shape for `features` inputs: every node's
/// feature below `features` (a walk reads leaves' features too), a leaf
/// pointing at itself and accepted by `leaf`, a split with a threshold and
/// its children stored after it inside the tree, and the recorded depth the
/// longest path.
pub(super) fn check<T: Walkable>(
    tree: &T,
    features: usize,
    leaf: impl Fn(usize) -> Result<(), String>,
) -> Result<(), String> {
    let nodes: Vec<(f64, usize, u32, bool)> = tree.walk_nodes().collect();
    let n = nodes.len();
    let mut depth = vec![0u16; n];
    let mut longest = 0;
    for (i, &(threshold, feature, next, is_leaf)) in nodes.iter().enumerate() {
        if feature >= features {
            return Err(format!("node {i} tests feature {feature} of {features}"));
        }
        let next = next as usize;
        if is_leaf {
            if next != i {
                return Err(format!("leaf {i} points outside the tree"));
            }
            leaf(i)?;
            longest = longest.max(depth[i]);
            continue;
        }
        if threshold.is_nan() {
            return Err(format!("split {i} has no threshold"));
        }
        if next <= i || next + 1 >= n {
            return Err(format!("split {i} has children outside the tree"));
        }
        let below = depth[i].checked_add(1).ok_or("a tree is too deep")?;
        depth[next] = below;
        depth[next + 1] = below;
    }
    if longest != tree.walk_depth() {
        return Err(format!(
            "a tree says depth {} but is {longest} deep",
            tree.walk_depth()
        ));
    }
    Ok(())
}
