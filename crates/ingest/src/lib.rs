//! Cauce's one reader layer for raw data, shared by `etl` and `inference` so
//! that a raw file is parsed the same way in both stages (no training /
//! serving skew from two parsers):
//!
//! - [`read`]: one reader per format (CSV / TSV through a record chunker
//!   that cuts where csv-core ends records, NDJSON lines parsed against the
//!   columns, Parquet by row group; gzip around text formats), each giving
//!   the file's column names and a stream of [`read::RawBatch`]es (string
//!   columns for text formats, parsed in parallel) with the rows that could
//!   not be split into columns set aside as [`read::Rejected`], each with
//!   its source line and [`Reason`] (or, read strictly with
//!   [`read::RawBatch::strict`], the first of them as an error);
//! - [`clean`]: the cleaning of text cells before casting (trim, null
//!   tokens);
//! - [`types`]: column types, their inference from sample values, and the
//!   cast of text that reports the rows that do not cast;
//! - [`reason`]: why a row was set aside, in the words the ETL quarantine
//!   and inference's `_error` both use.

pub mod clean;
pub mod error;
pub mod progress;
pub mod read;
pub mod reason;
pub mod types;

pub use error::{Error, Result};
pub use read::CsvConfig;
pub use reason::Reason;
pub use types::ColumnType;
