//! Evaluation metrics, computed as scikit-learn computes them (the unit tests
//! hold constants obtained from scikit-learn on the same inputs).

mod classification;
mod regression;

pub use classification::{ClassMetrics, ClassificationMetrics, classification};
pub use regression::{RegressionMetrics, regression};
