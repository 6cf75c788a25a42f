//! Local-disk housekeeping that object_store leaves to us, kept inside the
//! location it is called on.
//!
//! object_store's local store can delete a file's empty parent folders, but
//! it climbs up to the file system root: a failed run under
//! `project/outputs/preds` removed `project/` itself when nothing else was in
//! it. That is turned off ([`Location::parse`] builds the store without it),
//! and [`Location::delete_all`] removes the folders it emptied itself, never
//! above the location it was called on.
//!
//! A write killed mid-way leaves its staging file (`name#N`, which
//! object_store renames into place on success and never lists). Deleting a
//! folder removes those inside it; [`Location::remove_stale_staging`] finds
//! the ones older than a given age anywhere below a location.

use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Location, Scheme};
use crate::error::{Error, Result};

impl Location {
    /// The folder or file this location is on local disk (`None` elsewhere).
    pub(crate) fn local_path(&self) -> Option<PathBuf> {
        (self.scheme() == Scheme::Local).then(|| PathBuf::from(format!("/{}", self.path())))
    }

    /// On local disk: deletes the staging files of interrupted writes below
    /// this location that are older than `age`, and returns how many. Other
    /// backends have none to find (an interrupted S3 upload is invisible and
    /// expires by the bucket's lifecycle rules).
    pub async fn remove_stale_staging(&self, age: Duration) -> Result<usize> {
        self.with_staging(0, move |removed, path, found| {
            if found.is_some_and(|a| a >= age) && std::fs::remove_file(path).is_ok() {
                *removed += 1;
            }
        })
        .await
    }

    /// On local disk: whether a staging file younger than `age` is anywhere
    /// below this location, i.e. a writer is putting a file there right
    /// now (before its rename, the folder may hold nothing else: a run that
    /// is starting shows as a folder with no lease yet). Never on other
    /// backends, where an object appears whole or not at all.
    pub async fn has_fresh_staging(&self, age: Duration) -> Result<bool> {
        self.with_staging(false, move |fresh, _, found| {
            *fresh |= found.is_none_or(|a| a < age);
        })
        .await
    }

    /// Calls `visit` on a blocking thread with `state`, each staging file
    /// below this location and its age (`None`: unknown or in the future);
    /// returns the state. Nothing to visit on other backends.
    async fn with_staging<T: Send + 'static>(
        &self,
        mut state: T,
        mut visit: impl FnMut(&mut T, &FsPath, Option<Duration>) + Send + 'static,
    ) -> Result<T> {
        let Some(dir) = self.local_path() else {
            return Ok(state);
        };
        let location = self.to_string();
        tokio::task::spawn_blocking(move || {
            walk(&dir, &mut |path, meta| {
                if is_staging(path) {
                    let age = meta
                        .modified()
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    visit(&mut state, path, age);
                }
            })
            .map_err(|source| Error::Io {
                location: location.clone(),
                source,
            })?;
            Ok(state)
        })
        .await
        .map_err(|e| Error::Io {
            location: self.to_string(),
            source: std::io::Error::other(e),
        })?
    }

    /// On local disk, after the objects below were deleted: removes staging
    /// files left below and every folder that is now empty, this location's
    /// own included, and nothing above it.
    pub(crate) async fn remove_local_leftovers(&self) -> Result<()> {
        let Some(dir) = self.local_path() else {
            return Ok(());
        };
        let location = self.to_string();
        tokio::task::spawn_blocking(move || prune_dirs(&dir))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|source| Error::Io { location, source })
    }
}

/// `name#123`: object_store's staging file for `name`.
fn is_staging(path: &FsPath) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('#'))
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The entries of `dir`; `None` when it is missing or not a folder.
fn entries(dir: &FsPath) -> std::io::Result<Option<std::fs::ReadDir>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(Some(entries)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Calls `visit` on every file below `dir` (not following links).
fn walk(dir: &FsPath, visit: &mut dyn FnMut(&FsPath, &std::fs::Metadata)) -> std::io::Result<()> {
    let Some(entries) = entries(dir)? else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(&entry.path(), visit)?;
        } else if meta.is_file() {
            visit(&entry.path(), &meta);
        }
    }
    Ok(())
}

/// Removes staging files below `dir`, then empty folders bottom-up, `dir`
/// included; a folder that still holds something stays.
fn prune_dirs(dir: &FsPath) -> std::io::Result<()> {
    let Some(entries) = entries(dir)? else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            prune_dirs(&entry.path())?;
        } else if kind.is_file() && is_staging(&entry.path()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        // Not empty (something else lives here), or already gone.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::NotFound
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names() {
        assert!(is_staging(FsPath::new("/a/model.bin#1")));
        assert!(is_staging(FsPath::new("/a/part-00000.parquet#12")));
        assert!(!is_staging(FsPath::new("/a/model.bin")));
        assert!(!is_staging(FsPath::new("/a/notes#draft")));
        assert!(!is_staging(FsPath::new("/a/x#")));
    }

    /// Regression (issue 12.4): deleting a run folder removed the empty
    /// folders above the output root too.
    #[tokio::test]
    async fn delete_all_never_removes_folders_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let outputs = tmp.path().join("a/project/outputs");
        std::fs::create_dir_all(&outputs).unwrap();
        let root = Location::parse(outputs.to_str().unwrap()).unwrap();
        let run = root.join("preds/runs/r1").unwrap();
        run.join("part-00000.parquet")
            .unwrap()
            .put(&b"x"[..])
            .await
            .unwrap();
        std::fs::write(outputs.join("preds/runs/r1/part-00001.parquet#3"), b"half").unwrap();
        run.delete_all().await.unwrap();
        assert!(
            !outputs.join("preds/runs/r1").exists(),
            "the run folder goes, staging file too"
        );
        assert!(outputs.join("preds/runs").exists(), "its parent stays");
        root.join("preds/runs").unwrap().delete_all().await.unwrap();
        assert!(!outputs.join("preds/runs").exists());
        assert!(outputs.join("preds").exists() && outputs.exists());
        assert!(tmp.path().join("a/project").exists());
        // A single object's delete leaves its folders alone.
        let one = root.join("x/y/z.json").unwrap();
        one.put(&b"{}"[..]).await.unwrap();
        one.delete().await.unwrap();
        assert!(outputs.join("x/y").exists());
    }

    #[tokio::test]
    async fn fresh_staging_files_show_a_writer_at_work() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Location::parse(tmp.path().to_str().unwrap()).unwrap();
        let run = root.join("runs/r1").unwrap();
        assert!(
            !run.has_fresh_staging(Duration::from_secs(60))
                .await
                .unwrap()
        );
        std::fs::create_dir_all(tmp.path().join("runs/r1")).unwrap();
        std::fs::write(tmp.path().join("runs/r1/_lease.json#4"), b"{").unwrap();
        assert!(
            run.has_fresh_staging(Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert!(!run.has_fresh_staging(Duration::ZERO).await.unwrap());
    }

    #[tokio::test]
    async fn stale_staging_files_are_found_by_age() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("v1")).unwrap();
        std::fs::write(tmp.path().join("v1/model.bin#1"), b"half").unwrap();
        std::fs::write(tmp.path().join("v1/model.bin"), b"whole").unwrap();
        let root = Location::parse(tmp.path().to_str().unwrap()).unwrap();
        assert_eq!(
            root.remove_stale_staging(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(root.remove_stale_staging(Duration::ZERO).await.unwrap(), 1);
        assert!(tmp.path().join("v1/model.bin").exists());
        assert!(!tmp.path().join("v1/model.bin#1").exists());
    }
}
