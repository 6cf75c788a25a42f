//! Evaluation metrics, computed as scikit-learn computes them (the unit tests
//! hold constants obtained from scikit-learn on the same inputs).

mod classification;
mod regression;

pub use classification::classification;
pub use records::training::{ClassMetrics, ClassificationMetrics, RegressionMetrics};
pub use regression::regression;

use model_registry::Better;

/// The metric `if_better` compares when none is configured.
pub fn default_metric(task: model::Task) -> &'static str {
    match task {
        model::Task::Classification => "accuracy",
        model::Task::Regression => "rmse",
    }
}

/// Which way a metric the trainer records improves: the model's metrics,
/// `baseline_<metric>` and `cv_<metric>` as the metric, `cv_<metric>_std`
/// lower. `None` for a name the trainer does not compute. The card records
/// it per metric, so the registry compares versions without knowing names.
pub fn better(metric: &str) -> Option<Better> {
    if let Some(cv) = metric.strip_prefix("cv_") {
        return if cv.strip_suffix("_std").is_some_and(|m| better(m).is_some()) {
            Some(Better::Lower)
        } else {
            better(cv)
        };
    }
    match metric.strip_prefix("baseline_").unwrap_or(metric) {
        "accuracy" | "balanced_accuracy" | "precision_macro" | "recall_macro" | "f1_macro"
        | "roc_auc" | "r2" => Some(Better::Higher),
        "log_loss" | "rmse" | "mae" | "mape" => Some(Better::Lower),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_metric_has_a_direction() {
        let classification = classification(
            &[0, 1, 1],
            &[Some(0), Some(1), Some(0)],
            Some(&[vec![0.8, 0.2], vec![0.3, 0.7], vec![0.6, 0.4]]),
            &["a".into(), "b".into()],
        );
        let regression = regression(&[1.0, 2.0, 3.0], &[1.5, 2.0, 2.0]);
        let names: Vec<&str> = classification
            .summary()
            .into_iter()
            .chain(regression.summary())
            .map(|(name, _)| name)
            .collect();
        assert!(names.contains(&"roc_auc") && names.contains(&"mape"));
        for name in names {
            for recorded in [
                name.to_string(),
                format!("baseline_{name}"),
                format!("cv_{name}"),
            ] {
                assert!(better(&recorded).is_some(), "{recorded}");
            }
            assert_eq!(better(&format!("cv_{name}_std")), Some(Better::Lower));
        }
        assert_eq!(better("accuracy"), Some(Better::Higher));
        assert_eq!(better("cv_rmse"), Some(Better::Lower));
        assert_eq!(better("baseline_log_loss"), Some(Better::Lower));
        assert_eq!(better("f1"), None);
        assert_eq!(better("cv_f1_std"), None);
    }
}
