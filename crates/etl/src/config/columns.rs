//! Declared columns: their type and the row rules a value must pass.

use arrow::datatypes::{DataType, TimeUnit};
use serde::{Deserialize, Serialize};

/// A column's type in the output Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text.
    String,
    /// 64-bit signed integer.
    Int64,
    /// 64-bit float.
    Float64,
    /// `true`/`false` (also `t`/`f`, `yes`/`no`, `1`/`0`).
    Bool,
    /// Calendar date, `YYYY-MM-DD`.
    Date,
    /// Instant, RFC 3339 / ISO 8601 (`2026-11-29T09:33:19Z`), stored as UTC microseconds.
    Timestamp,
}

impl ColumnType {
    /// The Arrow type written to Parquet.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            // An offset, not a zone name: arrow casts to named zones only with chrono-tz.
            ColumnType::Timestamp => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
            }
        }
    }

    /// Lower-case name as written in config.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int64 => "int64",
            ColumnType::Float64 => "float64",
            ColumnType::Bool => "bool",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
        }
    }

    /// Whether `min`/`max` apply.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Int64 | ColumnType::Float64)
    }
}

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
