//! `model_config.yaml`: what to train (task, target, features, preprocessing,
//! algorithm, hyperparameters, seed) and the registry policy. Everything is
//! checked before any data is read; hyperparameters are checked by the
//! algorithm's own typed parameters, which name the valid keys. Beside it,
//! the run's options (where to read and write, what to do in the registry)
//! and the file names a registered version holds.

use std::path::{Path, PathBuf};

use common::storage::Location;
use model::{EstimatorParams, Task};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The whole `model_config.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// What to train.
    pub model: ModelSection,
    /// What to do with the result in the registry.
    #[serde(default)]
    pub registry: RegistryPolicy,
    /// Where the file was read from (for messages); not part of the YAML.
    #[serde(skip)]
    pub path: PathBuf,
}

/// The `model:` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Model name in the registry.
    pub name: String,
    /// `classification` or `regression`.
    pub task: Task,
    /// Target column.
    pub target: String,
    /// Feature columns (default: every other column, by its type).
    #[serde(default)]
    pub features: FeatureSelection,
    /// Imputation, scaling, encoding (the feature lists come from `features`).
    #[serde(default)]
    pub preprocessing: model::FeatureParams,
    /// Algorithm name.
    pub algorithm: String,
    /// Its hyperparameters (keys depend on the algorithm).
    #[serde(default)]
    pub params: serde_json::Value,
    /// Hyperparameter search with cross-validation (optional).
    #[serde(default)]
    pub search: Option<crate::search::SearchConfig>,
    /// Seed of every random choice.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    42
}

/// `model.features`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSelection {
    /// Numeric columns (imputed, scaled).
    pub numeric: Option<Vec<String>>,
    /// Categorical columns (imputed, one-hot encoded).
    pub categorical: Option<Vec<String>>,
    /// Numeric columns used unscaled.
    #[serde(default)]
    pub passthrough: Vec<String>,
    /// Columns never used as features (ids, timestamps).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// When a trained model is promoted (`registry:`); flags override it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryPolicy {
    /// `never` (default), `always`, or `if_better`.
    pub promote: Promote,
    /// Alias to promote to (default `latest`).
    pub alias: Option<String>,
    /// Metric compared by `if_better` (default: accuracy / rmse by task).
    pub metric: Option<String>,
}

/// Promotion policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Promote {
    /// Register only.
    #[default]
    Never,
    /// Always promote the new version.
    Always,
    /// Promote if it beats the alias's current version on `metric`.
    IfBetter,
}

impl TrainConfig {
    /// Loads and checks `model_config.yaml`.
    pub fn load(path: &Path) -> Result<Self> {
        let mut config: Self = common::config::load(path)?;
        config.path = path.to_path_buf();
        config.estimator()?;
        config.check()?;
        Ok(config)
    }

    /// Parses a config from text (`path` is for messages).
    pub fn from_yaml(text: &str, path: &Path) -> Result<Self> {
        let mut config: Self = common::config::from_str(text, path)?;
        config.path = path.to_path_buf();
        config.estimator()?;
        config.check()?;
        Ok(config)
    }

    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        Error::Config {
            path: self.path.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn check(&self) -> Result<()> {
        let m = &self.model;
        if m.name.trim().is_empty() {
            return Err(self.err("model.name", "must not be empty"));
        }
        if m.target.trim().is_empty() {
            return Err(self.err("model.target", "must not be empty"));
        }
        if m.preprocessing.max_categories == 0 {
            return Err(self.err("model.preprocessing.max_categories", "must be at least 1"));
        }
        if let Some(search) = &m.search {
            search
                .check(&m.algorithm, m.task, &m.params)
                .map_err(|message| self.err("model.search", message))?;
        }
        if let Some(alias) = &self.registry.alias {
            match alias.parse::<model_registry::Reference>() {
                Ok(model_registry::Reference::Alias(_)) => {}
                Ok(model_registry::Reference::Version(_)) => {
                    return Err(self.err(
                        "registry.alias",
                        format!("'{alias}' is a version, not an alias"),
                    ));
                }
                Err(e) => return Err(self.err("registry.alias", e.to_string())),
            }
        }
        Ok(())
    }

    /// The typed estimator parameters (errors name the valid keys).
    pub fn estimator(&self) -> Result<EstimatorParams> {
        EstimatorParams::new(&self.model.algorithm, self.model.task, &self.model.params).map_err(
            |e| {
                let message = e.to_string();
                let (key, rest) = message
                    .split_once(": ")
                    .unwrap_or(("params", message.as_str()));
                self.err(&format!("model.{key}"), rest)
            },
        )
    }

    /// SHA-256 of the effective config (canonical JSON), recorded in the card.
    pub fn fingerprint(&self) -> String {
        common::checksum::sha256_hex(&serde_json::to_vec(self).unwrap_or_default())
    }
}

/// File name of the artifact inside a registry version.
pub const ARTIFACT_FILE: &str = model::artifact::FILE_NAME;
/// File name of the model report inside a registry version.
pub const REPORT_FILE: &str = model_registry::REPORT_FILE;

/// Where to read and write, and what to do in the registry.
///
/// Built by the binary from flags and `storage`, or by an embedder from
/// locations it made itself, with its own object store
/// ([`TrainOptions::new`] and the `with_*` setters).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// ETL output location (with `_manifest.json`).
    pub data: Location,
    /// Registry location.
    pub registry: Location,
    /// Publish the model as a new version.
    pub register: bool,
    /// Promotion policy (overrides the config's `registry.promote`).
    pub promote: Option<Promote>,
    /// Metric for `if_better` (overrides the config).
    pub metric: Option<String>,
    /// Promote even when the alias serves another model (name or task).
    pub force: bool,
}

impl TrainOptions {
    /// Trains on the etl output at `data` and publishes to the registry at
    /// `registry`, promoting as the config says.
    pub fn new(data: Location, registry: Location) -> Self {
        Self {
            data,
            registry,
            register: true,
            promote: None,
            metric: None,
            force: false,
        }
    }

    /// Publish the model as a new version (`false`: evaluate only).
    pub fn with_register(mut self, register: bool) -> Self {
        self.register = register;
        self
    }

    /// Promotion policy over the config's `registry.promote`.
    pub fn with_promote(mut self, promote: Promote) -> Self {
        self.promote = Some(promote);
        self
    }

    /// Promote when better by `metric` (over the config's).
    pub fn with_promote_if_better(mut self, metric: impl Into<String>) -> Self {
        self.promote = Some(Promote::IfBetter);
        self.metric = Some(metric.into());
        self
    }

    /// Promote even when the alias serves another model.
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}
