//! Schema enforcement, before the first prediction: every input column the
//! model was trained on must be present (all missing ones are named at
//! once), numeric features must have a numeric type (integers are cast to
//! floats; nullable integers work), categorical features a text-like,
//! integer, boolean or date/time type (their categories are their text).
//! Extra columns are ignored unless listed as passthrough.

use arrow::datatypes::{DataType, Schema};
use model::Model;

use crate::error::{Error, Result};

/// Checks `schema` (of `file`) against what `model` needs.
pub fn check(model: &Model, schema: &Schema, passthrough: &[String], file: &str) -> Result<()> {
    let inputs = model.inputs();
    let mut missing: Vec<String> = Vec::new();
    for name in inputs.iter().map(|c| &c.name).chain(passthrough) {
        // A passthrough column may be a model input too: name it once.
        if schema.index_of(name).is_err() && !missing.contains(name) {
            missing.push(name.clone());
        }
    }
    if !missing.is_empty() {
        return Err(Error::Schema {
            file: file.to_string(),
            message: format!(
                "missing column(s) {} that the model (or passthrough) needs",
                missing
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    for input in &inputs {
        let found = schema
            .field_with_name(&input.name)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        let ok = match input.kind.as_str() {
            "numeric" => found.is_numeric() || matches!(found, DataType::Boolean | DataType::Null),
            _ => {
                matches!(
                    found,
                    DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Boolean
                        | DataType::Null
                        | DataType::Dictionary(..)
                ) || found.is_integer()
                    || found.is_temporal()
            }
        };
        if !ok {
            let expected = if input.kind == "numeric" {
                "a number (trained as Float64)"
            } else {
                "text (trained as Utf8)"
            };
            return Err(Error::Schema {
                file: file.to_string(),
                message: format!(
                    "column '{}' has type {found}, the model needs {expected}",
                    input.name
                ),
            });
        }
    }
    Ok(())
}
