//! Run folders under an output root and the manifest that publishes one of
//! them: [`Runs`] starts runs, [`ActiveRun::complete`] finishes one (abandon
//! on failure, manifest last on success, then pruning).
//!
//! A run writes everything under `<runs>/<run id>/`, holding a [`Lease`] at
//! `<run id>/_lease.json` from before its first file until its manifest is
//! published. Publishing checks that every file the manifest lists is still
//! there with its recorded size, writes the manifest (replacing the previous
//! one: the last run to publish wins), then releases the lease. Concurrent
//! runs into one root therefore all succeed, and the manifest left at the
//! end lists only files that exist.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use super::claims::Claims;
use super::folder::{MARKER_FILE, Marker};
use super::{LEASE_FILE, prune};
use crate::error::{Error, Result};
use crate::shard::{MERGED_RUNS, Shard};
use crate::storage::{Lease, Location, StoredFile};

/// Environment variable (milliseconds) that delays every publish between
/// its file check and the manifest write: a fault injection for the stress
/// tests, which widen the window a concurrent cleanup could use. Unset in
/// normal use.
pub const FAULT_PUBLISH_DELAY_ENV: &str = "CAUCE_FAULT_PUBLISH_DELAY_MS";

/// A manifest a run publishes: serialisable, listing its files.
pub trait Publish: Serialize {
    /// Every file the manifest lists, with paths relative to the output root.
    fn published_files(&self) -> Vec<&StoredFile>;
}

/// Which runs of an output root: one shard's (shard 0 of 1 is an unsharded
/// run) or the shard merge's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// A run of shard `I` of `N` (`runs/shard-I-of-N/`), or an unsharded run
    /// (`runs/`).
    Shard(Shard),
    /// A merge of shards (`runs/merged/`).
    Merge,
}

impl RunKind {
    /// The folder of these runs, relative to the output root.
    fn folder(self) -> String {
        match self {
            Self::Shard(shard) => shard.runs_folder(),
            Self::Merge => format!("runs/{MERGED_RUNS}"),
        }
    }

    /// The manifest these runs publish, relative to the output root.
    pub fn manifest_name(self) -> String {
        match self {
            Self::Shard(shard) => shard.manifest_name(),
            Self::Merge => Shard::default().manifest_name(),
        }
    }

    /// The manifests whose runs pruning keeps: a shard's own and the merged
    /// one (a rerun shard never deletes the run the published merge reads).
    fn protecting(self) -> Vec<String> {
        let merged = Shard::default().manifest_name();
        match self {
            Self::Shard(shard) if shard.is_sharded() => vec![shard.manifest_name(), merged],
            _ => vec![merged],
        }
    }
}

/// The runs of one kind under an output root.
#[derive(Debug, Clone)]
pub struct Runs {
    output: Location,
    root: Location,
    kind: RunKind,
    keep: usize,
}

/// A run being written: its id, folder, lease and (for a merge) the claims
/// on the shard runs it reads.
#[derive(Debug)]
pub struct ActiveRun {
    id: String,
    root: Location,
    lease: Lease,
    runs: Runs,
    claims: Option<Claims>,
}

impl Runs {
    /// The runs of `kind` under `output`, keeping the newest `keep` finished
    /// ones (at least 1: the current).
    pub fn new(output: &Location, kind: RunKind, keep: usize) -> Result<Self> {
        Ok(Self {
            root: output.join(&kind.folder())?,
            output: output.clone(),
            kind,
            keep,
        })
    }

    /// The folder the runs are in.
    pub fn root(&self) -> &Location {
        &self.root
    }

    /// Where these runs publish their manifest.
    pub fn manifest(&self) -> Result<Location> {
        self.output.join(&self.kind.manifest_name())
    }

    /// Starts a run: a fresh id and folder, with its lease taken and then
    /// its marker written (in that order: a folder with a marker and no
    /// lease is a finished run to pruning).
    pub async fn start(&self) -> Result<ActiveRun> {
        if let Some(link) = self.root.link_below(&self.output) {
            return Err(Error::Unsafe {
                location: format!("runs folder {}", self.root),
                message: format!(
                    "{link} is a symbolic link; runs are written only inside the output root"
                ),
            });
        }
        let id = crate::ids::new_run_id();
        let root = self.root.join(&id)?;
        let lease = Lease::acquire(root.join(LEASE_FILE)?).await?;
        if let Err(e) = root.join(MARKER_FILE)?.create_json(&Marker::new(&id)).await {
            lease.stop().await;
            return Err(e);
        }
        Ok(ActiveRun {
            id,
            root,
            lease,
            runs: self.clone(),
            claims: None,
        })
    }

    /// Starts a merge's run holding `claims` on the shard runs it reads;
    /// they are released once the merged manifest is published.
    pub async fn start_merge(&self, claims: Claims) -> Result<ActiveRun> {
        match self.start().await {
            Ok(mut run) => {
                run.claims = Some(claims);
                Ok(run)
            }
            Err(e) => {
                claims.release().await;
                Err(e)
            }
        }
    }

    /// Deletes old and dead runs (see [`prune`](super::prune)). Failures
    /// are logged, not returned: pruning is housekeeping after a
    /// successful run and must not fail it.
    pub async fn prune(&self) {
        let manifests: Vec<Location> = self
            .kind
            .protecting()
            .iter()
            .filter_map(|name| self.output.join(name).ok())
            .collect();
        let skip_shard_folders = self.kind == RunKind::Shard(Shard::default());
        if let Err(e) = prune::prune(
            &self.output,
            &self.root,
            self.keep,
            &manifests,
            skip_shard_folders,
        )
        .await
        {
            log::warn!("pruning {}: {e}", self.root);
        }
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

    /// Finishes the run with the outcome of `work` (the stage's writing into
    /// [`root`](Self::root), ending with the manifest to publish): on error
    /// the run is abandoned and the error returned; otherwise the manifest
    /// is published ([`publish`](Self::publish)) and old runs pruned.
    pub async fn complete<M, E>(
        self,
        work: impl Future<Output = std::result::Result<M, E>>,
    ) -> std::result::Result<M, E>
    where
        M: Publish,
        E: From<Error>,
    {
        let manifest = match work.await {
            Ok(manifest) => manifest,
            Err(e) => {
                self.abandon().await;
                return Err(e);
            }
        };
        let runs = self.runs.clone();
        self.publish(&manifest).await?;
        runs.prune().await;
        Ok(manifest)
    }

    /// Publishes the run: checks that every file `manifest` lists exists
    /// with its recorded size, writes the manifest, then releases the lease
    /// and claims. On error nothing is published and the run's folder is
    /// deleted.
    pub async fn publish<M: Publish>(self, manifest: &M) -> Result<()> {
        let location = match self.runs.manifest() {
            Ok(location) => location,
            Err(e) => {
                self.abandon().await;
                return Err(e);
            }
        };
        let published = async {
            for file in manifest.published_files() {
                check(&self.runs.output, file, &location).await?;
            }
            fault_delay().await;
            location.write_json(manifest).await
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
        if let Some(claims) = self.claims {
            claims.release().await;
        }
        Ok(())
    }

    /// Gives the run up: stops renewing, deletes its folder, releases its
    /// claims.
    pub async fn abandon(self) {
        self.lease.stop().await;
        if let Err(e) = super::folder::delete(&self.root).await {
            log::warn!("cleanup of {}: {e}", self.root);
        }
        if let Some(claims) = self.claims {
            claims.release().await;
        }
    }
}

/// Sleeps for [`FAULT_PUBLISH_DELAY_ENV`] milliseconds, when set.
async fn fault_delay() {
    let ms = std::env::var(FAULT_PUBLISH_DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if ms > 0 {
        log::warn!("{FAULT_PUBLISH_DELAY_ENV}: waiting {ms} ms before publishing");
        tokio::time::sleep(Duration::from_millis(ms)).await;
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Serialize)]
    struct Named {
        run_id: String,
        files: Vec<StoredFile>,
    }

    impl Publish for Named {
        fn published_files(&self) -> Vec<&StoredFile> {
            self.files.iter().collect()
        }
    }

    /// Issue 28.11 (a README claim without a test): a run killed mid-way is
    /// removed by the next prune once its lease has expired, and not before.
    #[tokio::test]
    async fn a_killed_run_is_removed_once_its_lease_expires() {
        let tmp = tempfile::tempdir().unwrap();
        let output = Location::parse(tmp.path().to_str().unwrap()).unwrap();
        let runs = Runs::new(&output, RunKind::Shard(Shard::default()), 5).unwrap();
        let killed = runs.start().await.unwrap();
        let lease = tmp.path().join("runs").join(killed.id()).join(LEASE_FILE);
        killed
            .root()
            .join("train/part-00000.parquet")
            .unwrap()
            .put(&b"half"[..])
            .await
            .unwrap();
        // kill -9: nothing is released, the lease stays and stops renewing.
        drop(killed);
        let publish = || async {
            let run = runs.start().await.unwrap();
            let id = run.id().to_string();
            run.complete(async {
                Ok::<_, Error>(Named {
                    run_id: id,
                    files: vec![],
                })
            })
            .await
            .unwrap();
        };
        publish().await;
        assert!(lease.exists(), "a fresh lease: maybe a slow writer, kept");
        let expired = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&lease)
            .unwrap()
            .set_modified(expired)
            .unwrap();
        publish().await;
        assert!(!lease.parent().unwrap().exists(), "the dead run is gone");
    }
}
