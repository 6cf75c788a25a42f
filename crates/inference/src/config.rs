//! The `inference:` section of `pipeline_config.yaml`, and the shard setting.

use std::path::Path;

use common::config::{LoggingConfig, StageFile, StageSection, StorageConfig};
use common::storage::{FileFormat, ParquetWriteOptions};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// `pipeline_config.yaml` as seen by the inference stage: the shared
/// sections and `inference:` (other stages' sections are theirs; see
/// [`StageFile`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "StageFile<InferenceConfig>")]
pub struct PipelineConfig {
    /// Shared storage locations.
    pub storage: StorageConfig,
    /// Shared logging settings.
    pub logging: LoggingConfig,
    /// This stage's settings.
    pub inference: InferenceConfig,
}

impl From<StageFile<InferenceConfig>> for PipelineConfig {
    fn from(file: StageFile<InferenceConfig>) -> Self {
        Self {
            storage: file.shared.storage,
            logging: file.shared.logging,
            inference: file.section,
        }
    }
}

impl StageSection for InferenceConfig {
    const NAME: &'static str = "inference";
}

impl PipelineConfig {
    /// Loads the file.
    pub fn load(path: &Path) -> Result<Self> {
        Ok(common::config::load(path)?)
    }
}

/// The `inference:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceConfig {
    /// Input file, glob or prefix (default: `storage.raw`).
    pub input: Option<String>,
    /// Output location (default: `storage.predictions`).
    pub output: Option<String>,
    /// `latest`, `vN`, an alias, or a path to a `model.bin` (default `latest`).
    pub model: String,
    /// Input format; default: from each file's extension.
    pub format: Option<FileFormat>,
    /// Input columns copied to the output beside the predictions (ids).
    pub passthrough: Vec<String>,
    /// Where the cleaning of text inputs comes from: `model` (default: the
    /// cleaning recorded in the model card, i.e. the ETL's that produced
    /// the training data) or `config` (`csv`, `trim` and `null_tokens`
    /// below). A model without a recorded cleaning uses `config`.
    pub cleaning: CleaningSource,
    /// Whether the model's SQL transform (etl's, recorded in the card) is
    /// replayed after the cleaning: `model` (default) or `none`, for rows
    /// that already went through it (etl's own output).
    pub transform: TransformSource,
    /// What a reference table that changed since training does:
    /// `recorded` (default: refused) or `current` (used as it is now,
    /// recorded in the prediction manifest).
    pub transform_tables: TransformTables,
    /// Text cell values read as null (compared after trimming), as etl's.
    pub null_tokens: Vec<String>,
    /// Trim whitespace around text cells (default true, as etl).
    pub trim: bool,
    /// CSV dialect (as `etl.csv`).
    pub csv: ingest::CsvConfig,
    /// Rows per batch.
    pub batch_size: usize,
    /// Output Parquet settings.
    pub parquet: ParquetWriteOptions,
    /// Rows that cannot be scored: `null` (null prediction and an `_error`
    /// in the output) or `quarantine` (moved, with their input values and
    /// `_error`, to a `quarantine/` dataset).
    pub on_error: OnError,
    /// Prediction runs kept under `runs/` per shard.
    pub keep_runs: usize,
    /// Drift of the inputs against the training profile: PSI from which a
    /// column warns (`warn`, default 0.1) and fails the run (`fail`,
    /// default none).
    pub drift: records::drift::Thresholds,
}

/// Where the cleaning of text inputs comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleaningSource {
    /// The model card's (the training data's cleaning).
    #[default]
    Model,
    /// This config section's `csv`, `trim` and `null_tokens`.
    Config,
}

/// Whether the model's transform is replayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformSource {
    /// The model card's (etl's SQL transform), when it has one.
    #[default]
    Model,
    /// None: the input already went through the transform.
    None,
}

/// What a replay does with a reference table changed since training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformTables {
    /// Refuse it.
    #[default]
    Recorded,
    /// Use it as it is now.
    Current,
}

/// What happens to a row the model cannot score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Keep it in the output with a null prediction and `_error`.
    #[default]
    Null,
    /// Move it to `quarantine/` with its input values and `_error`.
    Quarantine,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            input: None,
            output: None,
            model: model_registry::LATEST.to_string(),
            format: None,
            passthrough: Vec::new(),
            cleaning: CleaningSource::Model,
            transform: TransformSource::Model,
            transform_tables: TransformTables::Recorded,
            null_tokens: vec![String::new(), "NA".into(), "null".into()],
            trim: true,
            csv: ingest::CsvConfig::default(),
            batch_size: 8192,
            parquet: ParquetWriteOptions::default(),
            on_error: OnError::Null,
            keep_runs: 2,
            drift: records::drift::Thresholds::default(),
        }
    }
}

pub use common::shard::Shard;
