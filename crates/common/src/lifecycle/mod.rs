//! The run lifecycle every writing stage (etl, inference, and their shard
//! merges) goes through, so that the safety rules live in one place:
//!
//! 1. **Start** ([`Runs::start`]): a fresh run folder under the output's
//!    `runs/`, a [`Lease`](crate::storage::Lease) taken first, then the run
//!    marker (`_run.json`), the proof that Cauce created the folder.
//! 2. **Work**: the stage writes its files into the run folder.
//! 3. **Complete** ([`ActiveRun::complete`]): if the work failed, the run
//!    folder is deleted and the previous manifest stays; otherwise every
//!    file the manifest lists is checked (still there, recorded size), the
//!    manifest is written last, the lease (and a merge's claims) released.
//! 4. **Prune**: old runs beyond `keep_runs` and runs of killed writers go.
//!    Pruning deletes only folders that carry Cauce's marker or lease,
//!    never through a symbolic link, never a run a live writer or a merge
//!    in progress holds, never a run any published manifest names.
//!
//! A merge pins the shard runs it reads with [`Claims`] before reading them:
//! a shard rerun that prunes concurrently either sees the claim and keeps
//! the run, or has already marked it for deletion and the merge refuses
//! (and is retried) instead of publishing a manifest over deleted files.
//!
//! [`check_output`] refuses output roots that would overwrite or re-read
//! their own inputs, the registry, `/` or the home folder.

mod claims;
mod folder;
mod prune;
mod roots;
mod runs;

pub use claims::{Claims, pin_published};
pub use folder::{CLAIMS_DIR, MARKER_FILE, TOMBSTONE_FILE};
pub use roots::{Guarded, check_output};
pub use runs::{ActiveRun, FAULT_PUBLISH_DELAY_ENV, Publish, RunKind, Runs};

/// The lease file inside a run folder.
pub const LEASE_FILE: &str = "_lease.json";
