//! Cauce's ETL stage: raw CSV / Parquet / NDJSON on local disk or S3 →
//! validated, cleaned, train/test(/validation)-split Parquet, with invalid rows
//! quarantined (with the reason and source line) and a `_manifest.json` that
//! accounts for every row: `input = train + test + validation + quarantined +
//! duplicates`.
//!
//! The binary `etl` is a thin wrapper over [`run`]; the same run is available
//! to any Rust program:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), etl::Error> {
//! use etl::{EtlConfig, RunOptions};
//!
//! let raw = common::storage::Location::parse("memory://etl-doc/raw/people.csv")?;
//! raw.put("id,age\n1,34\n2,not-a-number\n3,51\n3,51\n").await?;
//!
//! let config: EtlConfig = common::config::from_str(
//!     // One row in four is invalid here: allow it (the default is 5%).
//!     "columns:\n  age: {type: int64, min: 0}\nsplit: {test: 0.5, seed: 1}\nmax_quarantined: 0.5\n",
//!     "inline.yaml".as_ref(),
//! )?;
//! // Any `Location` will do, including one over an object store of your own
//! // (`Location::from_store`).
//! let options = RunOptions::new(
//!     common::storage::Location::parse("memory://etl-doc/raw")?,
//!     common::storage::Location::parse("memory://etl-doc/processed")?,
//! );
//! let report = etl::run(&config, &options).await?;
//! let rows = report.manifest.rows;
//! assert_eq!((rows.input, rows.quarantined, rows.duplicates), (4, 1, 1));
//! assert_eq!(rows.train + rows.test, 2);
//! # Ok(()) }
//! ```

pub mod config;
/// etl's manifest: the record in the `records` crate, where its readers find it.
pub use records::etl as manifest;
mod dataset;
pub mod error;
mod keys;
mod merge;
pub mod plan;
mod policy;
mod profiling;
mod query;
mod reconcile;
mod run;
mod split;
mod transform;
mod write;

use ingest::progress;
/// The reader layer etl reads its input with (shared with inference).
pub use ingest::read;
/// Why a row was quarantined.
pub use ingest::reason;

pub use config::{EtlConfig, PipelineConfig};
pub use error::{Error, Result};
pub use manifest::Manifest;
pub use merge::merge;
pub use run::{EtlReport, RunOptions, plan, run};
