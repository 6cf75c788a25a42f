//! Declared columns: their type and the row rules a value must pass.

pub use ingest::types::ColumnType;
use serde::{Deserialize, Serialize};

/// A value in an `allowed` list or a `fill_null`: written as YAML scalars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

impl Scalar {
    /// The value as the text a CSV cell would hold.
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// One declared column (`etl.columns.<name>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Output type; a cell that cannot be cast makes its row invalid.
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// Nulls are invalid (checked after `fill_null`).
    #[serde(default)]
    pub required: bool,
    /// Smallest valid value (numeric columns).
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest valid value (numeric columns).
    #[serde(default)]
    pub max: Option<f64>,
    /// The only valid values.
    #[serde(default)]
    pub allowed: Option<Vec<Scalar>>,
    /// A regex the whole value must match (string columns).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Longest valid value in characters (string columns).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Constant that replaces nulls before the rules run.
    #[serde(default)]
    pub fill_null: Option<Scalar>,
}

/// Declared columns, in the order they are written in the YAML.
pub type Columns = indexmap::IndexMap<String, ColumnSpec>;
