//! Pruning a runs folder: deletes finished runs beyond the newest `keep`
//! and runs of killed writers, and nothing else.
//!
//! What is never deleted: a folder without Cauce's marker or lease (a user's
//! folder), a folder reached through a symbolic link, a run whose lease is
//! live, a run a merge in progress claims, a run any protecting manifest
//! names (its `run_id`, or the shard runs a merged manifest lists).
//!
//! Against a merge claiming a run concurrently, each side writes its own
//! flag before reading the other's: the pruner puts a tombstone in the run,
//! then looks for live claims, then re-reads the manifests; the merge writes
//! its claim, then looks for a tombstone, and publishes before releasing
//! the claim. Whatever the interleaving, either the pruner sees the claim
//! (or the merged manifest naming the run) and keeps the run, or the merge
//! sees the tombstone and does not use it.

use serde::Deserialize;

use super::folder::{self, State, TOMBSTONE_FILE};
use crate::error::{Error, Result};
use crate::shard::{Merged, Shard};
use crate::storage::{Location, lease_timeout};

/// What pruning reads from a manifest: the runs it names.
#[derive(Debug, Deserialize)]
struct Names {
    run_id: String,
    #[serde(default)]
    shards: Option<Merged>,
}

/// The run ids `manifests` name, the first manifest's own run first (when
/// it exists).
async fn named(manifests: &[Location]) -> Result<(Option<String>, Vec<String>)> {
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
    Ok((current, named))
}

/// Prunes the runs under `runs` (inside `output`), keeping the newest
/// `keep` finished runs (the one the first of `manifests` names first) and
/// every run any of `manifests` names. `skip_shard_folders`: the shard and
/// merge folders under an unsharded `runs/` are not runs.
pub(crate) async fn prune(
    output: &Location,
    runs: &Location,
    keep: usize,
    manifests: &[Location],
    skip_shard_folders: bool,
) -> Result<()> {
    if let Some(link) = runs.link_below(output) {
        log::warn!("{link} is a symbolic link: not pruning through it");
        return Ok(());
    }
    remove_stale_manifest_staging(output).await?;
    let (folders, _) = runs.list_children().await?;
    let mut states = Vec::new();
    for name in folders {
        if skip_shard_folders && Shard::is_shard_folder(&name) {
            continue;
        }
        let state = folder::state(runs, output, &name).await?;
        states.push((name, state));
    }
    // Read after the states: a run that published while they were looked
    // at is current by now (or superseded by a newer one).
    let (current, named) = named(manifests).await?;
    let is_named = |name: &str| named.iter().any(|n| n == name);
    let mut finished: Vec<&str> = states
        .iter()
        .filter(|(name, state)| *state == State::Finished && !is_named(name))
        .map(|(name, _)| name.as_str())
        .collect();
    finished.sort_unstable();
    let keep_others = keep.max(1) - usize::from(current.is_some());
    let excess = finished.len().saturating_sub(keep_others);
    let dead = states
        .iter()
        .filter(|(name, state)| *state == State::Dead && !is_named(name))
        .map(|(name, _)| name.as_str());
    let doomed: Vec<&str> = finished.into_iter().take(excess).chain(dead).collect();
    if doomed.is_empty() {
        return Ok(());
    }
    // Tombstones first, then the claims, then the manifests again.
    let mut condemned = Vec::new();
    for name in doomed {
        let run = runs.join(name)?;
        let tombstone = run.join(TOMBSTONE_FILE)?;
        tombstone.put(&b"{}"[..]).await?;
        if folder::claimed(&run).await? {
            log::info!("{run}: a merge in progress reads it; kept");
            tombstone.delete().await?;
        } else {
            condemned.push((name, run, tombstone));
        }
    }
    let (_, named) = self::named(manifests).await?;
    for (name, run, tombstone) in condemned {
        if named.iter().any(|n| n == name) {
            tombstone.delete().await?;
            continue;
        }
        log::info!("removing old run {run}");
        if let Err(e) = folder::delete(&run).await {
            log::warn!("cleanup of {run}: {e}");
        }
    }
    Ok(())
}

/// Staging files of manifests whose write was killed (local disk only),
/// once no live writer can still be renaming them into place; only the
/// names Cauce writes, only in the output root.
async fn remove_stale_manifest_staging(output: &Location) -> Result<()> {
    let removed = output
        .remove_stale_staging_of(lease_timeout(), |name| {
            name == "_manifest.json" || Shard::of_manifest_name(name).is_some()
        })
        .await?;
    if removed > 0 {
        log::info!("removed {removed} staging file(s) of interrupted manifest writes in {output}");
    }
    Ok(())
}
