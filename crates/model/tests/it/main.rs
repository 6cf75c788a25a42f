//! Integration tests for `model`: every estimator on the penguins sample,
//! artifact round trips, determinism, bad artifacts and bad parameters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod artifact;
mod estimators;
mod penguins;
