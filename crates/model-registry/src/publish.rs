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
use common::storage::{LEASE_FILE, Lease, Location};

use crate::card::{CARD_FILE, CardInput, FORMAT_VERSION, FileEntry, ModelCard, actor};
use crate::error::{Error, Result};
use crate::names::{self, Version};
use crate::registry::{CLAIM_FILE, Registry};

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
        let mut next = self.claimed().await?.last().map_or(1, |v| v.0 + 1);
        for _ in 0..MAX_CLAIMS {
            let version = Version(next);
            let dir = self.version_dir(version)?;
            let claim = serde_json::json!({
                "version": version,
                "claimed_at": Utc::now(),
                "claimed_by": actor(),
                "pid": std::process::id(),
                "token": common::ids::write_token(),
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
                Err(common::Error::AlreadyExists { .. }) => next += 1,
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
    pub async fn publish(&self, card: CardInput, files: Vec<(String, Bytes)>) -> Result<ModelCard> {
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
            let problem = match location.head().await {
                Ok(meta) if meta.size == entry.bytes => continue,
                Ok(meta) => format!("has {} bytes, not the {} uploaded", meta.size, entry.bytes),
                Err(common::Error::NotFound { .. }) => "is gone".to_string(),
                Err(e) => return Err(e.into()),
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
            params: input.params,
            metadata: input.metadata,
        };
        self.dir.join(CARD_FILE)?.create_json(&card).await?;
        if let Err(e) = self.lease.release().await {
            log::warn!("releasing the publishing lease of {}: {e}", self.version);
        }
        log::info!("published {} ({} file(s))", self.version, card.files.len());
        Ok(card)
    }
}
