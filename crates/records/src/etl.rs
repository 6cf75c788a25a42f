//! etl's `_manifest.json`: the commit marker of a run, written last, and
//! what the trainer reads its data through. It records the
//! inputs (to tell whether a rerun is needed), the effective config's hash,
//! the output schema and files with checksums, and row counts that add up:
//! `input = train + test + validation + quarantined + duplicates`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the manifest layout; readers refuse versions they do not know.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's file name under the output root.
pub const MANIFEST: &str = "_manifest.json";

/// An input file as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Location as displayed.
    pub location: String,
    /// `csv`, `parquet` or `ndjson`.
    pub format: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification time.
    pub last_modified: DateTime<Utc>,
    /// The store's ETag, when it has one.
    pub e_tag: Option<String>,
    /// Rows read from it (valid or not).
    pub rows: u64,
}

/// An output file, with its path relative to the output root.
pub use common::storage::StoredFile as OutputFile;

/// An output column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRecord {
    /// Name.
    pub name: String,
    /// Arrow type, e.g. `Float64`.
    pub data_type: String,
    /// Whether the type was declared (otherwise inferred).
    pub declared: bool,
}

/// Row counts; `input` is always the sum of the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Rows read (records in the inputs).
    pub input: u64,
    /// Rows written to `train/`.
    pub train: u64,
    /// Rows written to `test/`.
    pub test: u64,
    /// Rows written to `validation/`.
    pub validation: u64,
    /// Invalid rows (quarantined or, with `on_invalid: drop`, dropped).
    pub quarantined: u64,
    /// Duplicate rows removed.
    pub duplicates: u64,
    /// Rows the transform's SQL left out (a `WHERE`, an inner join without
    /// a match); 0 without a transform.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filtered: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl std::fmt::Display for RowCounts {
    /// `344 → train 240, test 70, validation 0, quarantined 32, duplicates 2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} → train {}, test {}, validation {}, quarantined {}, duplicates {}",
            self.input, self.train, self.test, self.validation, self.quarantined, self.duplicates
        )?;
        if self.filtered > 0 {
            write!(f, ", filtered {}", self.filtered)?;
        }
        Ok(())
    }
}

impl RowCounts {
    /// Whether the counts add up.
    pub fn balanced(&self) -> bool {
        self.input
            == self.train
                + self.test
                + self.validation
                + self.quarantined
                + self.duplicates
                + self.filtered
    }
}

/// Run timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Start of the run.
    pub started: DateTime<Utc>,
    /// End of the run (just before the manifest was written).
    pub finished: DateTime<Utc>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Input rows per second.
    pub rows_per_second: f64,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The run that produced the output (`runs/<run_id>/`).
    pub run_id: String,
    /// `cauce-etl <version>`.
    pub producer: String,
    /// SHA-256 of the effective `etl` config.
    pub config_sha256: String,
    /// Input files.
    pub inputs: Vec<InputRecord>,
    /// Output columns.
    pub schema: Vec<ColumnRecord>,
    /// Output files per dataset: `train`, `test`, `validation`, `quarantine`.
    pub outputs: BTreeMap<String, Vec<OutputFile>>,
    /// The cleaning that made the output from the inputs (absent in
    /// manifests written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaning: Option<crate::cleaning::Cleaning>,
    /// The SQL transform applied after the cleaning (absent without one);
    /// the trainer copies it into the card and inference replays it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<crate::transform::Transform>,
    /// Row counts.
    pub rows: RowCounts,
    /// Invalid rows per reason key (`min(bill_length_mm)`, `ragged`, …).
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// The first invalid row of each reason key: `file:row: reason`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quarantine_examples: BTreeMap<String, String>,
    /// The training split's columns, profiled (absent in manifests written
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::profile::Profile>,
    /// The run's data-quality report (`runs/<id>/report.html`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<OutputFile>,
    /// Timings.
    pub timings: Timings,
    /// In a shard's manifest (`_manifest.shard-I-of-N.json`): which shard,
    /// of which inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// In a merged manifest: the shard runs it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<common::shard::Merged>,
}

/// What a shard's manifest records so that the merge can check that all
/// shards ran over the same inputs with the same config, and that no key
/// is in two shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
    /// Input files of the whole run (every shard's).
    pub inputs_total: usize,
    /// SHA-256 over the whole run's input list (names, sizes, times, ETags).
    pub inputs_sha256: String,
    /// When the input is one Parquet file split by row group: how many it
    /// has (the shard read those numbered I mod N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_groups: Option<usize>,
    /// Keys this shard kept, per rule (`dedup`, `unique`), with where each
    /// was first seen (`keys-<rule>.bin` in the run folder).
    #[serde(default)]
    pub keys: BTreeMap<String, OutputFile>,
}

impl std::ops::Add for RowCounts {
    type Output = Self;

    /// The counts of two parts of a run together.
    fn add(self, b: Self) -> Self {
        Self {
            input: self.input + b.input,
            train: self.train + b.train,
            test: self.test + b.test,
            validation: self.validation + b.validation,
            quarantined: self.quarantined + b.quarantined,
            duplicates: self.duplicates + b.duplicates,
            filtered: self.filtered + b.filtered,
        }
    }
}

impl Manifest {
    /// Decodes a manifest's bytes; a manifest of another
    /// [`FORMAT_VERSION`] is refused naming its version.
    pub fn decode(bytes: &[u8]) -> Result<Self, crate::Error> {
        crate::decode_versioned(bytes, "ETL manifest", FORMAT_VERSION)
    }

    /// Every file the manifest publishes: the datasets' parts, the report
    /// and a shard's keys files (what publishing checks before writing it).
    pub fn published_files(&self) -> Vec<&OutputFile> {
        self.outputs
            .values()
            .flatten()
            .chain(&self.report)
            .chain(self.shard.iter().flat_map(|s| s.keys.values()))
            .collect()
    }

    /// Files of one dataset (`train`, `test`, …), empty if none.
    pub fn files(&self, dataset: &str) -> &[OutputFile] {
        self.outputs.get(dataset).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl common::lifecycle::Publish for Manifest {
    fn published_files(&self) -> Vec<&OutputFile> {
        Manifest::published_files(self)
    }
}
