//! Which columns are features: the configured lists, or by default every
//! column except the target and `exclude`, numeric types as numeric and the
//! rest (text, booleans) as categorical. Every column named in
//! `model.features` must exist (a typo in `exclude` would otherwise make the
//! column a feature). Columns that carry no information in the training
//! split (constant, or all null) are dropped with a warning naming them, as
//! no estimator can learn from them and some (smartcore's) refuse them.

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use model::{FeatureParams, Task};

use crate::config::TrainConfig;
use crate::error::{Error, Result};

/// Distinct numeric values above which a classification target looks continuous.
const CONTINUOUS_TARGET: usize = 100;

/// Checks that the target is in the data (`location` names the data) and
/// that its type suits the task; warns when a classification target looks
/// continuous.
pub fn check_target(config: &TrainConfig, schema: &Schema, location: &str) -> Result<()> {
    let m = &config.model;
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let Ok(field) = schema.field_with_name(&m.target) else {
        return Err(config_err(
            config,
            "model.target",
            format!(
                "column '{}' is not in the data at {location}{}; it has {}",
                m.target,
                common::suggest::did_you_mean(&m.target, names.iter().copied()),
                list(&names)
            ),
        ));
    };
    let data_type = field.data_type();
    if m.task == Task::Regression && !(data_type.is_numeric() || *data_type == DataType::Boolean) {
        return Err(config_err(
            config,
            "model.task",
            format!(
                "regression needs a numeric target, but the target '{}' is {data_type}; \
                 use task: classification to predict its values as classes",
                m.target
            ),
        ));
    }
    Ok(())
}

/// Warns about a classification target that looks continuous, and about
/// classes with fewer than 2 training rows (too few to learn or to stratify).
pub fn warn_about_classes(config: &TrainConfig, train: &RecordBatch) {
    let m = &config.model;
    let Some(column) = train.column_by_name(&m.target) else {
        return;
    };
    let Ok(text) = arrow::compute::cast(column, &DataType::Utf8) else {
        return;
    };
    let Some(text) = text.as_any().downcast_ref::<arrow::array::StringArray>() else {
        return;
    };
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for label in text.iter().flatten() {
        *counts.entry(label).or_default() += 1;
    }
    if column.data_type().is_numeric() && counts.len() > CONTINUOUS_TARGET {
        log::warn!(
            "the classification target '{}' has {} distinct numeric values: it looks continuous (did you mean task: regression?)",
            m.target,
            counts.len()
        );
        return;
    }
    let rare: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n < 2)
        .map(|(label, _)| *label)
        .collect();
    if !rare.is_empty() {
        log::warn!(
            "{} class(es) of '{}' have fewer than 2 training rows: {}",
            rare.len(),
            m.target,
            list(&rare[..rare.len().min(10)])
        );
    }
}

/// The feature parameters for `config` on data with `train`'s schema.
pub fn resolve(config: &TrainConfig, train: &RecordBatch) -> Result<FeatureParams> {
    let m = &config.model;
    let schema = train.schema();
    check_target(config, &schema, "the training split")?;
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let selected = &m.features;
    let named = selected
        .numeric
        .iter()
        .flatten()
        .chain(selected.categorical.iter().flatten())
        .chain(&selected.passthrough)
        .chain(&selected.exclude);
    let missing: Vec<String> = named
        .filter(|n| !names.contains(&n.as_str()))
        .map(|n| {
            format!(
                "'{n}'{}",
                common::suggest::did_you_mean(n, names.iter().copied())
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(config_err(
            config,
            "model.features",
            format!(
                "column(s) {} are not in the data; it has {}",
                missing.join(", "),
                list(&names)
            ),
        ));
    }
    let candidates: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| {
            *name != m.target
                && !selected.exclude.iter().any(|e| e == name)
                && !selected.passthrough.iter().any(|p| p == name)
        })
        .collect();
    let data_type = |name: &str| schema.field_with_name(name).ok().map(|f| f.data_type());
    let is_numeric = |name: &str| data_type(name).is_some_and(DataType::is_numeric);
    let numeric = match &selected.numeric {
        Some(list) => list.clone(),
        None if selected.categorical.is_some() => Vec::new(),
        None => candidates
            .iter()
            .filter(|n| is_numeric(n))
            .map(|n| n.to_string())
            .collect(),
    };
    let categorical = match &selected.categorical {
        Some(list) => list.clone(),
        None if selected.numeric.is_some() => Vec::new(),
        None => candidates
            .iter()
            .filter(|n| !is_numeric(n) && is_categorical(data_type(n)))
            .map(|n| n.to_string())
            .collect(),
    };
    if selected.numeric.is_none() && selected.categorical.is_none() {
        let skipped: Vec<String> = candidates
            .iter()
            .filter(|n| !is_numeric(n) && !is_categorical(data_type(n)))
            .map(|n| {
                format!(
                    "'{n}' ({})",
                    data_type(n).map_or_else(String::new, |t| t.to_string())
                )
            })
            .collect();
        if !skipped.is_empty() {
            log::info!(
                "not used as features (neither numeric nor categorical; list them under model.features to choose): {}",
                skipped.join(", ")
            );
        }
    }
    if numeric
        .iter()
        .chain(&categorical)
        .chain(&selected.passthrough)
        .any(|n| *n == m.target)
    {
        return Err(config_err(
            config,
            "model.features",
            format!("the target '{}' cannot also be a feature", m.target),
        ));
    }
    let uninformative = |list: Vec<String>| -> (Vec<String>, Vec<String>) {
        list.into_iter().partition(|n| {
            train
                .column_by_name(n)
                .is_none_or(|c| informative(c.as_ref(), &m.preprocessing))
        })
    };
    let (numeric, dropped_numeric) = uninformative(numeric);
    let (categorical, dropped_categorical) = uninformative(categorical);
    let (passthrough, dropped_passthrough) = uninformative(selected.passthrough.clone());
    let dropped: Vec<&str> = dropped_numeric
        .iter()
        .chain(&dropped_categorical)
        .chain(&dropped_passthrough)
        .map(String::as_str)
        .collect();
    if !dropped.is_empty() {
        log::warn!(
            "dropped {} feature(s) that are constant or all null in the training split: {}",
            dropped.len(),
            list(&dropped)
        );
    }
    let params = FeatureParams {
        numeric,
        categorical,
        passthrough,
        ..m.preprocessing.clone()
    };
    params.check().map_err(|e| {
        let message = if dropped.is_empty() {
            e.to_string()
        } else {
            format!(
                "{e}: every feature is constant or all null in the training split ({})",
                list(&dropped)
            )
        };
        config_err(config, "model.features", message)
    })?;
    Ok(params)
}

/// Whether a training column can tell rows apart after imputation: it has
/// two distinct values, or one value and missing cells that a constant fill
/// turns into a second (NaN and ±inf are missing, as the imputer treats them).
fn informative(column: &dyn Array, preprocessing: &FeatureParams) -> bool {
    use arrow::array::AsArray;
    use model::features::{CategoricalImputer, NumericImputer};
    let array = arrow::array::make_array(column.to_data());
    let (distinct, missing, constant_fill_differs) = if column.data_type().is_numeric() {
        let Ok(floats) = arrow::compute::cast(&array, &DataType::Float64) else {
            return true;
        };
        let values = floats.as_primitive::<arrow::datatypes::Float64Type>();
        let mut seen: Vec<f64> = Vec::new();
        let mut missing = false;
        for v in values.iter() {
            match v.filter(|v| v.is_finite()) {
                Some(v) if !seen.contains(&v) => seen.push(v),
                Some(_) => {}
                None => missing = true,
            }
            if seen.len() > 1 {
                return true;
            }
        }
        let fill_differs = preprocessing.numeric_imputer == NumericImputer::Constant
            && seen.first() != Some(&preprocessing.numeric_fill_value);
        (seen.len(), missing, fill_differs)
    } else {
        let Ok(text) = arrow::compute::cast(&array, &DataType::Utf8) else {
            return true;
        };
        let mut seen: Option<&str> = None;
        let mut missing = false;
        for v in text.as_string::<i32>().iter() {
            match (v, seen) {
                (None, _) => missing = true,
                (Some(v), None) => seen = Some(v),
                (Some(v), Some(first)) if v != first => return true,
                _ => {}
            }
        }
        let fill_differs = preprocessing.categorical_imputer == CategoricalImputer::Constant
            && seen != Some(preprocessing.categorical_fill_value.as_str());
        (usize::from(seen.is_some()), missing, fill_differs)
    };
    distinct == 1 && missing && constant_fill_differs
}

fn is_categorical(data_type: Option<&DataType>) -> bool {
    matches!(
        data_type,
        Some(
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Dictionary(..)
        )
    )
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn config_err(config: &TrainConfig, key: &str, message: String) -> Error {
    Error::Config {
        path: config.path.clone(),
        key: key.to_string(),
        message,
    }
}
