//! `common` is the floor every Cauce stage stands on: typed YAML config
//! ([`config`]), logging to stderr and `logs/<stage>.log` ([`logging`]), one
//! storage layer over `object_store` for local disk, S3 and memory
//! ([`storage`]), SHA-256 checksums ([`checksum`]) and did-you-mean
//! suggestions for mistyped names ([`suggest`]).
//!
//! ```
//! use common::storage::{Location, ParquetSink, ParquetSource, ParquetWriteOptions};
//! use futures::TryStreamExt;
//! # use std::sync::Arc;
//! # use arrow::array::{Int64Array, RecordBatch};
//! # use arrow::datatypes::{DataType, Field, Schema};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> common::Result<()> {
//! let out = Location::parse("memory://doc/processed")?.join("train/part-0.parquet")?;
//! let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap();
//!
//! let mut sink = ParquetSink::create(&out, schema, &ParquetWriteOptions::default())?;
//! sink.write(&batch).await?;
//! let written = sink.finish().await?; // the object becomes visible only now
//! assert_eq!(written.rows, 3);
//!
//! let batches: Vec<_> = ParquetSource::open(&out).await?.stream(1024, None)?.try_collect().await?;
//! assert_eq!(batches[0], batch);
//! # Ok(()) }
//! ```

pub mod checksum;
pub mod config;
pub mod cpu;
pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod logging;
pub mod shard;
pub mod storage;
pub mod suggest;
pub mod terminal;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};
