//! Which columns are features: the configured lists, or by default every
//! column except the target and `exclude`, numeric types as numeric and the
//! rest (text, booleans) as categorical.

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use model::FeatureParams;

use crate::config::TrainConfig;
use crate::error::{Error, Result};

/// The feature parameters for `config` on data with `train`'s schema.
pub fn resolve(config: &TrainConfig, train: &RecordBatch) -> Result<FeatureParams> {
    let m = &config.model;
    let schema = train.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if !names.contains(&m.target.as_str()) {
        return Err(config_err(
            config,
            "model.target",
            format!(
                "column '{}' is not in the data; it has {}",
                m.target,
                list(&names)
            ),
        ));
    }
    let selected = &m.features;
    let candidates: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| {
            *name != m.target
                && !selected.exclude.iter().any(|e| e == name)
                && !selected.passthrough.iter().any(|p| p == name)
        })
        .collect();
    let is_numeric = |name: &str| {
        schema
            .field_with_name(name)
            .map(|f| f.data_type().is_numeric())
            .unwrap_or(false)
    };
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
            .filter(|n| {
                !is_numeric(n)
                    && is_categorical(schema.field_with_name(n).map(|f| f.data_type()).ok())
            })
            .map(|n| n.to_string())
            .collect(),
    };
    let missing: Vec<&str> = numeric
        .iter()
        .chain(&categorical)
        .chain(&selected.passthrough)
        .map(String::as_str)
        .filter(|n| !names.contains(n))
        .collect();
    if !missing.is_empty() {
        return Err(config_err(
            config,
            "model.features",
            format!(
                "column(s) {} are not in the data; it has {}",
                list(&missing),
                list(&names)
            ),
        ));
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
    let params = FeatureParams {
        numeric,
        categorical,
        passthrough: selected.passthrough.clone(),
        ..m.preprocessing.clone()
    };
    params
        .check()
        .map_err(|e| config_err(config, "model.features", e.to_string()))?;
    Ok(params)
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
