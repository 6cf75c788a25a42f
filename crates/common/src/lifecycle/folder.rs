//! One run folder as the lifecycle sees it: the marker that proves Cauce
//! created it, its state (a writer at work, a killed writer, finished), the
//! tombstone a pruner puts down before deleting it, and the deletion itself
//! (marker last, links never followed).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::LEASE_FILE;
use crate::error::{Error, Result};
use crate::storage::{Location, lease_is_live};

/// The run marker: written at the start of every run, kept for its life.
pub const MARKER_FILE: &str = "_run.json";

/// Put down by a pruner before it deletes a run; a merge that finds it
/// does not use the run.
pub const TOMBSTONE_FILE: &str = "_pruning.json";

/// Folder of a run's claims (one lease per merge reading the run).
pub const CLAIMS_DIR: &str = "_claims";

/// Version of the marker's layout.
const MARKER_VERSION: u32 = 1;

/// What `_run.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Marker {
    /// [`MARKER_VERSION`].
    pub format_version: u32,
    /// The run id: the folder's name.
    pub run_id: String,
    /// `cauce <version>`.
    pub producer: String,
    /// When the run started.
    pub started: DateTime<Utc>,
}

impl Marker {
    pub(crate) fn new(run_id: &str) -> Self {
        Self {
            format_version: MARKER_VERSION,
            run_id: run_id.to_string(),
            producer: format!("cauce {}", env!("CARGO_PKG_VERSION")),
            started: Utc::now(),
        }
    }
}

/// What a folder under `runs/` is, as pruning sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Not Cauce's (no marker, no lease) or reached through a link: never
    /// touched.
    Foreign,
    /// Its lease is fresh: a writer is filling it.
    Live,
    /// Its lease went stale: the writer died.
    Dead,
    /// Marker, no lease: published (or failed and being deleted).
    Finished,
}

/// The state of the folder `name` under `runs`, whose output root is
/// `output` (links are looked for between the two).
pub(crate) async fn state(runs: &Location, output: &Location, name: &str) -> Result<State> {
    let folder = runs.join(name)?;
    if let Some(link) = folder.link_below(output) {
        log::warn!("{link} is a symbolic link: not a run, left alone");
        return Ok(State::Foreign);
    }
    let lease = match folder.join(LEASE_FILE)?.head().await {
        Ok(meta) => Some(lease_is_live(&meta)),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let marked = match folder.join(MARKER_FILE)?.read_json::<Marker>().await {
        Ok(marker) => marker.run_id == name,
        Err(Error::NotFound { .. } | Error::Json { .. }) => false,
        Err(e) => return Err(e),
    };
    // The lease is taken before the marker is written: a lease alone is a
    // run starting (or killed while starting).
    Ok(match (lease, marked) {
        (Some(true), _) => State::Live,
        (Some(false), _) => State::Dead,
        (None, true) => State::Finished,
        (None, false) => {
            log::debug!("{folder}: no run marker ({MARKER_FILE}): not a run, left alone");
            State::Foreign
        }
    })
}

/// Whether a merge in progress holds a live claim on the run `folder`.
pub(crate) async fn claimed(folder: &Location) -> Result<bool> {
    let claims = folder.join(CLAIMS_DIR)?.list().await?;
    Ok(claims.iter().any(lease_is_live))
}

/// Deletes a run folder: everything but the marker, then the marker, so a
/// deletion cut short leaves a folder the next prune still recognises. On
/// local disk links inside are removed, never followed.
pub(crate) async fn delete(folder: &Location) -> Result<()> {
    if folder.delete_tree_local(MARKER_FILE).await? {
        return Ok(());
    }
    let marker = folder.join(MARKER_FILE)?;
    for object in folder.list().await? {
        let location = folder.child_for(&object.location);
        if location.path() != marker.path() {
            location.delete().await?;
        }
    }
    marker.delete().await
}
