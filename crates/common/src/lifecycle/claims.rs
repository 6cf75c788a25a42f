//! A merge's claims on the shard runs it reads: one lease per shard run,
//! under `<run>/_claims/`, taken before the merge reads anything of the run
//! and released after the merged manifest is published (which then keeps
//! the runs it names). Pruning keeps a run with a live claim; see
//! [`super::prune`] for why the two cannot both go ahead.

use super::folder::{CLAIMS_DIR, MARKER_FILE, TOMBSTONE_FILE};
use crate::error::{Error, Result};
use crate::shard::{Merged, Shard, merge_error};
use crate::storage::{Lease, Location};

/// Live claims on shard runs, renewed until released.
#[derive(Debug, Default)]
pub struct Claims {
    leases: Vec<Lease>,
}

impl Claims {
    /// Releases every claim.
    pub async fn release(self) {
        for lease in self.leases {
            let at = lease.location().clone();
            if let Err(e) = lease.release().await {
                log::warn!("releasing claim {at}: {e}");
            }
        }
    }
}

/// How many times a merge reads the shard manifests again when a shard
/// run it was about to claim was replaced meanwhile.
const ATTEMPTS: usize = 5;

/// The published shard manifests under `output` (as
/// [`crate::shard::published`] reads them), with the shard runs they name
/// claimed. `run_id` gives a manifest's run. When a shard is rerun between
/// the read and the claim, the manifests are read again (a few times).
pub async fn pin_published<T: serde::de::DeserializeOwned>(
    output: &Location,
    count: Option<usize>,
    stage: &str,
    run_id: impl Fn(&T) -> &str,
) -> Result<(Vec<(Shard, T, String)>, Merged, Claims)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let shards = crate::shard::published::<T>(output, count, stage).await?;
        let merged = Merged {
            count: shards.len(),
            shards: shards
                .iter()
                .map(|(shard, manifest, sha)| crate::shard::ShardRun {
                    index: shard.index,
                    run_id: run_id(manifest).to_string(),
                    manifest_sha256: sha.clone(),
                })
                .collect(),
        };
        match claim(output, &merged).await? {
            Ok(claims) => return Ok((shards, merged, claims)),
            Err(message) if attempt >= ATTEMPTS => return Err(merge_error(output, message)),
            Err(message) => {
                log::info!("{message}; reading the shard manifests again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt as u64)).await;
            }
        }
    }
}

/// Claims the shard runs `merged` lists under `output`; the inner error
/// (having released what it took) when a run is gone or a pruner is
/// deleting it: the shard was rerun meanwhile.
async fn claim(output: &Location, merged: &Merged) -> Result<std::result::Result<Claims, String>> {
    let mut claims = Claims::default();
    let token = crate::ids::write_token();
    for run in &merged.shards {
        let shard = Shard {
            index: run.index,
            count: merged.count,
        };
        let folder = output.join(&shard.runs_folder())?.join(&run.run_id)?;
        let taken = async {
            // Checked before the claim too, so that a run long gone gets no
            // claim folder of its own.
            if let Some(refused) = refusal(&folder, shard).await? {
                return Ok(Some(refused));
            }
            let name = format!("{token}.json");
            let lease = Lease::acquire(folder.join(CLAIMS_DIR)?.join(&name)?).await?;
            claims.leases.push(lease);
            refusal(&folder, shard).await
        };
        match taken.await {
            Ok(None) => {}
            Ok(Some(refused)) => {
                claims.release().await;
                return Ok(Err(refused));
            }
            Err(e) => {
                claims.release().await;
                return Err(e);
            }
        }
    }
    Ok(Ok(claims))
}

/// Why the shard run `folder` cannot be used: it is gone (no marker) or a
/// pruner is deleting it.
async fn refusal(folder: &Location, shard: Shard) -> Result<Option<String>> {
    let refused = |what: &str| {
        Some(format!(
            "shard {shard}'s run {} {what} (the shard was rerun meanwhile); merge again",
            folder.file_name()
        ))
    };
    if folder.join(TOMBSTONE_FILE)?.exists().await? {
        return Ok(refused("is being removed by a newer run of that shard"));
    }
    match folder.join(MARKER_FILE)?.head().await {
        Ok(_) => Ok(None),
        Err(Error::NotFound { .. }) => Ok(refused("is gone")),
        Err(e) => Err(e),
    }
}
