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

    /// On local disk: deletes the staging files older than `age` directly in
    /// this folder (not below it) whose target name `ours` accepts, and
    /// returns how many. Cleanups use this instead of
    /// [`remove_stale_staging`](Self::remove_stale_staging) where the folder
    /// is shared with files Cauce did not write: a user's `notes#42` is not a
    /// staging file of ours, whatever its name looks like.
    pub async fn remove_stale_staging_of(
        &self,
        age: Duration,
        ours: impl Fn(&str) -> bool + Send + 'static,
    ) -> Result<usize> {
        let Some(dir) = self.local_path() else {
            return Ok(0);
        };
        let location = self.to_string();
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            let Some(entries) = entries(&dir)? else {
                return Ok(0);
            };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                let Some(target) = staging_target(&path) else {
                    continue;
                };
                // `file_type` does not follow links: a link is never ours.
                if !entry.file_type()?.is_file() || !ours(target) {
                    continue;
                }
                let old = entry
                    .metadata()?
                    .modified()
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|a| a >= age);
                if old && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|source| Error::Io { location, source })
    }

    /// On local disk: the first folder or file from `ancestor` (excluded)
    /// down to this location (included) that is a symbolic link, as a path
    /// for messages. Cleanups refuse to work through one: object_store's
    /// local listing follows links, so a link under `runs/` would let a
    /// prune delete files outside the output root. `None` elsewhere, and
    /// when this location is not below `ancestor`.
    pub fn link_below(&self, ancestor: &Location) -> Option<String> {
        let (mine, base) = (self.local_path()?, ancestor.local_path()?);
        let rest = mine.strip_prefix(&base).ok()?;
        let mut at = base;
        for part in rest.components() {
            at.push(part);
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                return Some(at.display().to_string());
            }
        }
        None
    }

    /// On local disk: deletes everything below this folder without following
    /// links (a link is removed, never what it points to), `last` after the
    /// rest, then the folder; the folders above stay. Returns whether it was
    /// local (other backends have no links: use [`Location::delete_all`]).
    pub(crate) async fn delete_tree_local(&self, last: &'static str) -> Result<bool> {
        let Some(dir) = self.local_path() else {
            return Ok(false);
        };
        let location = self.to_string();
        tokio::task::spawn_blocking(move || remove_tree(&dir, Some(last)))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|source| Error::Io { location, source })?;
        Ok(true)
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
    staging_target(path).is_some()
}

/// The file a staging file `name#123` is for (`name`), if it is one.
fn staging_target(path: &FsPath) -> Option<&str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('#'))
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map(|(name, _)| name)
}

/// Removes `dir` and everything below it, never following a link; a file
/// named `last` directly inside `dir` goes after everything else, so a
/// removal cut short leaves it (what proves the folder is ours) behind.
fn remove_tree(dir: &FsPath, last: Option<&str>) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        // A file or a link (to a folder or not): the entry itself goes.
        return ignore_missing(std::fs::remove_file(dir));
    }
    let mut kept = None;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if last.is_some_and(|l| entry.file_name() == l) {
            kept = Some(path);
        } else if entry.file_type()?.is_dir() {
            remove_tree(&path, None)?;
        } else {
            ignore_missing(std::fs::remove_file(&path))?;
        }
    }
    if let Some(path) = kept {
        ignore_missing(std::fs::remove_file(path))?;
    }
    ignore_missing(std::fs::remove_dir(dir))
}

/// `result`, with "it was already gone" counted as done.
fn ignore_missing(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
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

    /// Regression (issue 27.1): a link inside a folder being deleted is
    /// removed, never followed.
    #[tokio::test]
    async fn deleting_a_tree_never_follows_links() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("precious.txt"), b"keep").unwrap();
        let run = tmp.path().join("out/runs/r1");
        std::fs::create_dir_all(run.join("train")).unwrap();
        std::fs::write(run.join("train/part-00000.parquet"), b"x").unwrap();
        std::fs::write(run.join("_run.json"), b"{}").unwrap();
        std::os::unix::fs::symlink(&victim, run.join("train/link")).unwrap();
        std::os::unix::fs::symlink(&victim, run.join("link")).unwrap();
        let loc = Location::parse(run.to_str().unwrap()).unwrap();
        assert!(loc.delete_tree_local("_run.json").await.unwrap());
        assert!(!run.exists());
        assert!(victim.join("precious.txt").exists(), "the victim stays");
        assert!(tmp.path().join("out/runs").exists());
        let out = Location::parse(tmp.path().join("out").to_str().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, tmp.path().join("out/runs/r2")).unwrap();
        let linked = out.join("runs/r2/sub").unwrap();
        assert_eq!(
            linked.link_below(&out).as_deref(),
            tmp.path().join("out/runs/r2").to_str()
        );
        assert_eq!(out.join("runs").unwrap().link_below(&out), None);
    }

    /// Regression (issue 27.4): only staging files of names Cauce writes
    /// are cleaned, and only in the folder given.
    #[tokio::test]
    async fn stale_staging_of_our_names_only() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("notes")).unwrap();
        std::fs::write(tmp.path().join("notes/issue#42"), b"mine").unwrap();
        std::fs::write(tmp.path().join("issue#42"), b"mine").unwrap();
        std::fs::write(tmp.path().join("_manifest.json#3"), b"half").unwrap();
        let root = Location::parse(tmp.path().to_str().unwrap()).unwrap();
        let removed = root
            .remove_stale_staging_of(Duration::ZERO, |n| n.starts_with("_manifest"))
            .await
            .unwrap();
        assert_eq!(removed, 1);
        assert!(tmp.path().join("issue#42").exists());
        assert!(tmp.path().join("notes/issue#42").exists());
        assert!(!tmp.path().join("_manifest.json#3").exists());
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
