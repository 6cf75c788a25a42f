//! The cleaning that turned raw files into a dataset's columns, as a record:
//! the CSV dialect, null tokens, trimming, renames, drops, every column's
//! type and the constants that replaced nulls. etl writes it into its
//! manifest, the trainer into the model card, and inference applies it
//! again (through `ingest`), so training and serving read raw data alike.

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, TimeUnit};
use common::storage::CsvDialect;
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

    /// The type whose Arrow type is `data_type`, if one is.
    pub fn of(data_type: &DataType) -> Option<Self> {
        [
            ColumnType::String,
            ColumnType::Int64,
            ColumnType::Float64,
            ColumnType::Bool,
            ColumnType::Date,
            ColumnType::Timestamp,
        ]
        .into_iter()
        .find(|t| t.data_type() == *data_type)
    }

    /// Whether `min`/`max` apply.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Int64 | ColumnType::Float64)
    }
}

/// CSV dialect (`etl.csv`, `inference.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvConfig {
    /// Field separator, one ASCII character (default `,`; `"\t"` for TSV).
    pub delimiter: char,
    /// Whether the first line holds column names (default true).
    pub header: bool,
    /// Quote character (default `"`).
    pub quote: char,
    /// Escape character inside quotes (default none: a quote is escaped by doubling it).
    pub escape: Option<char>,
    /// Lines starting with this character are skipped (default none).
    pub comment: Option<char>,
}

impl Default for CsvConfig {
    fn default() -> Self {
        Self {
            delimiter: ',',
            header: true,
            quote: '"',
            escape: None,
            comment: None,
        }
    }
}

impl CsvConfig {
    /// The dialect the chunker and the parser read (the characters are
    /// ASCII: see [`CsvConfig::problem`]).
    pub fn dialect(&self) -> CsvDialect {
        CsvDialect {
            delimiter: self.delimiter as u8,
            quote: self.quote as u8,
            escape: self.escape.map(|c| c as u8),
            comment: self.comment.map(|c| c as u8),
        }
    }

    /// What is wrong with the dialect, as `(key, message)` with the key
    /// under `csv.`: a character that is not one ASCII byte, a line end in
    /// a role, or one character in two roles.
    pub fn problem(&self) -> Option<(String, String)> {
        for (key, c) in [
            ("csv.delimiter", Some(self.delimiter)),
            ("csv.quote", Some(self.quote)),
            ("csv.escape", self.escape),
            ("csv.comment", self.comment),
        ] {
            if let Some(c) = c
                && !c.is_ascii()
            {
                return Some((key.into(), format!("'{c}' is not a single ASCII character")));
            }
        }
        self.dialect().problem().map(|p| ("csv".into(), p))
    }
}

/// The cleaning that turned raw files into a dataset's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cleaning {
    /// The CSV dialect the raw files were read with.
    pub csv: CsvConfig,
    /// Text cells read as null (after trimming).
    pub null_tokens: Vec<String>,
    /// Whether text cells were trimmed.
    pub trim: bool,
    /// Input column name → output name.
    pub rename: BTreeMap<String, String>,
    /// Input columns left out.
    pub drop: Vec<String>,
    /// Output columns' types (declared or inferred), by output name.
    pub types: BTreeMap<String, ColumnType>,
    /// Constants that replaced nulls (`fill_null`), as text, by output name.
    pub fill_null: BTreeMap<String, String>,
}

impl Default for Cleaning {
    fn default() -> Self {
        Self {
            csv: CsvConfig::default(),
            null_tokens: vec![String::new(), "NA".into(), "null".into()],
            trim: true,
            rename: BTreeMap::new(),
            drop: Vec::new(),
            types: BTreeMap::new(),
            fill_null: BTreeMap::new(),
        }
    }
}

impl Cleaning {
    /// The name an input column has after cleaning (`None`: dropped).
    pub fn output_name<'a>(&'a self, input: &'a str) -> Option<&'a str> {
        if self.drop.iter().any(|d| d == input) {
            return None;
        }
        Some(self.rename.get(input).map_or(input, String::as_str))
    }

    /// The part of the cleaning that produces `columns` (output names):
    /// what a model that reads only them needs. Renames and drops are kept
    /// whole (passthrough columns such as ids may be renamed too).
    pub fn for_columns(&self, columns: &[String]) -> Self {
        let keep = |name: &String| columns.contains(name);
        Self {
            types: self
                .types
                .iter()
                .filter(|(name, _)| keep(name))
                .map(|(n, t)| (n.clone(), *t))
                .collect(),
            fill_null: self
                .fill_null
                .iter()
                .filter(|(name, _)| keep(name))
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
            ..self.clone()
        }
    }
}
