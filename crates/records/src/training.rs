//! The training record: what a training run produced, as the model card's
//! `metadata` holds it (the trainer writes it, the registry's `report`
//! reads it back). Test metrics beside the baseline, the search, the
//! booster's losses per round, the curves of the test predictions, and the
//! data the model was trained on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::curves::Curves;
use crate::profile::Profile;

/// Metrics of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class label.
    pub class: String,
    /// tp / (tp + fp), 0 when nothing was predicted as this class.
    pub precision: f64,
    /// tp / (tp + fn), 0 when the class is absent.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// True rows of this class.
    pub support: u64,
}

/// All classification metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Share of rows predicted right.
    pub accuracy: f64,
    /// Mean recall over the classes present.
    pub balanced_accuracy: f64,
    /// Unweighted mean of per-class precision.
    pub precision_macro: f64,
    /// Unweighted mean of per-class recall.
    pub recall_macro: f64,
    /// Unweighted mean of per-class F1.
    pub f1_macro: f64,
    /// Binary: AUC of the positive (second) class; multiclass: one-vs-rest macro.
    pub roc_auc: Option<f64>,
    /// Mean negative log-probability of the true class (probabilities clipped to [1e-15, 1]).
    pub log_loss: Option<f64>,
    /// Per class, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts, in label order.
    pub confusion: Vec<Vec<u64>>,
}

impl ClassificationMetrics {
    /// The headline numbers as `name → value` (for model cards and `--if-better`).
    pub fn summary(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![
            ("accuracy", self.accuracy),
            ("balanced_accuracy", self.balanced_accuracy),
            ("precision_macro", self.precision_macro),
            ("recall_macro", self.recall_macro),
            ("f1_macro", self.f1_macro),
        ];
        if let Some(v) = self.roc_auc {
            out.push(("roc_auc", v));
        }
        if let Some(v) = self.log_loss {
            out.push(("log_loss", v));
        }
        out
    }

    /// A metric by name (as in [`summary`](Self::summary)).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.summary()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// All regression metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination (1 is perfect, 0 is the mean's score).
    pub r2: f64,
    /// Mean absolute percentage error, as a fraction (|y| floored at f64::EPSILON).
    pub mape: f64,
}

impl RegressionMetrics {
    /// The metrics as `name → value`.
    pub fn summary(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("r2", self.r2),
            ("mape", self.mape),
        ]
    }

    /// A metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.summary()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// Test metrics of the model and of the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Evaluation {
    /// Classification.
    Classification {
        /// The model on the test split.
        model: ClassificationMetrics,
        /// The majority class on the test split.
        baseline: ClassificationMetrics,
        /// Test rows (all of them count).
        rows: u64,
        /// Test rows the model could not score (counted as wrong).
        #[serde(default)]
        unscored: u64,
    },
    /// Regression.
    Regression {
        /// The model on the test split.
        model: RegressionMetrics,
        /// The training mean on the test split.
        baseline: RegressionMetrics,
        /// Test rows.
        rows: u64,
        /// Test rows the model could not score (left out of the metrics).
        #[serde(default)]
        unscored: u64,
    },
}

impl Evaluation {
    /// The model's value of one metric (`accuracy`, `rmse`, …).
    pub fn metric(&self, name: &str) -> Option<f64> {
        match self {
            Evaluation::Classification { model, .. } => model.get(name),
            Evaluation::Regression { model, .. } => model.get(name),
        }
    }

    /// `metric → value` for the card: the model's metrics, then `baseline_<metric>`.
    pub fn card_metrics(&self) -> Vec<(String, f64)> {
        let (model, baseline) = match self {
            Evaluation::Classification {
                model, baseline, ..
            } => (model.summary(), baseline.summary()),
            Evaluation::Regression {
                model, baseline, ..
            } => (model.summary(), baseline.summary()),
        };
        let mut out: Vec<(String, f64)> =
            model.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        out.extend(
            baseline
                .into_iter()
                .map(|(k, v)| (format!("baseline_{k}"), v)),
        );
        out
    }

    /// Test rows evaluated (always every test row).
    pub fn rows(&self) -> u64 {
        match self {
            Evaluation::Classification { rows, .. } | Evaluation::Regression { rows, .. } => *rows,
        }
    }

    /// Test rows the model could not score.
    pub fn unscored(&self) -> u64 {
        match self {
            Evaluation::Classification { unscored, .. }
            | Evaluation::Regression { unscored, .. } => *unscored,
        }
    }
}

/// One candidate's cross-validation result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The searched parameters' values.
    pub params: crate::params::Params,
    /// Score per fold.
    pub scores: Vec<f64>,
    /// Mean score.
    pub mean: f64,
    /// Population standard deviation of the scores.
    pub std: f64,
}

/// The search outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// Metric optimised.
    pub metric: String,
    /// Whether larger is better.
    pub higher_is_better: bool,
    /// Folds.
    pub cv: usize,
    /// Every candidate, in order.
    pub candidates: Vec<Candidate>,
    /// Index of the best candidate.
    pub best: usize,
}

impl TrainingRecord {
    /// A classifier's share of each class among its predictions on its test
    /// set (the confusion matrix's columns); empty for regression.
    pub fn test_predicted_shares(&self) -> BTreeMap<String, f64> {
        let Evaluation::Classification { model, .. } = &self.evaluation else {
            return BTreeMap::new();
        };
        let total: u64 = model.confusion.iter().flatten().sum();
        if total == 0 {
            return BTreeMap::new();
        }
        self.classes
            .iter()
            .enumerate()
            .map(|(j, label)| {
                let predicted: u64 = model.confusion.iter().filter_map(|row| row.get(j)).sum();
                (label.clone(), predicted as f64 / total as f64)
            })
            .collect()
    }
}

/// A booster's losses per round (`gradient_boosting`'s history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossHistory {
    /// The mean loss recorded (`log_loss`, `squared_error`, …).
    pub metric: String,
    /// Loss on (a sample of) the training rows after each round.
    pub train: Vec<f64>,
    /// Loss on the validation rows after each round (empty without early
    /// stopping).
    pub validation: Vec<f64>,
    /// Where the validation rows came from.
    pub validation_from: String,
    /// How many there were.
    pub validation_rows: usize,
    /// Rounds kept.
    pub best_iteration: usize,
}

/// The ETL output a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataLineage {
    /// Location of the ETL manifest.
    pub manifest: String,
    /// Its SHA-256.
    pub manifest_sha256: String,
    /// The ETL run that wrote it.
    pub etl_run_id: String,
}

/// The model artifact of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// File name inside the version.
    pub file: String,
    /// Artifact format version.
    pub format_version: u32,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// What is predicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A class label (with probabilities where the estimator has them).
    Classification,
    /// A number.
    Regression,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Task {
    /// The task's config name: `classification` or `regression`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// One input column the model reads, as recorded in the artifact and card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputColumn {
    /// Column name.
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// Arrow type seen in training.
    pub data_type: String,
    /// Whether training data had nulls in it.
    pub nullable: bool,
    /// Categories learned (categorical columns).
    pub categories: Vec<String>,
}

/// What a training run produced: the model card's `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// `classification` or `regression`.
    pub task: Task,
    /// The estimator.
    pub algorithm: String,
    /// Target column.
    pub target: String,
    /// Class labels, in the model's order (empty for regression).
    #[serde(default)]
    pub classes: Vec<String>,
    /// The input columns the model needs, with their types (the schema
    /// inference enforces).
    pub inputs: Vec<InputColumn>,
    /// Feature names after encoding.
    pub feature_names: Vec<String>,
    /// Imputation, scaling and encoding settings.
    pub preprocessing: crate::preprocessing::Preprocessing,
    /// The ETL's cleaning of the input columns, applied again at inference
    /// (absent for data that did not come through etl).
    #[serde(default)]
    pub cleaning: Option<crate::cleaning::Cleaning>,
    /// The ETL's SQL transform after the cleaning, replayed at inference
    /// (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<crate::transform::Transform>,
    /// The data trained on.
    pub data: DataLineage,
    /// SHA-256 of the training config.
    pub config_sha256: String,
    /// Seed of every random choice.
    pub seed: u64,
    /// Rows: `train`, `test`, `dropped_null_target`, `unscored`.
    pub rows: BTreeMap<String, u64>,
    /// Seconds the final fit took.
    pub fit_seconds: f64,
    /// Seconds the evaluation on the train and test splits took (kNN's
    /// predictions cost more than its fit); 0 in records written before it
    /// was measured.
    #[serde(default)]
    pub evaluate_seconds: f64,
    /// Test metrics beside the baseline's.
    pub evaluation: Evaluation,
    /// The hyperparameter search, when configured.
    #[serde(default)]
    pub search: Option<SearchReport>,
    /// Feature importances of tree models, largest first.
    #[serde(default)]
    pub feature_importances: Option<Vec<(String, f64)>>,
    /// A booster's losses per round.
    #[serde(default)]
    pub training: Option<LossHistory>,
    /// What the report plots (absent in cards written before it was
    /// recorded).
    #[serde(default)]
    pub curves: Option<Curves>,
    /// The training split's input columns, profiled: what inference
    /// measures drift against.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// The artifact.
    pub artifact: ArtifactInfo,
}
