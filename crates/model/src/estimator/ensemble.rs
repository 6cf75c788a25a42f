//! What the tree ensembles share: members grown in parallel with seeds
//! derived from one master seed (the same model whatever the thread count),
//! and their importances summed.

use rayon::prelude::*;

use crate::error::Result;

/// Grows `n` members on rayon, member `t` with seed `tree_seed(seed, t)`.
pub(crate) fn grow<M: Send>(
    n: u16,
    seed: u64,
    fit: impl Fn(u64) -> Result<M> + Sync,
) -> Result<Vec<M>> {
    (0..u64::from(n))
        .into_par_iter()
        .map(|t| fit(tree_seed(seed, t)))
        .collect()
}

/// Sum of the members' importances (normalised by the caller).
pub(crate) fn summed_importances<M>(
    members: &[M],
    importances: impl Fn(&M) -> Option<Vec<f64>>,
) -> Option<Vec<f64>> {
    let mut total: Option<Vec<f64>> = None;
    for member in members {
        let values = importances(member)?;
        match &mut total {
            Some(t) => t.iter_mut().zip(&values).for_each(|(a, b)| *a += b),
            None => total = Some(values),
        }
    }
    total
}

/// SplitMix64: a fixed, well-known mixing of (seed, tree index) into a tree seed.
pub(crate) fn tree_seed(seed: u64, tree: u64) -> u64 {
    let mut z = seed ^ tree.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::tree_seed;

    #[test]
    fn tree_seeds_differ_and_are_stable() {
        assert_ne!(tree_seed(42, 0), tree_seed(42, 1));
        assert_eq!(tree_seed(42, 7), tree_seed(42, 7));
    }
}
