//! Hyperparameter values as records keep them (a search's candidates): a
//! name → value map in the order the config gave, each value a scalar or a
//! list of them. Nested maps are refused when read: no estimator takes one.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Named hyperparameter values, in config order.
pub type Params = IndexMap<String, ParamValue>;

/// One hyperparameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// Unset (`null`: the estimator's default, or "no limit").
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A name (`rbf`, `sqrt`).
    Text(String),
    /// A list of values.
    List(Vec<ParamValue>),
}

impl std::fmt::Display for ParamValue {
    /// As JSON: `3`, `0.1`, `"rbf"`, `null`, `[1, 2]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_string(self) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(std::fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_type_and_order_and_nested_maps_are_refused() {
        let params: Params = serde_json::from_str(
            r#"{"max_depth": null, "n": 3, "lr": 0.1, "k": "rbf", "b": true, "l": [1, 2.5]}"#,
        )
        .unwrap();
        let names: Vec<_> = params.keys().map(String::as_str).collect();
        assert_eq!(names, ["max_depth", "n", "lr", "k", "b", "l"]);
        assert_eq!(params["n"], ParamValue::Int(3));
        assert_eq!(params["lr"], ParamValue::Float(0.1));
        assert_eq!(params["l"].to_string(), "[1,2.5]");
        assert_eq!(
            serde_json::to_string(&params).unwrap(),
            r#"{"max_depth":null,"n":3,"lr":0.1,"k":"rbf","b":true,"l":[1,2.5]}"#
        );
        assert!(serde_json::from_str::<Params>(r#"{"x": {"y": 1}}"#).is_err());
    }
}
