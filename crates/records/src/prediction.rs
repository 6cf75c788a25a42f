//! inference's `_manifest.json`: the commit marker of a scoring run (one
//! per shard, and the merged one readers use), written last. It records the
//! model used (version and checksums), the inputs, the output parts, row
//! counts that add up (`input = predicted + errored + quarantined`), the
//! cleaning applied and the drift measured against the training profile.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::shard::Shard;
use common::storage::StoredFile;
use serde::{Deserialize, Serialize};

use crate::cleaning::Cleaning;
use crate::drift::Drift;
use crate::profile::Profile;

/// Version of the manifest layout; readers refuse versions they do not know.
pub const FORMAT_VERSION: u32 = 1;

/// The model a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// What was asked for (`latest`, `v3`, a path).
    pub reference: String,
    /// The registry version it resolved to (none for an artifact path).
    pub version: Option<String>,
    /// Model name.
    pub name: String,
    /// SHA-256 of the model card file (none for an artifact path).
    pub card_sha256: Option<String>,
    /// SHA-256 of the artifact.
    pub artifact_sha256: String,
    /// The cleaning recorded in the model card (the ETL's, for the model's
    /// input columns); none for an artifact path or an older card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaning: Option<Cleaning>,
    /// The ETL's SQL transform recorded in the model card (none without
    /// one, for an artifact path or an older card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<crate::transform::Transform>,
    /// Each class's share of the model's predictions on its test set (from
    /// its card); copied into the manifest.
    #[serde(skip)]
    pub test_predicted_shares: BTreeMap<String, f64>,
    /// The training data's profile from the model card (none for an
    /// artifact path or an older card): what drift is measured against.
    #[serde(skip)]
    pub profile: Option<Arc<Profile>>,
}

/// The transform a run replayed on its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedTransform {
    /// The reference tables as read by this run (their checksums equal the
    /// recorded ones unless `tables_check` is `current`).
    pub tables: Vec<crate::transform::ReferenceTable>,
    /// `recorded` (a changed table is refused) or `current`
    /// (`inference.transform_tables: current`).
    pub tables_check: String,
    /// The input columns the replay reads.
    pub required_inputs: Vec<String>,
}

/// The cleaning a run applied to its text inputs, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedCleaning {
    /// `model card` (the training data's cleaning) or `config`
    /// (`inference.cleaning: config`, or a model without a recorded one).
    pub source: String,
    /// What was applied.
    pub cleaning: Cleaning,
}

/// An input as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Location.
    pub location: String,
    /// Size in bytes.
    pub size: u64,
    /// Row groups scored (Parquet split across shards), else all.
    pub row_groups: Option<Vec<usize>>,
    /// Rows read.
    pub rows: u64,
}

/// An output file, relative to the output root.
pub use common::storage::StoredFile as OutputFile;

/// Row counts: `input = predicted + errored + quarantined`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rows {
    /// Rows read (rejected rows included): `predicted + errored + quarantined`.
    pub input: u64,
    /// Rows with a prediction.
    pub predicted: u64,
    /// Rows in the output with a null prediction and an `_error`.
    pub errored: u64,
    /// Rows moved to `quarantine/` with their `_error` (`on_error: quarantine`).
    #[serde(default)]
    pub quarantined: u64,
}

/// The shard's manifest, written last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// This run.
    pub run_id: String,
    /// The model used.
    pub model: ModelRecord,
    /// Which shard.
    pub shard: Shard,
    /// Inputs scored by this shard.
    pub inputs: Vec<InputRecord>,
    /// Output parts, in input order.
    pub outputs: Vec<OutputFile>,
    /// Quarantined rows (with `on_error: quarantine`), one part per input file that had any.
    #[serde(default)]
    pub quarantine: Vec<OutputFile>,
    /// The cleaning applied to text inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaning: Option<AppliedCleaning>,
    /// The SQL transform replayed after the cleaning (none without one, or
    /// with `inference.transform: none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<AppliedTransform>,
    /// Row counts.
    pub rows: Rows,
    /// Drift of the inputs against the training profile (none when the
    /// model's card holds no profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// The run's report (`report.html` in its folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<StoredFile>,
    /// Start.
    pub started: DateTime<Utc>,
    /// End.
    pub finished: DateTime<Utc>,
    /// Wall time.
    pub seconds: f64,
    /// Input rows per second.
    pub rows_per_second: f64,
    /// In a shard's manifest: the whole run's input, which every shard
    /// must agree on for the merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_set: Option<InputSet>,
    /// In a merged manifest: the shard runs it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<common::shard::Merged>,
    /// A classifier's predictions per class (rows scored without error).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub predicted_classes: BTreeMap<String, u64>,
    /// Each class's share of the model's predictions on its own test set
    /// (from its card's confusion matrix): what this run's shares are drawn
    /// against.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub test_predicted_shares: BTreeMap<String, f64>,
}

impl Manifest {
    /// Every file the manifest publishes: parts, quarantine parts, report.
    pub fn published_files(&self) -> Vec<&StoredFile> {
        self.outputs
            .iter()
            .chain(&self.quarantine)
            .chain(&self.report)
            .collect()
    }
}

impl common::lifecycle::Publish for Manifest {
    fn published_files(&self) -> Vec<&StoredFile> {
        Manifest::published_files(self)
    }
}

/// The input of a whole (sharded) run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSet {
    /// Units dealt out to the shards: files, or the row groups of one
    /// Parquet file.
    pub units: usize,
    /// SHA-256 over the input files' names and sizes.
    pub sha256: String,
}

impl Manifest {
    /// Decodes a manifest's bytes; a manifest of another
    /// [`FORMAT_VERSION`] is refused naming its version.
    pub fn decode(bytes: &[u8]) -> Result<Self, crate::Error> {
        crate::decode_versioned(bytes, "prediction manifest", FORMAT_VERSION)
    }
}
