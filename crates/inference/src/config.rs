//! The `inference:` section of `pipeline_config.yaml`, and the shard setting.

use std::path::Path;

use common::config::{LoggingConfig, StageFile, StageSection, StorageConfig};
use common::storage::{FileFormat, ParquetWriteOptions};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
    pub drift: report::drift::Thresholds,
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
            null_tokens: vec![String::new(), "NA".into(), "null".into()],
            trim: true,
            csv: ingest::CsvConfig::default(),
            batch_size: 8192,
            parquet: ParquetWriteOptions::default(),
            on_error: OnError::Null,
            keep_runs: 2,
            drift: report::drift::Thresholds::default(),
        }
    }
}

/// Which part of the input this process scores: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Self> {
        let err = || Error::Config {
            key: "--shard".into(),
            message: format!("'{text}' is not I/N with 0 ≤ I < N (e.g. 0/3)"),
        };
        let (i, n) = text.split_once('/').ok_or_else(err)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Self { index, count })
    }

    /// The shard from the environment: `CAUCE_SHARD=I/N`, or the index of a
    /// Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`) or an AWS Batch array
    /// job (`AWS_BATCH_JOB_ARRAY_INDEX`) with the count in `CAUCE_SHARD_COUNT`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        if let Some(spec) = get("CAUCE_SHARD") {
            return Self::parse(&spec).map(Some);
        }
        let index = get("JOB_COMPLETION_INDEX").or_else(|| get("AWS_BATCH_JOB_ARRAY_INDEX"));
        match (index, get("CAUCE_SHARD_COUNT")) {
            (Some(i), Some(n)) => Self::parse(&format!("{i}/{n}")).map(Some),
            (Some(i), None) => Err(Error::Config {
                key: "CAUCE_SHARD_COUNT".into(),
                message: format!(
                    "shard index {i} is set by the job environment; set CAUCE_SHARD_COUNT to the number of shards"
                ),
            }),
            (None, _) => Ok(None),
        }
    }

    /// The manifest name of this shard.
    pub fn manifest_name(&self) -> String {
        if self.count == 1 {
            "_manifest.json".into()
        } else {
            format!("_manifest.shard-{}-of-{}.json", self.index, self.count)
        }
    }

    /// Folder prefix of this shard's runs.
    pub fn runs_folder(&self) -> String {
        if self.count == 1 {
            "runs".into()
        } else {
            format!("runs/shard-{}-of-{}", self.index, self.count)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_come_from_job_environments() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        for bad in ["3/3", "1", "a/b", "0/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_env(env(&[])).unwrap(), None);
        assert_eq!(
            Shard::from_env(env(&[
                ("JOB_COMPLETION_INDEX", "1"),
                ("CAUCE_SHARD_COUNT", "4")
            ]))
            .unwrap(),
            Some(Shard { index: 1, count: 4 })
        );
        assert!(Shard::from_env(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "1")])).is_err());
        assert_eq!(
            Shard::from_env(env(&[("CAUCE_SHARD", "0/2")])).unwrap(),
            Some(Shard { index: 0, count: 2 })
        );
    }
}
