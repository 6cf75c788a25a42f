//! Streaming Parquet I/O over object storage.
//!
//! Reading goes through [`ObjectReader`], an `AsyncFileReader` over the store
//! (range requests: only the footer and the requested row groups are fetched;
//! parquet 60 deprecates its own `ParquetObjectReader` in favour of this). Writing goes through
//! `AsyncArrowWriter` into a multipart [`BufWriter`], so a file larger than one
//! part never sits whole in memory; the bytes are hashed on the way out, so the
//! SHA-256 a manifest needs costs no second read. An unfinished file is never
//! visible: the upload is committed only by [`ParquetSink::finish`].

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::async_writer::{AsyncArrowWriter, AsyncFileWriter};
use parquet::basic::{Compression as Codec, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{BatchStream, Location};
use crate::error::{Error, Result};

/// Size of each multipart upload part (and of the in-memory write buffer).
const UPLOAD_PART_SIZE: usize = 10 << 20;

/// Compression codec for written Parquet files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParquetCompression {
    /// No compression.
    None,
    /// Snappy: fast, larger files.
    Snappy,
    /// LZ4 (raw).
    Lz4,
    /// gzip.
    Gzip,
    /// zstd level 3: the default, a good size/speed balance.
    #[default]
    Zstd,
}

/// How Parquet files are written (`parquet:` in stage configs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParquetWriteOptions {
    /// Compression codec.
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub row_group_size: usize,
}

/// Rows per row group unless a config says otherwise: polars' default
/// (512²; DuckDB writes 122,880, pyarrow 1Mi). The writer holds a row
/// group's encoded pages until it is full, so a smaller group is written
/// (and checksummed) while the run goes on rather than all at its end,
/// and readers get more units to read, or shard, in parallel.
pub const DEFAULT_ROW_GROUP_SIZE: usize = 1 << 18;

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        Self {
            compression: ParquetCompression::Zstd,
            row_group_size: DEFAULT_ROW_GROUP_SIZE,
        }
    }
}

impl ParquetWriteOptions {
    /// The parquet crate's writer properties for these options and `schema`.
    /// Floating-point columns are written without a dictionary: their values
    /// rarely repeat, so the writer would hash every value only to fall back
    /// to plain encoding when the dictionary page fills up.
    pub fn writer_properties(&self, schema: &arrow::datatypes::Schema) -> WriterProperties {
        let codec = match self.compression {
            ParquetCompression::None => Codec::UNCOMPRESSED,
            ParquetCompression::Snappy => Codec::SNAPPY,
            ParquetCompression::Lz4 => Codec::LZ4_RAW,
            ParquetCompression::Gzip => Codec::GZIP(Default::default()),
            ParquetCompression::Zstd => Codec::ZSTD(ZstdLevel::default()),
        };
        let mut builder = WriterProperties::builder();
        for field in schema.fields() {
            if field.data_type().is_floating() {
                builder = builder.set_column_dictionary_enabled(
                    parquet::schema::types::ColumnPath::from(field.name().as_str()),
                    false,
                );
            }
        }
        builder
            .set_compression(codec)
            .set_max_row_group_row_count(Some(self.row_group_size.max(1)))
            .set_created_by(format!("cauce {}", env!("CARGO_PKG_VERSION")))
            .build()
    }
}

/// An opened Parquet file: its footer is read, its data is not.
#[derive(Debug, Clone)]
pub struct ParquetSource {
    location: Location,
    size: u64,
    metadata: ArrowReaderMetadata,
}

impl ParquetSource {
    /// Reads the footer of the Parquet file at `location`.
    pub async fn open(location: &Location) -> Result<Self> {
        let size = location.head().await?.size;
        let mut reader = Self::reader(location, size);
        let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
            .await
            .map_err(|source| parquet_err(location, source))?;
        Ok(Self {
            location: location.clone(),
            size,
            metadata,
        })
    }

    fn reader(location: &Location, size: u64) -> ObjectReader {
        ObjectReader {
            location: location.clone(),
            size,
        }
    }

    /// The file's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(self.metadata.schema())
    }

    /// Total rows in the file, from the footer.
    pub fn num_rows(&self) -> u64 {
        let rows = self.metadata.metadata().file_metadata().num_rows();
        u64::try_from(rows).unwrap_or(0)
    }

    /// Number of row groups (the unit of parallel or sharded reading).
    pub fn num_row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    /// Rows in each row group, from the footer.
    pub fn row_group_rows(&self) -> Vec<u64> {
        self.metadata
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .collect()
    }

    /// File size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Streams the file (or only `row_groups`, in the given order) as record batches.
    pub fn stream(&self, batch_size: usize, row_groups: Option<Vec<usize>>) -> Result<BatchStream> {
        let reader = Self::reader(&self.location, self.size);
        let mut builder =
            ParquetRecordBatchStreamBuilder::new_with_metadata(reader, self.metadata.clone())
                .with_batch_size(batch_size.max(1));
        if let Some(groups) = row_groups {
            builder = builder.with_row_groups(groups);
        }
        let stream = builder
            .build()
            .map_err(|source| parquet_err(&self.location, source))?;
        let location = self.location.clone();
        Ok(stream
            .map_err(move |source| parquet_err(&location, source))
            .boxed())
    }
}

/// Reads a Parquet file of known size from its store with range requests.
#[derive(Debug, Clone)]
struct ObjectReader {
    location: Location,
    size: u64,
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.location
                .store()
                .get_range(self.location.path(), range)
                .await
                .map_err(external)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.location
                .store()
                .get_ranges(self.location.path(), &ranges)
                .await
                .map_err(external)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(64 * 1024))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// What a finished Parquet file looks like from the outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    /// Where it was written (as displayed).
    pub location: String,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

/// A written file as a manifest records it: its path relative to the
/// dataset's root, so the dataset can be moved or read from another store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Path relative to the root, e.g. `runs/<id>/train/part-00000.parquet`.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file.
    pub sha256: String,
}

impl StoredFile {
    /// Checks the file at `root/path` against this record before it is
    /// trusted: its size, its SHA-256 (streamed) and, for a Parquet file,
    /// its row count. A part copied over another, a flipped byte or a file
    /// of another size is refused naming the file. Returns its location.
    pub async fn verify(&self, root: &Location) -> Result<Location> {
        let location = root.join(&self.path)?;
        let (size, sha256) = crate::checksum::object_sha256(&location).await?;
        // Bytes first: a flipped byte is named as such, not as whatever the
        // footer parser makes of it.
        self.check(&location, size, &sha256, None)?;
        if self.path.ends_with(".parquet") {
            let rows = ParquetSource::open(&location).await?.num_rows();
            self.check(&location, size, &sha256, Some(rows))?;
        }
        Ok(location)
    }

    /// Reads this Parquet file whole, checked as [`verify`](Self::verify)
    /// checks it, from one read of its bytes (instead of one read to check
    /// and another to decode): its schema and its batches of `batch_size`
    /// rows. For a reader that holds the rows in memory anyway (training).
    pub async fn read_verified(
        &self,
        root: &Location,
        batch_size: usize,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let location = root.join(&self.path)?;
        let bytes = location.get().await?;
        let sha256 = crate::checksum::sha256_hex(&bytes);
        let size = bytes.len() as u64;
        // Bytes first: a flipped byte is named as such, not as whatever the
        // decoder makes of it.
        self.check(&location, size, &sha256, None)?;
        let at = location.clone();
        let (rows, schema, batches) = tokio::task::spawn_blocking(move || {
            let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
            let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
            let schema = Arc::clone(builder.schema());
            let batches = builder
                .with_batch_size(batch_size.max(1))
                .build()?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok::<_, ParquetError>((rows, schema, batches))
        })
        .await
        .map_err(|e| Error::Io {
            location: at.to_string(),
            source: std::io::Error::other(e),
        })?
        .map_err(|source| parquet_err(&at, source))?;
        self.check(&location, size, &sha256, Some(rows))?;
        Ok((schema, batches))
    }

    /// That a file's `size`, `sha256` and (when known) `rows` are the ones
    /// recorded; the error names the file and the first difference.
    fn check(&self, location: &Location, size: u64, sha256: &str, rows: Option<u64>) -> Result<()> {
        let problem = if size != self.bytes {
            format!(
                "has {size} bytes where the manifest recorded {}",
                self.bytes
            )
        } else if sha256 != self.sha256 {
            format!(
                "SHA-256 {} is not the {} the manifest recorded",
                short(sha256),
                short(&self.sha256)
            )
        } else if let Some(rows) = rows.filter(|r| *r != self.rows) {
            format!("has {rows} rows where the manifest recorded {}", self.rows)
        } else {
            return Ok(());
        };
        Err(Error::Unverified {
            location: location.to_string(),
            problem,
        })
    }

    /// [`verify`](Self::verify) for every file of `files`, a few at a time.
    pub async fn verify_all<'a>(
        root: &Location,
        files: impl IntoIterator<Item = &'a StoredFile>,
    ) -> Result<()> {
        use futures::{StreamExt, TryStreamExt};
        futures::stream::iter(files)
            .map(|file| file.verify(root))
            .buffer_unordered(8)
            .try_for_each(|_| async { Ok(()) })
            .await
    }
}

/// The first 12 hex digits of a digest, for messages.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

impl WrittenFile {
    /// Writes `bytes` (a small file a run publishes beside its Parquet
    /// parts, such as its report) and records it.
    pub async fn put(location: &Location, bytes: Bytes) -> Result<Self> {
        let written = Self {
            location: location.to_string(),
            rows: 0,
            bytes: bytes.len() as u64,
            sha256: crate::checksum::sha256_hex(&bytes),
        };
        location.put(bytes).await?;
        Ok(written)
    }

    /// This file as recorded under `root` (its path made relative to it).
    pub fn relative_to(self, root: &Location) -> StoredFile {
        let prefix = format!("{root}/");
        StoredFile {
            path: self
                .location
                .strip_prefix(&prefix)
                .unwrap_or(&self.location)
                .to_string(),
            rows: self.rows,
            bytes: self.bytes,
            sha256: self.sha256,
        }
    }
}

/// A Parquet file being written. Call [`finish`](Self::finish) to commit it or
/// [`abort`](Self::abort) to discard it; dropping it discards it too.
pub struct ParquetSink {
    writer: AsyncArrowWriter<HashingUpload>,
    location: Location,
    rows: u64,
}

impl std::fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSink")
            .field("location", &self.location.to_string())
            .field("rows", &self.rows)
            .finish()
    }
}

impl ParquetSink {
    /// Starts writing a Parquet file with `schema` at `location`.
    pub fn create(
        location: &Location,
        schema: SchemaRef,
        options: &ParquetWriteOptions,
    ) -> Result<Self> {
        let upload = HashingUpload {
            writer: BufWriter::with_capacity(
                Arc::clone(location.store()),
                location.path().clone(),
                UPLOAD_PART_SIZE,
            ),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let writer = AsyncArrowWriter::try_new(
            upload,
            Arc::clone(&schema),
            Some(options.writer_properties(&schema)),
        )
        .map_err(|source| parquet_err(location, source))?;
        Ok(Self {
            writer,
            location: location.clone(),
            rows: 0,
        })
    }

    /// Appends a batch. Its schema must equal the sink's.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .await
            .map_err(|source| parquet_err(&self.location, source))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the footer and commits the object; only now does it become visible.
    pub async fn finish(mut self) -> Result<WrittenFile> {
        self.writer
            .finish()
            .await
            .map_err(|source| parquet_err(&self.location, source))?;
        let upload = self.writer.into_inner();
        Ok(WrittenFile {
            location: self.location.to_string(),
            rows: self.rows,
            bytes: upload.bytes,
            sha256: hex(&upload.hasher.finalize()),
        })
    }

    /// Discards the file: nothing becomes visible and uploaded parts are released.
    pub async fn abort(self) -> Result<()> {
        let mut upload = self.writer.into_inner();
        upload
            .writer
            .abort()
            .await
            .map_err(|source| self.location.err(source))
    }
}

/// An [`AsyncFileWriter`] over a multipart `BufWriter` that counts and hashes
/// every byte it passes on.
struct HashingUpload {
    writer: BufWriter,
    hasher: Sha256,
    bytes: u64,
}

impl AsyncFileWriter for HashingUpload {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        self.hasher.update(&bs);
        self.bytes += bs.len() as u64;
        async move {
            self.writer
                .put(bs)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move {
            self.writer.shutdown().await?;
            Ok(())
        }
        .boxed()
    }
}

fn parquet_err(location: &Location, source: ParquetError) -> Error {
    Error::Parquet {
        location: location.to_string(),
        source,
    }
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest
        .iter()
        .fold(String::with_capacity(digest.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
