//! The preprocessing settings a model was trained with, as its training
//! record keeps them: how numeric and categorical nulls were filled, how
//! numbers were scaled, how many categories were kept and what an unseen
//! one becomes. The model crate fits with these same types.

use serde::{Deserialize, Serialize};

/// How numeric nulls are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumericImputer {
    /// Training mean.
    #[default]
    Mean,
    /// Training median.
    Median,
    /// `numeric_fill_value`.
    Constant,
    /// Nulls stay missing (NaN): only for estimators that learn where
    /// missing values go (`gradient_boosting`).
    None,
}

/// How numeric columns are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaler {
    /// Zero mean, unit variance (population standard deviation).
    #[default]
    Standard,
    /// Into [0, 1] by the training minimum and maximum.
    Minmax,
    /// Unscaled.
    None,
}

/// How categorical nulls are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoricalImputer {
    /// The most frequent training category (ties: the alphabetically first).
    #[default]
    MostFrequent,
    /// `categorical_fill_value`.
    Constant,
}

/// What happens to a category not seen in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownCategory {
    /// All of the column's one-hot features are zero.
    #[default]
    Ignore,
    /// The row gets no prediction and an error naming the value.
    Error,
}

/// The preprocessing settings of a training run (the columns they apply
/// to are the record's `inputs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preprocessing {
    /// How numeric nulls are filled.
    pub numeric_imputer: NumericImputer,
    /// Fill value for `numeric_imputer: constant`.
    pub numeric_fill_value: f64,
    /// How categorical nulls are filled.
    pub categorical_imputer: CategoricalImputer,
    /// Fill value for `categorical_imputer: constant`.
    pub categorical_fill_value: String,
    /// How numeric columns are scaled.
    pub scaler: Scaler,
    /// Most frequent categories kept per column; rarer ones share an "other" column.
    pub max_categories: usize,
    /// What a category never seen in training becomes.
    pub unknown_category: UnknownCategory,
}

impl Default for Preprocessing {
    fn default() -> Self {
        Self {
            numeric_imputer: NumericImputer::Mean,
            numeric_fill_value: 0.0,
            categorical_imputer: CategoricalImputer::MostFrequent,
            categorical_fill_value: "missing".into(),
            scaler: Scaler::Standard,
            max_categories: 20,
            unknown_category: UnknownCategory::Ignore,
        }
    }
}
