//! Whole-object operations on a [`Location`]: get, put, create-if-absent,
//! head, delete, list, and the raw byte stream.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{ObjectMeta, ObjectStoreExt, PutMode, PutOptions, PutPayload, PutResult};

use super::Location;
use crate::error::{Error, Result};

/// A stream of byte chunks read from storage.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

impl Location {
    /// Reads the whole object.
    pub async fn get(&self) -> Result<Bytes> {
        let result = self
            .store()
            .get(self.path())
            .await
            .map_err(|e| self.err(e))?;
        result.bytes().await.map_err(|e| self.err(e))
    }

    /// Reads `range` (byte offsets, end exclusive) of the object.
    pub async fn get_range(&self, range: std::ops::Range<u64>) -> Result<Bytes> {
        self.store()
            .get_range(self.path(), range)
            .await
            .map_err(|e| self.err(e))
    }

    /// Streams the object's bytes in chunks as they arrive.
    pub async fn get_stream(&self) -> Result<ByteStream> {
        let result = self
            .store()
            .get(self.path())
            .await
            .map_err(|e| self.err(e))?;
        let location = self.to_string();
        Ok(result
            .into_stream()
            .map_err(move |e| Error::from_store(location.clone(), e))
            .boxed())
    }

    /// Size, last-modified time and ETag of the object.
    pub async fn head(&self) -> Result<ObjectMeta> {
        self.store()
            .head(self.path())
            .await
            .map_err(|e| self.err(e))
    }

    /// What is wrong with the object if it is not there with `expected`
    /// bytes (`None`: it is): "is gone", or "has N bytes, not the M
    /// {done}". For checking files before a manifest or card names them.
    pub async fn size_problem(&self, expected: u64, done: &str) -> Result<Option<String>> {
        match self.head().await {
            Ok(meta) if meta.size == expected => Ok(None),
            Ok(meta) => Ok(Some(format!(
                "has {} bytes, not the {expected} {done}",
                meta.size
            ))),
            Err(Error::NotFound { .. }) => Ok(Some("is gone".to_string())),
            Err(e) => Err(e),
        }
    }

    /// Whether the object exists.
    pub async fn exists(&self) -> Result<bool> {
        match self.head().await {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes the object, replacing any previous content. Readers see either
    /// the old or the new content, never a mix.
    pub async fn put(&self, bytes: impl Into<Bytes>) -> Result<PutResult> {
        self.store()
            .put(self.path(), PutPayload::from_bytes(bytes.into()))
            .await
            .map_err(|e| self.write_err(e))
    }

    /// Writes the object only if it does not exist yet (`PutMode::Create`);
    /// otherwise fails with [`Error::AlreadyExists`] and leaves it untouched.
    /// Of several concurrent callers exactly one succeeds, on every backend.
    pub async fn put_if_absent(&self, bytes: impl Into<Bytes>) -> Result<PutResult> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.store()
            .put_opts(self.path(), PutPayload::from_bytes(bytes.into()), options)
            .await
            .map_err(|e| self.write_err(e))
    }

    /// Deletes the object. Deleting an object that does not exist succeeds, as on S3.
    pub async fn delete(&self) -> Result<()> {
        match self.store().delete(self.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every object below this location (recursively), sorted by path.
    /// A prefix with nothing under it gives an empty list, not an error.
    pub async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let listed: Result<Vec<ObjectMeta>, _> =
            self.store().list(Some(self.path())).try_collect().await;
        let mut objects = match listed {
            Ok(objects) => objects,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(self.err(e)),
        };
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }

    /// Deletes every object below this location (a whole "folder"); returns
    /// how many. On local disk the folders it emptied (this one included)
    /// and staging files of interrupted writes inside go too, and nothing
    /// above this location.
    pub async fn delete_all(&self) -> Result<usize> {
        let objects = self.list().await?;
        for object in &objects {
            self.child_for(&object.location).delete().await?;
        }
        self.remove_local_leftovers().await?;
        Ok(objects.len())
    }

    /// The immediate children of this location: sub-prefix names ("folders")
    /// and the objects directly inside it, both sorted.
    pub async fn list_children(&self) -> Result<(Vec<String>, Vec<ObjectMeta>)> {
        let listed = match self.store().list_with_delimiter(Some(self.path())).await {
            Ok(listed) => listed,
            Err(object_store::Error::NotFound { .. }) => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(self.err(e)),
        };
        let mut folders: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        folders.sort();
        let mut objects = listed.objects;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok((folders, objects))
    }

    /// Wraps an object_store error of a write: on S3, "not found" for a
    /// write means the bucket does not exist.
    pub(crate) fn write_err(&self, source: object_store::Error) -> Error {
        match (&source, self.scheme()) {
            (object_store::Error::NotFound { .. }, super::Scheme::S3) => Error::NoSuchBucket {
                location: self.to_string(),
                bucket: self
                    .to_string()
                    .strip_prefix("s3://")
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or_default()
                    .to_string(),
            },
            _ => self.err(source),
        }
    }

    /// Wraps an object_store error with this location.
    pub(crate) fn err(&self, source: object_store::Error) -> Error {
        Error::from_store(self.to_string(), source)
    }
}
