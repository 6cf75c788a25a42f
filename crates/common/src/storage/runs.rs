//! Run folders and the manifest that publishes one of them: how `etl` and
//! `inference` write into an output root that other runs, readers and
//! cleanups share.
//!
//! A run writes everything under `<runs>/<run id>/`, holding a [`Lease`] at
//! `<run id>/_lease.json` from before its first file until its manifest is
//! published. Publishing checks that every file the manifest lists is still
//! there with its recorded size, writes the manifest (replacing the previous
//! one: the last run to publish wins), then releases the lease. Pruning keeps
//! the folder the current manifest names, every run whose lease is live (in
//! progress, whatever its age) and the newest finished runs up to the keep
//! count; it deletes older finished runs and runs whose lease went stale (a
//! killed writer). The current manifest is read after the leases are
//! looked at, so a run that published in between is seen as current.
//! Concurrent runs into one root therefore all succeed, and the manifest left
//! at the end lists only files that exist.

use serde::{Deserialize, Serialize};

use super::lease::{Lease, lease_is_live, lease_timeout};
use super::{Location, StoredFile};
use crate::error::{Error, Result};

/// The lease file inside a run folder.
pub const LEASE_FILE: &str = "_lease.json";

/// The run folders below one location (`<output>/runs`).
#[derive(Debug, Clone)]
pub struct Runs {
    root: Location,
}

/// A run being written: its id, folder and lease.
#[derive(Debug)]
pub struct ActiveRun {
    id: String,
    root: Location,
    lease: Lease,
}

/// What a run folder is, as pruning sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Its lease is fresh: a writer is filling it.
    Live,
    /// Its lease went stale: the writer died.
    Dead,
    /// No lease: published (or being deleted).
    Finished,
}

/// What pruning reads from a manifest: the runs it names.
#[derive(Debug, Deserialize)]
struct Names {
    run_id: String,
    #[serde(default)]
    shards: Option<crate::shard::Merged>,
}

impl Runs {
    /// The run folders directly below `root`.
    pub fn new(root: Location) -> Self {
        Self { root }
    }

    /// Starts a run: a fresh id and folder, with its lease taken.
    pub async fn start(&self) -> Result<ActiveRun> {
        let id = crate::ids::new_run_id();
        let root = self.root.join(&id)?;
        let lease = Lease::acquire(root.join(LEASE_FILE)?).await?;
        Ok(ActiveRun { id, root, lease })
    }

    /// Deletes finished runs beyond the newest `keep` (the one the first of
    /// `manifests` names first, then the newest others) and dead runs,
    /// never a live run nor one any of `manifests` names (its `run_id`, or
    /// the shard runs a merged manifest lists); folders `skip` rejects are
    /// not runs and are left alone. A shard passes its own manifest and the
    /// merged one, so a rerun shard never deletes the run the published
    /// merge still reads. Failures are logged, not returned: pruning is
    /// housekeeping after a successful run and must not fail it.
    pub async fn prune(&self, keep: usize, manifests: &[&Location], skip: impl Fn(&str) -> bool) {
        if let Err(e) = self.try_prune(keep, manifests, skip).await {
            log::warn!("pruning {}: {e}", self.root);
        }
    }

    async fn try_prune(
        &self,
        keep: usize,
        manifests: &[&Location],
        skip: impl Fn(&str) -> bool,
    ) -> Result<()> {
        // Staging files of writes killed mid-way (local disk), once no live
        // writer can still be renaming them into place.
        let staging = self.root.remove_stale_staging(lease_timeout()).await?;
        if staging > 0 {
            log::info!(
                "removed {staging} staging file(s) of interrupted writes under {}",
                self.root
            );
        }
        let (folders, _) = self.root.list_children().await?;
        let mut runs = Vec::new();
        for name in folders.into_iter().filter(|f| !skip(f)) {
            let folder = self.root.join(&name)?;
            let mut state = match folder.join(LEASE_FILE)?.head().await {
                Ok(meta) if lease_is_live(&meta) => State::Live,
                Ok(_) => State::Dead,
                Err(Error::NotFound { .. }) => State::Finished,
                Err(e) => return Err(e),
            };
            // On local disk a starting run's folder exists before its lease
            // is renamed into place (found by make stress: such a run was
            // taken for a finished one and pruned). A file being written
            // there means a writer at work.
            if state != State::Live && folder.has_fresh_staging(lease_timeout()).await? {
                state = State::Live;
            }
            runs.push((name, state));
        }
        // Read last: a run that published while the leases were looked at
        // is current by now (or superseded by a newer one).
        let mut current = None;
        let mut named = Vec::new();
        for (i, manifest) in manifests.iter().enumerate() {
            let names = match manifest.read_json::<Names>().await {
                Ok(names) => names,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            if i == 0 {
                current = Some(names.run_id.clone());
            }
            named.extend(
                names
                    .shards
                    .iter()
                    .flat_map(|m| m.run_ids())
                    .map(str::to_string),
            );
            named.push(names.run_id);
        }
        let is_current = |name: &str| named.iter().any(|n| n == name);
        // The current run counts towards `keep`; the others kept are the
        // newest finished ones.
        let mut finished: Vec<&str> = runs
            .iter()
            .filter(|(name, state)| *state == State::Finished && !is_current(name))
            .map(|(name, _)| name.as_str())
            .collect();
        finished.sort_unstable();
        let keep_others = keep.max(1) - usize::from(current.is_some());
        let excess = finished.len().saturating_sub(keep_others);
        let old = finished.into_iter().take(excess);
        let dead = runs
            .iter()
            .filter(|(_, state)| *state == State::Dead)
            .map(|(name, _)| name.as_str());
        for name in old.chain(dead).filter(|name| !is_current(name)) {
            let folder = self.root.join(name)?;
            log::info!("removing old run {folder}");
            if let Err(e) = folder.delete_all().await {
                log::warn!("cleanup of {folder}: {e}");
            }
        }
        Ok(())
    }
}

impl ActiveRun {
    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The run's folder.
    pub fn root(&self) -> &Location {
        &self.root
    }

    /// Publishes the run: checks that every file in `files` (paths relative
    /// to `output`) exists with its recorded size, writes `value` to
    /// `manifest`, then releases the lease. On error nothing is published
    /// and the run's folder is deleted.
    pub async fn publish<T: Serialize>(
        self,
        output: &Location,
        files: &[&StoredFile],
        manifest: &Location,
        value: &T,
    ) -> Result<()> {
        let published = async {
            for file in files {
                check(output, file, manifest).await?;
            }
            manifest.write_json(value).await
        }
        .await;
        if let Err(e) = published {
            self.abandon().await;
            return Err(e);
        }
        if let Err(e) = self.lease.release().await {
            // Harmless: a stale lease on a published run only makes pruning
            // treat it as dead, and the current run is never pruned.
            log::warn!("releasing the lease of run {}: {e}", self.id);
        }
        Ok(())
    }

    /// Gives the run up: stops renewing and deletes its folder.
    pub async fn abandon(self) {
        self.lease.stop().await;
        if let Err(e) = self.root.delete_all().await {
            log::warn!("cleanup of {}: {e}", self.root);
        }
    }
}

/// Whether `file` (relative to `output`) is there with its recorded size.
async fn check(output: &Location, file: &StoredFile, manifest: &Location) -> Result<()> {
    let location = output.join(&file.path)?;
    let Some(problem) = location.size_problem(file.bytes, "written").await? else {
        return Ok(());
    };
    Err(Error::Unpublishable {
        manifest: manifest.to_string(),
        file: location.to_string(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (found by `make stress`): on local disk a starting run's
    /// folder holds only its lease's staging file for a moment (longer when
    /// fsync is slow); pruning took it for a finished run and removed it,
    /// and the run later failed to publish files that were gone.
    #[tokio::test]
    async fn a_run_whose_lease_is_being_written_is_not_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Location::parse(tmp.path().to_str().unwrap()).unwrap();
        let runs = Runs::new(root.join("runs").unwrap());
        // Named to sort first: the oldest, the first pruning would take.
        let starting = tmp.path().join("runs/00000000T000000000Z-aaaaaa");
        std::fs::create_dir_all(&starting).unwrap();
        std::fs::write(starting.join("_lease.json#7"), b"{").unwrap();
        let run = runs.start().await.unwrap();
        let manifest = root.join("_manifest.json").unwrap();
        #[derive(Serialize)]
        struct Names<'a> {
            run_id: &'a str,
        }
        let id = run.id().to_string();
        run.publish(&root, &[], &manifest, &Names { run_id: &id })
            .await
            .unwrap();
        runs.prune(1, &[&manifest], |_| false).await;
        assert!(
            starting.join("_lease.json#7").exists(),
            "the starting run stays"
        );
    }
}
