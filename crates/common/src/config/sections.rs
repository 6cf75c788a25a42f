//! Config sections shared by every stage: where data lives and how to log.
//! Stage-specific sections (`etl:`, `model:`, `inference:`) live in their crates.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Storage locations of the pipeline's datasets (`storage:` in `pipeline_config.yaml`).
///
/// Each value is a location string understood by [`crate::storage::Location::parse`]:
/// a local path, `file://…`, `s3://bucket/prefix` or `memory://name/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Raw input data (read by etl).
    pub raw: String,
    /// Cleaned, split Parquet (written by etl, read by trainer).
    pub processed: String,
    /// The model registry root (`versioned/`, `latest/`).
    pub models: String,
    /// Prediction output (written by inference).
    pub predictions: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            raw: "data/raw".into(),
            processed: "data/processed".into(),
            models: "models".into(),
            predictions: "data/predictions".into(),
        }
    }
}

/// Log verbosity, from least to most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Nothing at all.
    Off,
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// The default: one line per step.
    #[default]
    Info,
    /// Detail useful when something goes wrong.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The `log` crate's equivalent.
    pub fn as_filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Off => log::LevelFilter::Off,
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Logging settings (`logging:`). `RUST_LOG` overrides `level`, `CAUCE_LOG_DIR` overrides `dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// Folder holding `<stage>.log` files (default `logs`).
    pub dir: PathBuf,
    /// Default level when `RUST_LOG` is not set.
    pub level: LogLevel,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("logs"),
            level: LogLevel::Info,
        }
    }
}

/// The shared sections of `pipeline_config.yaml` (`storage`, `logging`), for
/// stages that have no section of their own there; other sections are left
/// to the stages that own them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SharedSections {
    /// Storage locations.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Logging.
    #[serde(default)]
    pub logging: LoggingConfig,
}

impl SharedSections {
    /// Loads the shared sections of `path` if it exists, else the defaults.
    pub fn load_if_exists(path: &std::path::Path) -> crate::Result<Self> {
        if path.exists() {
            super::load(path)
        } else {
            Ok(Self::default())
        }
    }
}
