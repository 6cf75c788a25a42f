//! Publishing a version: claim the next number with create-if-absent (so any
//! number of concurrent publishers get distinct numbers), take a lease on
//! the folder (renewed until the card is written, so `gc` leaves it alone
//! however short its grace period), upload the files, check they are all
//! still there, write the card last. Until the card exists the version is
//! invisible; a publisher that dies leaves a claimed folder whose lease goes
//! stale, for `gc`.

use bytes::Bytes;
use chrono::Utc;
use common::checksum::sha256_hex;
use common::lifecycle::LEASE_FILE;
use common::storage::{Lease, Location};

use crate::card::{CARD_FILE, CardInput, FORMAT_VERSION, FileEntry, ModelCard, actor};
use crate::error::{Error, Result};
use crate::names::{self, Version};
use crate::registry::{CLAIM_FILE, Registry, SEAL_FILE, Seal};

/// Attempts at claiming a number before giving up.
const MAX_CLAIMS: usize = 10_000;

/// A claimed version whose files are being uploaded. Dropping it without
/// [`commit`](Self::commit) leaves it invisible (and collectable by `gc`).
#[derive(Debug)]
pub struct PendingVersion {
    version: Version,
    dir: Location,
    files: Vec<FileEntry>,
    lease: Lease,
}

impl Registry {
    /// Claims the next version number.
    pub async fn begin(&self) -> Result<PendingVersion> {
        let exhausted = |last: u64| Error::InvalidName {
            kind: "version",
            name: format!("v{last}"),
            reason: "is the largest version number there can be; no version can follow it \
                     (was it planted by hand? delete the folder)"
                .into(),
        };
        let mut next = match self.claimed().await?.last() {
            None => 1,
            Some(v) => v.0.checked_add(1).ok_or_else(|| exhausted(v.0))?,
        };
        for _ in 0..MAX_CLAIMS {
            let version = Version(next);
            let dir = self.version_dir(version)?;
            let claim = serde_json::json!({
                "version": version,
                "claimed_at": Utc::now(),
                "claimed_by": actor(),
                "pid": std::process::id(),
                "token": common::ids::write_token(),
                // The seal is this version's commit point (see `Claim`).
                "sealed": true,
            });
            match dir.join(CLAIM_FILE)?.create_json(&claim).await {
                Ok(()) => {
                    log::debug!("claimed {version}");
                    let lease = Lease::acquire(dir.join(LEASE_FILE)?).await?;
                    return Ok(PendingVersion {
                        version,
                        dir,
                        files: Vec::new(),
                        lease,
                    });
                }
                Err(common::Error::AlreadyExists { .. }) => {
                    next = next.checked_add(1).ok_or_else(|| exhausted(next))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Contention {
            registry: self.root().to_string(),
            what: "version number",
            attempts: MAX_CLAIMS,
        })
    }

    /// Publishes `files` with `card` as the next version and returns its card.
    /// Every file name is checked before a number is claimed, so a bad
    /// name wastes no version.
    pub async fn publish(&self, card: CardInput, files: Vec<(String, Bytes)>) -> Result<ModelCard> {
        let mut seen = std::collections::BTreeSet::new();
        for (name, _) in &files {
            names::file_name(name)?;
            if !seen.insert(name.as_str()) {
                return Err(Error::InvalidName {
                    kind: "file name",
                    name: name.clone(),
                    reason: "is given twice; the files of a version need distinct names".into(),
                });
            }
        }
        let mut pending = self.begin().await?;
        for (name, bytes) in files {
            pending.add_file(&name, bytes).await?;
        }
        pending.commit(card).await
    }
}

impl PendingVersion {
    /// The claimed version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Uploads one artifact file.
    pub async fn add_file(&mut self, name: &str, bytes: Bytes) -> Result<()> {
        names::file_name(name)?;
        let entry = FileEntry {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        self.dir.join(name)?.put(bytes).await?;
        self.files.retain(|f| f.name != name);
        self.files.push(entry);
        Ok(())
    }

    /// Checks that every uploaded file is still there with its size, then
    /// writes the card, making the version visible.
    pub async fn commit(self, input: CardInput) -> Result<ModelCard> {
        for entry in &self.files {
            let location = self.dir.join(&entry.name)?;
            let Some(problem) = location.size_problem(entry.bytes, "uploaded").await? else {
                continue;
            };
            return Err(Error::Vanished {
                version: self.version.to_string(),
                file: entry.name.clone(),
                problem,
            });
        }
        let card = ModelCard {
            format_version: FORMAT_VERSION,
            version: self.version,
            name: input.name,
            created_at: Utc::now(),
            created_by: actor(),
            files: self.files,
            metrics: input.metrics,
            better: input.better,
            params: input.params,
            metadata: input.metadata,
        };
        let card_location = self.dir.join(CARD_FILE)?;
        card_location.create_json(&card).await?;
        let seal = Seal {
            card_sha256: sha256_hex(&card_location.get().await?),
        };
        self.dir.join(SEAL_FILE)?.create_json(&seal).await?;
        if let Err(e) = self.lease.release().await {
            log::warn!("releasing the publishing lease of {}: {e}", self.version);
        }
        log::info!("published {} ({} file(s))", self.version, card.files.len());
        Ok(card)
    }
}
