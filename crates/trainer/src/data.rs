//! Training data: the ETL output, read through its `_manifest.json` (never
//! by listing files, so a half-written run is never read), decoded as the
//! one typed record etl writes (`records::etl::Manifest`).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
// A file as the manifest records it (path, rows, bytes, SHA-256): what each
// part is checked against before it is read.
use common::storage::{Location, StoredFile as OutputFile};
use ingest::clean::Cleaning;
use records::etl::Manifest;

use crate::error::{Error, Result};

/// The splits of one ETL run, in memory (training needs them whole).
#[derive(Debug)]
pub struct Dataset {
    /// Training rows.
    pub train: RecordBatch,
    /// Test rows (same schema).
    pub test: RecordBatch,
    /// Where the splits are, and the validation split's files (read only
    /// when an estimator stops early on them: [`Dataset::validation`]).
    root: Location,
    validation_files: Vec<OutputFile>,
    /// `<location>/_manifest.json`.
    pub manifest_location: String,
    /// SHA-256 of the manifest's bytes: identifies exactly what was trained on.
    pub manifest_sha256: String,
    /// The ETL run id.
    pub run_id: String,
    /// The cleaning the ETL applied (absent in older manifests).
    pub cleaning: Option<Cleaning>,
    /// The SQL transform the ETL applied after the cleaning, if any.
    pub transform: Option<records::transform::Transform>,
    /// etl's profile of the training split (absent in older manifests):
    /// the card reuses it instead of profiling the split again.
    pub profile: Option<records::profile::Profile>,
}

/// Reads the train and test splits of the ETL output at `location`.
pub async fn load(root: &Location) -> Result<Dataset> {
    let manifest_location = root.join("_manifest.json")?;
    let bytes = match manifest_location.get().await {
        Ok(bytes) => bytes,
        Err(common::Error::NotFound { .. }) => {
            return Err(Error::Data {
                location: manifest_location.to_string(),
                message: "no ETL manifest here; run `etl` first or pass --data".into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let manifest = Manifest::decode(&bytes).map_err(|e| Error::Data {
        location: manifest_location.to_string(),
        message: e.to_string(),
    })?;
    let files = |split: &str| {
        manifest
            .outputs
            .get(split)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    let train = read_split(root, "train", files("train"), &manifest_location).await?;
    let test = read_split(root, "test", files("test"), &manifest_location).await?;
    if train.schema() != test.schema() {
        return Err(Error::Data {
            location: manifest_location.to_string(),
            message: "the train and test splits have different schemas".into(),
        });
    }
    let validation_files = manifest
        .outputs
        .get("validation")
        .cloned()
        .unwrap_or_default();
    Ok(Dataset {
        train,
        test,
        root: root.clone(),
        validation_files,
        manifest_location: manifest_location.to_string(),
        manifest_sha256: common::checksum::sha256_hex(&bytes),
        run_id: manifest.run_id,
        cleaning: manifest.cleaning,
        transform: manifest.transform,
        profile: manifest.profile,
    })
}

impl Dataset {
    /// The validation split (same schema as train), when the ETL wrote one:
    /// what an estimator that stops early stops on. Read on demand.
    pub async fn validation(&self) -> Result<Option<RecordBatch>> {
        if self.validation_files.is_empty() {
            return Ok(None);
        }
        let manifest = Location::parse(&self.manifest_location)?;
        let rows = read_split(&self.root, "validation", &self.validation_files, &manifest).await?;
        if rows.schema() != self.train.schema() {
            return Err(Error::Data {
                location: self.manifest_location.clone(),
                message: "the train and validation splits have different schemas".into(),
            });
        }
        Ok(Some(rows))
    }
}

async fn read_split(
    root: &Location,
    split: &str,
    files: &[OutputFile],
    manifest: &Location,
) -> Result<RecordBatch> {
    if files.is_empty() {
        return Err(Error::Data {
            location: manifest.to_string(),
            message: format!("the manifest lists no '{split}' files"),
        });
    }
    let mut schema = None;
    let mut batches = Vec::new();
    for file in files {
        // Checked against the manifest and decoded from one read.
        let (file_schema, read) = file.read_verified(root, 64 * 1024).await?;
        schema.get_or_insert(file_schema);
        batches.extend(read);
    }
    let schema = schema.unwrap_or_else(|| Arc::new(arrow::datatypes::Schema::empty()));
    concat_batches(&schema, &batches).map_err(|e| Error::Data {
        location: format!("{root}/{split}"),
        message: e.to_string(),
    })
}
