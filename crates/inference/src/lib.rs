//! Cauce's inference stage: score new data (local or S3; Parquet, CSV or
//! NDJSON) with the model `latest` points at, a pinned version, or an
//! artifact file, and write predictions as Parquet with a manifest.
//!
//! - The model comes from the registry with every checksum verified.
//! - Text inputs are read by `ingest`, etl's reader, cleaned and cast as etl
//!   does (see [`input`]).
//! - Each input's schema is checked against the model's before the first
//!   prediction; rows that cannot be scored (a ragged row, a cell that does
//!   not cast, an unknown category under `unknown_category: error`) get a
//!   null prediction and an `_error`, never a guess, and never stop the run.
//! - Batches stream through the model on both cores; memory is bounded by
//!   the batch size; input order is kept within each output file.
//! - `--shard I/N` splits the input deterministically across processes.
//!
//! Per batch, from any Rust program:
//!
//! ```no_run
//! # async fn example(batch: arrow::array::RecordBatch) -> inference::Result<()> {
//! let (model, record) = inference::load_model("latest", &common::storage::Location::parse("models")?).await?;
//! let scored = inference::predict(&model, &batch, record.version.as_deref().unwrap_or("?"), &["id".into()], &[])?;
//! assert_eq!(scored.num_rows(), batch.num_rows());
//! # Ok(()) }
//! ```

pub mod config;
mod error;
pub mod input;
mod merge;
mod predict;
#[cfg(feature = "sql")]
mod replay;
#[cfg(not(feature = "sql"))]
#[path = "replay_off.rs"]
mod replay;
mod run;
pub mod schema;
mod table;

pub use config::{
    CleaningSource, InferenceConfig, OnError, PipelineConfig, Shard, TransformSource,
    TransformTables,
};
pub use error::{Error, Result};
pub use merge::merge;
pub use predict::{output_schema, predict};
pub use run::{
    AppliedCleaning, FORMAT_VERSION, InferenceReport, InputRecord, InputSet, Manifest, ModelRecord,
    OutputFile, Rows, RunOptions, load_model, run,
};
pub use table::Scorer;
