//! The SQL transform etl applied after the cleaning, as its manifest and
//! the model card record it: the SQL text, each reference table with the
//! checksum of the bytes read, and the columns before and after. Inference
//! replays it from this record, re-reading each table and refusing one
//! whose checksum changed (unless told to use the current one).

use serde::{Deserialize, Serialize};

/// A transform as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// The query over `input` and the reference tables.
    pub sql: String,
    /// The reference tables it read, by name.
    #[serde(default)]
    pub tables: Vec<ReferenceTable>,
    /// The columns the query read (the cleaned rows).
    pub columns_before: Vec<Column>,
    /// The columns it wrote.
    pub columns_after: Vec<Column>,
    /// Run once over the whole input (`etl.transform.whole_input`), not
    /// batch by batch: not replayable at inference.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_input: bool,
}

/// One reference table, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceTable {
    /// The name the SQL uses.
    pub name: String,
    /// Where it was read from, as configured.
    pub location: String,
    /// `csv`, `parquet` or `ndjson`.
    pub format: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its rows.
    pub rows: u64,
}

/// A column's name and Arrow type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Arrow type, e.g. `Float64`.
    pub data_type: String,
}
