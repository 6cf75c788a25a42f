//! The model card: what a version is (name, metrics, parameters, free-form
//! metadata) and the size and SHA-256 of every file it holds. Writing it is
//! what makes a version visible.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::names::Version;

pub use crate::names::CARD_FILE;

/// Card layout version; cards of another version are refused.
pub const FORMAT_VERSION: u32 = 1;

/// One artifact file of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Name inside the version folder.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// Which way a metric improves. The publisher records it for each metric
/// (`better: {accuracy: higher, rmse: lower}`), so that the registry
/// compares versions without knowing metric names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Larger values are better (accuracy, r2).
    Higher,
    /// Smaller values are better (rmse, log loss).
    Lower,
}

/// What the publisher says about a version (the card minus what the registry fills in).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// Model name, e.g. `penguins-species`.
    #[serde(default)]
    pub name: String,
    /// Evaluation metrics, e.g. `accuracy: 0.97`.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Which way each metric improves (a metric not listed cannot decide
    /// `--if-better`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub better: BTreeMap<String, Better>,
    /// Hyperparameters and other settings, any JSON.
    #[serde(default)]
    pub params: serde_json::Value,
    /// Anything else (feature schema, training data manifest, …), any JSON.
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// The card as stored in `versioned/vN/model_card.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The version.
    pub version: Version,
    /// Model name.
    pub name: String,
    /// When the card was written.
    pub created_at: DateTime<Utc>,
    /// `user@host` of the publisher.
    pub created_by: String,
    /// Every artifact file.
    pub files: Vec<FileEntry>,
    /// Evaluation metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Which way each metric improves (none in cards written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub better: BTreeMap<String, Better>,
    /// Hyperparameters.
    pub params: serde_json::Value,
    /// Free-form metadata.
    pub metadata: serde_json::Value,
}

impl ModelCard {
    /// The entry for `name`, if the version has that file.
    pub fn file(&self, name: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// `user@host` of this process, for cards and promotion records.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{user}@{host}")
}
