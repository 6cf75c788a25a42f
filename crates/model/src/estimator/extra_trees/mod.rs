//! `extra_trees`: extremely randomized trees (Geurts, Ernst and Wehenkel
//! 2006), both tasks. Every tree sees every row and, at each split, one
//! random cut per feature tried, the best of which it keeps
//! ([`hist_tree`]'s random splits); otherwise they are the random forest's
//! trees, with its hyperparameters (`max_features` defaults as
//! scikit-learn's `ExtraTrees*`: `sqrt` for classification, all features
//! for regression), its fitted types, and its compiled prediction.
//!
//! [`hist_tree`]: crate::estimator::hist_tree

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::algorithm::Algorithm;
use super::random_forest::{ForestClassifier, ForestParams, ForestRegressor, Randomness};
use super::{Fitted, Target, Task};
use crate::error::Result;

/// `extra_trees`: the random forest's parameters, under their own name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExtraTreesParams(pub ForestParams);

impl Algorithm for ExtraTreesParams {
    const NAME: &'static str = "extra_trees";
    const TASKS: &'static [Task] = &[Task::Classification, Task::Regression];

    fn check(&self) -> Result<()> {
        self.0.check()
    }

    fn with_task_defaults(self, task: Task) -> Self {
        Self(self.0.with_task_defaults(task))
    }

    fn fit(&self, x: &DenseMatrix<f64>, y: &Target, seed: u64) -> Result<Fitted> {
        let (p, randomness) = (&self.0, Randomness::ExtraTrees);
        Ok(match y {
            Target::Classes(y, classes) => Fitted::ExtraTreesClassifier(ForestClassifier::fit(
                x, y, *classes, p, seed, randomness,
            )?),
            Target::Values(y) => {
                Fitted::ExtraTreesRegressor(ForestRegressor::fit(x, y, p, seed, randomness)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use smartcore::linalg::basic::matrix::DenseMatrix;

    use super::*;
    use crate::estimator::Output;

    /// Two informative features, one noise feature; the target a noisy
    /// step of the first two.
    fn data(rows: usize) -> (DenseMatrix<f64>, Vec<f64>, Vec<i32>) {
        let mut next = crate::estimator::test_uniform(0x5EED);
        let x: Vec<[f64; 3]> = (0..rows).map(|_| [next(), next(), next()]).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|r| 3.0 * r[0] + 2.0 * f64::from(u8::from(r[1] > 0.5)) + 0.1 * next())
            .collect();
        let classes = y.iter().map(|&v| i32::from(v > 2.5)).collect();
        let matrix = DenseMatrix::new(rows, 3, x.iter().flatten().copied().collect(), false)
            .unwrap();
        (matrix, y, classes)
    }

    fn params(n_trees: u16) -> ExtraTreesParams {
        ExtraTreesParams(ForestParams {
            n_trees,
            ..ForestParams::default()
        })
    }

    #[test]
    fn fits_both_tasks_and_predicts_held_out_rows() {
        let (x, y, classes) = data(3000);
        let (test, y_test, classes_test) = data(500);
        let p = params(30).with_task_defaults(Task::Regression);
        let fitted = p.fit(&x, &Target::Values(y.clone()), 7).unwrap();
        let Output::Values(predicted) = fitted.predict(&test).unwrap() else {
            panic!("values");
        };
        let mse = predicted
            .iter()
            .zip(&y_test)
            .map(|(p, y)| (p - y).powi(2))
            .sum::<f64>()
            / y_test.len() as f64;
        let variance = {
            let mean = y_test.iter().sum::<f64>() / y_test.len() as f64;
            y_test.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / y_test.len() as f64
        };
        assert!(mse < 0.05 * variance, "mse {mse}, variance {variance}");
        let importances = fitted.feature_importances().unwrap();
        assert!(importances[0] > importances[2] && importances[1] > importances[2]);

        let p = params(30).with_task_defaults(Task::Classification);
        let fitted = p.fit(&x, &Target::Classes(classes.clone(), 2), 7).unwrap();
        assert!(fitted.has_probabilities());
        let Output::Classes(labels, _) = fitted.predict(&test).unwrap() else {
            panic!("classes");
        };
        let right = labels
            .iter()
            .zip(&classes_test)
            .filter(|(a, b)| **a as i32 == **b)
            .count();
        assert!(right as f64 > 0.9 * 500.0, "{right} of 500 right");
    }

    /// Random cuts, not the best ones: extra trees and a random forest of
    /// the same seed grow different trees, and the same seed gives the same
    /// model.
    #[test]
    fn cuts_are_random_and_seeded() {
        let (x, y, _) = data(2000);
        let fit = |seed| params(5).fit(&x, &Target::Values(y.clone()), seed).unwrap();
        let forest = ForestParams {
            n_trees: 5,
            ..ForestParams::default()
        }
        .fit(&x, &Target::Values(y.clone()), 3)
        .unwrap();
        let (a, b, c) = (fit(3), fit(3), fit(4));
        let bytes = |f: &Fitted| rmp_serde::to_vec(f).unwrap();
        assert_eq!(bytes(&a), bytes(&b));
        assert_ne!(bytes(&a), bytes(&c));
        assert_ne!(bytes(&a)[1..], bytes(&forest)[1..]);
    }
}
