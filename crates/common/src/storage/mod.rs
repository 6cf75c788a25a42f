//! The one storage layer: every byte the stages read or write goes through a
//! [`Location`] (an `Arc<dyn ObjectStore>` plus a path), so local disk, S3 and
//! memory behave the same.
//!
//! - [`Location`]: parse `data/raw`, `file:///…`, `s3://bucket/prefix`, `memory://name/…`.
//! - whole objects: `get`, `put`, `put_if_absent` (create-if-absent), `list`, `delete`.
//! - [`Selection`] / [`select_inputs`]: one file, a glob or a prefix → sorted input files.
//! - [`ParquetSource`] / [`ParquetSink`]: streaming Parquet read and write.
//! - [`RecordChunker`]: a CSV stream cut into chunks of whole records, for
//!   parsing in parallel.
//! - `read_json` / `write_json` / `create_json`: manifests and cards.
//! - [`Lease`]: a writer's proof of life that cleanups respect.

mod blocking;
mod chunks;
mod durable;
mod format;
mod json;
mod lease;
mod local;
mod location;
mod objects;
mod parquet;
mod select;

use arrow::array::RecordBatch;
use futures::stream::BoxStream;

pub use chunks::{CsvDialect, RecordChunk, RecordChunker, line_feeds};
pub use format::{Compression, FileFormat};
pub use lease::{LEASE_ENV, Lease, lease_is_live, lease_timeout};
pub use location::{FSYNC_ENV, Location, Scheme};
pub use objects::ByteStream;
pub(crate) use parquet::hex;
pub use parquet::{
    ParquetCompression, ParquetSink, ParquetSource, ParquetWriteOptions, StoredFile, WrittenFile,
};
pub use select::{InputFile, Selection, select_inputs};

/// A stream of record batches read from storage.
pub type BatchStream = BoxStream<'static, crate::Result<RecordBatch>>;
