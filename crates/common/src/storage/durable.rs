//! Local writes that are on disk when they return. object_store 0.13's
//! `LocalFileSystem` (the release DataFusion 55 is built on) writes a file
//! to a staging name and renames it into place, but never fsyncs: after a
//! power cut a file whose write had returned could be missing or short.
//! [`Durable`] wraps it and, before a write returns, syncs the file's
//! contents and every folder entry the write created or changed (the
//! file's folder, and each folder the write had to create up to the first
//! that already existed). So a manifest written after its data files never
//! survives a power cut that they do not. Reads, lists and deletes are the
//! inner store's.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result, UploadPart,
};

/// A local file system store whose writes are durable when they return.
#[derive(Debug)]
pub struct Durable {
    inner: Arc<LocalFileSystem>,
}

impl Durable {
    /// Wraps `inner`.
    pub fn new(inner: LocalFileSystem) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl std::fmt::Display for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Durable({})", self.inner)
    }
}

/// The folders a write to `file` may create or change: its own folder and
/// every missing one above it, up to the first that exists (included).
fn folders_to_sync(file: &std::path::Path) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    let mut at = file.parent();
    while let Some(folder) = at {
        folders.push(folder.to_path_buf());
        if folder.exists() {
            break;
        }
        at = folder.parent();
    }
    folders
}

/// Syncs `file`'s contents, then the folders (deepest first, so each entry
/// is on disk before the entry that names its folder).
fn sync(file: &std::path::Path, folders: &[PathBuf]) -> Result<()> {
    let failed = |path: &std::path::Path, source: std::io::Error| object_store::Error::Generic {
        store: "LocalFileSystem",
        source: format!("fsync {}: {source}", path.display()).into(),
    };
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(file, e))?;
    for folder in folders {
        std::fs::File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed(folder, e))?;
    }
    Ok(())
}

/// Runs the blocking syncs off the async runtime's threads.
async fn sync_blocking(file: PathBuf, folders: Vec<PathBuf>) -> Result<()> {
    tokio::task::spawn_blocking(move || sync(&file, &folders))
        .await
        .map_err(|e| object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(e),
        })?
}

#[async_trait]
impl ObjectStore for Durable {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let file = self.inner.path_to_filesystem(location)?;
        let folders = folders_to_sync(&file);
        let result = self.inner.put_opts(location, payload, opts).await?;
        sync_blocking(file, folders).await?;
        Ok(result)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let file = self.inner.path_to_filesystem(location)?;
        let folders = folders_to_sync(&file);
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(DurableUpload {
            inner,
            file,
            folders,
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        let file = self.inner.path_to_filesystem(to)?;
        let folders = folders_to_sync(&file);
        self.inner.copy_opts(from, to, options).await?;
        sync_blocking(file, folders).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        let file = self.inner.path_to_filesystem(to)?;
        let mut folders = folders_to_sync(&file);
        if let Some(source_folder) = self.inner.path_to_filesystem(from)?.parent() {
            folders.push(source_folder.to_path_buf());
        }
        self.inner.rename_opts(from, to, options).await?;
        sync_blocking(file, folders).await
    }
}

/// A multipart write that syncs the file and its folders on completion.
#[derive(Debug)]
struct DurableUpload {
    inner: Box<dyn MultipartUpload>,
    file: PathBuf,
    folders: Vec<PathBuf>,
}

#[async_trait]
impl MultipartUpload for DurableUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        let result = self.inner.complete().await?;
        sync_blocking(self.file.clone(), self.folders.clone()).await?;
        Ok(result)
    }

    async fn abort(&mut self) -> Result<()> {
        self.inner.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folders_synced_are_the_files_own_and_every_new_one_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a/b/c.parquet");
        assert_eq!(
            folders_to_sync(&file),
            [
                tmp.path().join("a/b"),
                tmp.path().join("a"),
                tmp.path().to_path_buf()
            ]
        );
        std::fs::create_dir_all(tmp.path().join("a/b")).unwrap();
        assert_eq!(folders_to_sync(&file), [tmp.path().join("a/b")]);
    }

    #[tokio::test]
    async fn writes_and_renames_land_where_the_inner_store_puts_them() {
        use object_store::ObjectStoreExt;
        let tmp = tempfile::tempdir().unwrap();
        let store = Durable::new(LocalFileSystem::new_with_prefix(tmp.path()).unwrap());
        store.put(&Path::from("x/y/one"), "1".into()).await.unwrap();
        let mut upload = store.put_multipart(&Path::from("x/z/two")).await.unwrap();
        upload.put_part("2".into()).await.unwrap();
        upload.complete().await.unwrap();
        store
            .rename(&Path::from("x/y/one"), &Path::from("w/one"))
            .await
            .unwrap();
        assert_eq!(std::fs::read(tmp.path().join("w/one")).unwrap(), b"1");
        assert_eq!(std::fs::read(tmp.path().join("x/z/two")).unwrap(), b"2");
        assert!(!tmp.path().join("x/y/one").exists());
    }
}
