//! The `etl:` section of `pipeline_config.yaml`, and the whole file as the
//! `etl` binary reads it. Every key has a default except the ones that decide
//! what "valid" means, which the user declares.

mod columns;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use common::config::{LoggingConfig, StageFile, StageSection, StorageConfig};
use common::storage::{FileFormat, ParquetWriteOptions};
use serde::{Deserialize, Serialize};

pub use columns::{ColumnSpec, ColumnType, Columns, Scalar};
pub use ingest::CsvConfig;

use crate::error::Result;

/// `pipeline_config.yaml` as seen by the etl stage: the shared sections and
/// `etl:` (other stages' sections are theirs; see [`StageFile`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "StageFile<EtlConfig>")]
pub struct PipelineConfig {
    /// Shared storage locations.
    pub storage: StorageConfig,
    /// Shared logging settings.
    pub logging: LoggingConfig,
    /// This stage's settings.
    pub etl: EtlConfig,
}

impl From<StageFile<EtlConfig>> for PipelineConfig {
    fn from(file: StageFile<EtlConfig>) -> Self {
        Self {
            storage: file.shared.storage,
            logging: file.shared.logging,
            etl: file.section,
        }
    }
}

impl StageSection for EtlConfig {
    const NAME: &'static str = "etl";
}

impl PipelineConfig {
    /// Loads and validates the file.
    pub fn load(path: &Path) -> Result<Self> {
        let config: Self = common::config::load(path)?;
        config.etl.validate(path)?;
        Ok(config)
    }
}

/// What to do with a row that fails a rule or a cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnInvalid {
    /// Write it to `quarantine/` with the reason (default).
    #[default]
    Quarantine,
    /// Count it and leave it out.
    Drop,
    /// Stop the run at the first invalid row.
    Fail,
}

/// What to do when a file lacks columns that others (or the declaration) have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingColumns {
    /// Stop with an error naming the file and the columns (default).
    #[default]
    Error,
    /// Fill the missing columns with nulls (rules such as `required` still apply).
    FillNull,
}

/// How rows are split (`etl.split`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// Fraction of rows for `test/` (default 0.2).
    pub test: f64,
    /// Fraction of rows for `validation/` (default 0: no validation split).
    pub validation: f64,
    /// Seed of the split (default 42).
    pub seed: u64,
    /// Columns whose values decide the split (a stable hash), so a row never
    /// changes split when new data arrives. Empty: a seeded random split.
    pub key: Vec<String>,
    /// A column whose classes keep their share in every split (as
    /// scikit-learn's `train_test_split(stratify=…)`); not with `key`.
    pub stratify: Option<String>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            test: 0.2,
            validation: 0.0,
            seed: 42,
            key: Vec::new(),
            stratify: None,
        }
    }
}

/// `etl.transform`: one SQL query over the table `input` (the cleaned
/// rows) and the reference tables, run by Apache DataFusion: row-local
/// and batch by batch, or with `whole_input` once over all rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// The query; its result is what gets de-duplicated, split and written.
    pub sql: String,
    /// Reference tables by the name the query uses: `{airlines: data/ref/airlines.csv}`
    /// (CSV with a header, Parquet or NDJSON; local or `s3://`).
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// Run the query once over all the cleaned rows, allowing window
    /// functions, `ORDER BY` / `LIMIT` and aggregates over input joined back
    /// to each row; the input is held in memory, the run cannot be sharded
    /// and inference cannot replay the transform.
    #[serde(default)]
    pub whole_input: bool,
}

/// The `etl:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EtlConfig {
    /// Input: a file, a glob or a prefix (default: `storage.raw`).
    pub input: Option<String>,
    /// Output location (default: `storage.processed`).
    pub output: Option<String>,
    /// Input format; default: from each file's extension.
    pub format: Option<FileFormat>,
    /// CSV dialect.
    pub csv: CsvConfig,
    /// Cell values read as null (compared after trimming).
    pub null_tokens: Vec<String>,
    /// Trim leading and trailing whitespace from text cells (default true).
    pub trim: bool,
    /// Rename input columns: `{old: new}`; rules and `columns` use the new names.
    pub rename: BTreeMap<String, String>,
    /// Input columns to leave out of the output.
    pub drop: Vec<String>,
    /// Declared output columns with types and rules. Undeclared input columns
    /// are kept with a type inferred from the first `infer_rows` rows.
    pub columns: Columns,
    /// A SQL transform of the cleaned rows (derived columns, filters,
    /// lookups in reference tables), before de-duplication and the split.
    pub transform: Option<TransformConfig>,
    /// Rows sampled to infer the types of undeclared columns.
    pub infer_rows: usize,
    /// What to do when a file lacks a column.
    pub missing_columns: MissingColumns,
    /// Remove exact duplicate rows (default true); the first occurrence is kept.
    pub deduplicate: bool,
    /// Remove rows whose values in these columns were already seen, instead of
    /// exact duplicates. Implies de-duplication.
    pub dedup_key: Vec<String>,
    /// Dataset rule: these columns together must be unique; later rows with a
    /// seen key are invalid.
    pub unique: Vec<String>,
    /// What to do with invalid rows.
    pub on_invalid: OnInvalid,
    /// Train / test / validation split.
    pub split: SplitConfig,
    /// Parquet compression and row-group size.
    pub parquet: ParquetWriteOptions,
    /// Rows per output Parquet file before a new part starts.
    pub max_rows_per_file: usize,
    /// Rows per record batch (memory is bounded by a few batches).
    pub batch_size: usize,
    /// Completed runs kept under `runs/` (the published one included).
    pub keep_runs: usize,
    /// Publish a run whose training split is empty (empty, header-only or
    /// all-invalid input). Off: such a run fails and the previous output stays.
    pub allow_empty: bool,
    /// Largest share of input rows that may be invalid (quarantined or
    /// dropped) in a published run, in [0, 1]: above it the run fails and
    /// the previous output stays (a mistyped declared type must not
    /// quietly drop most of the data); any invalid row below it is a
    /// warning naming the top reasons. A sharded run is judged on the
    /// merged totals. Default 0.05.
    pub max_quarantined: f64,
}

impl Default for EtlConfig {
    fn default() -> Self {
        Self {
            input: None,
            output: None,
            format: None,
            csv: CsvConfig::default(),
            null_tokens: vec![String::new(), "NA".into(), "null".into()],
            trim: true,
            rename: BTreeMap::new(),
            drop: Vec::new(),
            columns: Columns::default(),
            transform: None,
            infer_rows: 1000,
            missing_columns: MissingColumns::Error,
            deduplicate: true,
            dedup_key: Vec::new(),
            unique: Vec::new(),
            on_invalid: OnInvalid::Quarantine,
            split: SplitConfig::default(),
            parquet: ParquetWriteOptions::default(),
            max_rows_per_file: 1_000_000,
            batch_size: 65_536,
            keep_runs: 3,
            allow_empty: false,
            max_quarantined: 0.05,
        }
    }
}

impl EtlConfig {
    /// Checks everything that can be checked without data; `path` is for messages.
    pub fn validate(&self, path: &Path) -> Result<()> {
        validate::validate(self, path)
    }

    /// A stable hash of the effective config (its canonical JSON), recorded in
    /// the manifest to tell whether a rerun would produce the same output.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        common::checksum::sha256_hex(&json)
    }
}
