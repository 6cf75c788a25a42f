//! The registry handle: reading versions and cards, resolving references
//! with verified bytes, integrity checks, deletion and garbage collection.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use common::checksum::sha256_hex;
use common::lifecycle::LEASE_FILE;
use common::storage::{Location, lease_is_live, lease_timeout};
use serde::Serialize;

use crate::card::{CARD_FILE, FORMAT_VERSION, ModelCard};
use crate::error::{Error, Result};
use crate::names::TOMBSTONE_FILE;
use crate::names::{Reference, Version};

/// The claim object that reserves a version number; it is never deleted, so
/// a number is never handed out twice.
pub(crate) const CLAIM_FILE: &str = "_claim.json";

/// The seal written right after a card: its digest, so that an edited card
/// (a metric changed by hand) is refused by `verify`, `resolve` and
/// `promote --if-better`.
pub(crate) const SEAL_FILE: &str = "_sealed.json";

/// What `_claim.json` holds that readers use (the rest is for people).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Claim {
    /// True when the version is published in the sealed format (every
    /// version claimed since seals exist): its card counts only with its
    /// seal. Absent in claims from before.
    #[serde(default)]
    pub sealed: bool,
}

/// What a seal holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Seal {
    /// SHA-256 of the card's bytes.
    pub card_sha256: String,
}

/// A registry rooted at a storage location (`models/`, `s3://bucket/models`).
#[derive(Debug, Clone)]
pub struct Registry {
    root: Location,
}

/// A version's card and its files, every byte checked against the card.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The card.
    pub card: ModelCard,
    /// SHA-256 of the card file as stored (identifies exactly what was served).
    pub card_sha256: String,
    /// File name → content.
    pub files: BTreeMap<String, Bytes>,
}

/// What `verify` found for one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The version.
    pub version: String,
    /// Files the card lists that are not there.
    pub missing: Vec<String>,
    /// Files there that the card does not list.
    pub extra: Vec<String>,
    /// Files whose size or checksum differ from the card: (name, problem).
    pub corrupted: Vec<(String, String)>,
    /// Files checked and found intact.
    pub ok: Vec<String>,
}

impl VerifyReport {
    /// True when nothing is missing, extra or corrupted.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.corrupted.is_empty()
    }
}

/// What `gc` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// Unfinished versions cleaned (their numbers stay claimed).
    pub versions: Vec<String>,
    /// Files deleted.
    pub files: usize,
    /// Staging files of interrupted writes deleted (local disk: `name#N`).
    pub staging: usize,
}

impl Registry {
    /// Opens the registry at a location string.
    pub fn open(location: &str) -> Result<Self> {
        Ok(Self::at(Location::parse(location)?))
    }

    /// The registry at `root`.
    pub fn at(root: Location) -> Self {
        Self { root }
    }

    /// Its root.
    pub fn root(&self) -> &Location {
        &self.root
    }

    /// The folder of `version` (`versioned/vN/`).
    pub fn version_dir(&self, version: Version) -> Result<Location> {
        Ok(self.root.join(&format!("versioned/{version}"))?)
    }

    /// Every version number ever claimed (finished or not), ascending.
    pub(crate) async fn claimed(&self) -> Result<Vec<Version>> {
        let (folders, _) = self.root.join("versioned")?.list_children().await?;
        let mut versions: Vec<Version> = folders.iter().filter_map(|f| f.parse().ok()).collect();
        versions.sort();
        Ok(versions)
    }

    /// The card of `version`, or [`Error::VersionNotFound`] if it has none.
    pub async fn card(&self, version: Version) -> Result<ModelCard> {
        Ok(self.read_card(version).await?.0)
    }

    /// The card of `version` and the SHA-256 of its stored bytes, from one read.
    async fn read_card(&self, version: Version) -> Result<(ModelCard, String)> {
        let location = self.version_dir(version)?.join(CARD_FILE)?;
        let bytes = match location.get().await {
            Ok(bytes) => bytes,
            Err(common::Error::NotFound { .. }) => {
                return Err(Error::VersionNotFound {
                    registry: self.root.to_string(),
                    version: version.to_string(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let digest = sha256_hex(&bytes);
        self.check_seal(version, &digest).await?;
        let card: ModelCard = serde_json::from_slice(&bytes).map_err(|e| Error::BadRecord {
            location: location.to_string(),
            message: format!("invalid JSON: {e}"),
        })?;
        if card.format_version != FORMAT_VERSION || card.version != version {
            return Err(Error::BadRecord {
                location: location.to_string(),
                message: format!(
                    "card says format_version {} and version {}; expected {FORMAT_VERSION} and {version}",
                    card.format_version, card.version
                ),
            });
        }
        Ok((card, digest))
    }

    /// Checks a card's digest against the seal written after it at publish
    /// (cards of registries from before seals have none and pass).
    async fn check_seal(&self, version: Version, digest: &str) -> Result<()> {
        let location = self.version_dir(version)?.join(SEAL_FILE)?;
        let seal: Seal = match location.read_json().await {
            Ok(seal) => seal,
            Err(common::Error::NotFound { .. }) => {
                if self.claims_sealed_format(version).await? {
                    return Err(Error::Unsealed {
                        version: version.to_string(),
                    });
                }
                log::debug!("{version}: no seal (published before seals existed)");
                return Ok(());
            }
            Err(common::Error::Json { source, .. }) => {
                return Err(Error::BadRecord {
                    location: location.to_string(),
                    message: source.to_string(),
                });
            }
            // Unreachable storage is not a bad record: said as it is.
            Err(e) => return Err(e.into()),
        };
        if seal.card_sha256 != digest {
            return Err(corrupt(
                version,
                CARD_FILE,
                format!(
                    "edited after publishing: sha256 {digest}, sealed as {}",
                    seal.card_sha256
                ),
            ));
        }
        Ok(())
    }

    /// Whether the claim of `version` says it was published in the sealed
    /// format: then its seal is its commit point, and a card without one is
    /// unfinished (a crash between card and seal) or tampered with.
    async fn claims_sealed_format(&self, version: Version) -> Result<bool> {
        let location = self.version_dir(version)?.join(CLAIM_FILE)?;
        match location.read_json::<Claim>().await {
            Ok(claim) => Ok(claim.sealed),
            Err(common::Error::NotFound { .. }) => Ok(false),
            Err(common::Error::Json { source, .. }) => Err(Error::BadRecord {
                location: location.to_string(),
                message: source.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Cards of every visible version (those with a card), ascending.
    pub async fn versions(&self) -> Result<Vec<ModelCard>> {
        Ok(self
            .catalogue()
            .await?
            .into_iter()
            .filter_map(|(version, card)| match card {
                Ok(card) => Some(card),
                Err(e) => {
                    log::warn!("skipping {version}: {e}");
                    None
                }
            })
            .collect())
    }

    /// Every published version with its card, or why the card cannot be
    /// used (unreadable, edited): one bad card does not hide the others.
    pub async fn catalogue(&self) -> Result<Vec<(Version, Result<ModelCard>)>> {
        let mut entries = Vec::new();
        for version in self.claimed().await? {
            match self.card(version).await {
                Err(Error::VersionNotFound { .. }) => {}
                // Not finished (its publisher died between card and seal, or
                // is writing the seal now): as invisible as a card-less one.
                Err(Error::Unsealed { .. }) => {
                    log::info!("{version}: a card without its seal, not listed");
                }
                Err(e @ (Error::BadRecord { .. } | Error::Corrupt { .. })) => {
                    entries.push((version, Err(e)));
                }
                Err(e) => return Err(e),
                Ok(card) => entries.push((version, Ok(card))),
            }
        }
        Ok(entries)
    }

    /// The version a reference names: `vN` (must be visible) or an alias's current version.
    pub async fn resolve_version(&self, reference: &str) -> Result<Version> {
        match reference.parse::<Reference>()? {
            Reference::Version(version) => {
                self.card(version).await?;
                Ok(version)
            }
            Reference::Alias(alias) => match self.current(&alias).await? {
                Some(record) => Ok(record.version),
                None => Err(Error::AliasNotSet {
                    registry: self.root.to_string(),
                    alias,
                }),
            },
        }
    }

    /// The card and verified bytes of `latest`, `vN` or an alias. A file whose
    /// size or SHA-256 differs from the card is an error, never a silent load.
    pub async fn resolve(&self, reference: &str) -> Result<Resolved> {
        let version = self.resolve_version(reference).await?;
        let (card, card_sha256) = self.read_card(version).await?;
        let dir = self.version_dir(version)?;
        let mut files = BTreeMap::new();
        for entry in &card.files {
            let bytes = match dir.join(&entry.name)?.get().await {
                Ok(bytes) => bytes,
                Err(common::Error::NotFound { .. }) => {
                    return Err(corrupt(version, &entry.name, "file is missing".into()));
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(problem) = check(&bytes, entry) {
                return Err(corrupt(version, &entry.name, problem));
            }
            files.insert(entry.name.clone(), bytes);
        }
        log::info!(
            "resolved {reference} → {version} ({} file(s) verified)",
            files.len()
        );
        Ok(Resolved {
            card,
            card_sha256,
            files,
        })
    }

    /// One file of `version`, checked against the card (`None` when the card
    /// lists no such file).
    pub async fn file(&self, version: Version, name: &str) -> Result<Option<Bytes>> {
        let card = self.card(version).await?;
        let Some(entry) = card.file(name) else {
            return Ok(None);
        };
        let bytes = match self.version_dir(version)?.join(name)?.get().await {
            Ok(bytes) => bytes,
            Err(common::Error::NotFound { .. }) => {
                return Err(corrupt(version, name, "file is missing".into()));
            }
            Err(e) => return Err(e.into()),
        };
        match check(&bytes, entry) {
            Some(problem) => Err(corrupt(version, name, problem)),
            None => Ok(Some(bytes)),
        }
    }

    /// Recomputes every checksum of `version` and lists missing, extra and corrupted files.
    pub async fn verify(&self, version: Version) -> Result<VerifyReport> {
        let card = self.card(version).await?;
        let dir = self.version_dir(version)?;
        let mut report = VerifyReport {
            version: version.to_string(),
            ..VerifyReport::default()
        };
        let present: Vec<String> = dir
            .list()
            .await?
            .iter()
            .filter_map(|m| dir.relative(&m.location))
            .filter(|name| {
                ![CARD_FILE, CLAIM_FILE, LEASE_FILE, SEAL_FILE, TOMBSTONE_FILE]
                    .contains(&name.as_str())
            })
            .collect();
        for entry in &card.files {
            if !present.contains(&entry.name) {
                report.missing.push(entry.name.clone());
                continue;
            }
            let bytes = dir.join(&entry.name)?.get().await?;
            match check(&bytes, entry) {
                Some(problem) => report.corrupted.push((entry.name.clone(), problem)),
                None => report.ok.push(entry.name.clone()),
            }
        }
        report.extra = present
            .into_iter()
            .filter(|name| card.file(name).is_none())
            .collect();
        Ok(report)
    }

    /// Removes the files of versions that were claimed more than `grace` ago
    /// but never got a card (crashed or killed publishers). A version whose
    /// publisher still renews its lease is never touched, so any grace
    /// period is safe; a killed publisher's lease goes stale after the lease
    /// timeout (`CAUCE_LEASE_SECONDS`).
    pub async fn gc(&self, grace: Duration) -> Result<GcReport> {
        let mut report = GcReport::default();
        let cutoff =
            Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
        let age = grace.max(lease_timeout());
        let mut served = Vec::new();
        for alias in self.aliases().await? {
            if let Ok(Some(record)) = self.current(&alias).await {
                served.push(record.version);
            }
        }
        for version in self.claimed().await? {
            let dir = self.version_dir(version)?;
            if let Some(link) = dir.link_below(&self.root) {
                log::warn!("gc: {link} is a symbolic link; not cleaning through it");
                continue;
            }
            // A version folder is ours (its number was claimed): any
            // interrupted write in it is one of our uploads.
            report.staging += dir.remove_stale_staging_of(age, |_| true).await?;
            let objects = dir.list().await?;
            let names: Vec<String> = objects
                .iter()
                .filter_map(|m| dir.relative(&m.location))
                .collect();
            // A card counts once sealed (the seal is the commit point of
            // versions claimed in the sealed format): a card left by a
            // publisher killed before its seal is collected like any other
            // unfinished upload, unless an alias names the version.
            let sealed = names.iter().any(|n| n == SEAL_FILE);
            if names.iter().any(|n| n == CARD_FILE)
                && (sealed
                    || !self.claims_sealed_format(version).await?
                    || served.contains(&version))
            {
                continue;
            }
            // A publisher that is alive renews its lease: never collect
            // under it, whatever the grace period.
            let held = objects.iter().any(|m| {
                dir.relative(&m.location).as_deref() == Some(LEASE_FILE) && lease_is_live(m)
            });
            if held {
                continue;
            }
            let newest = objects.iter().map(|m| m.last_modified).max();
            let leftovers: Vec<_> = objects
                .iter()
                .filter(|m| {
                    let name = dir.relative(&m.location);
                    !matches!(name.as_deref(), Some(CLAIM_FILE | TOMBSTONE_FILE))
                })
                .collect();
            if leftovers.is_empty() || newest.is_some_and(|t| t > cutoff) {
                continue;
            }
            for object in &leftovers {
                dir.child_for(&object.location).delete().await?;
            }
            log::info!(
                "gc: removed {} file(s) of unfinished {version}",
                leftovers.len()
            );
            report.files += leftovers.len();
            report.versions.push(version.to_string());
        }
        // A staging file younger than the lease timeout may be a live
        // publisher's upload in progress: any grace period stays safe. Only
        // the files the registry writes, only where it writes them: a
        // user's `notes/issue#42` is not a staging file of ours.
        report.staging += self
            .root
            .remove_stale_staging_of(age, |name| name == crate::names::INDEX_FILE)
            .await?;
        for alias in self.aliases().await? {
            report.staging += self
                .root
                .join(&alias)?
                .remove_stale_staging_of(age, is_record_name)
                .await?;
        }
        if report.staging > 0 {
            log::info!(
                "gc: removed {} staging file(s) of interrupted writes",
                report.staging
            );
        }
        Ok(report)
    }
}

/// `0000000001.json`: a promotion record's name.
fn is_record_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Size and checksum check of one file against its card entry.
fn check(bytes: &Bytes, entry: &crate::card::FileEntry) -> Option<String> {
    if bytes.len() as u64 != entry.bytes {
        return Some(format!(
            "size mismatch: card says {} bytes, file has {}",
            entry.bytes,
            bytes.len()
        ));
    }
    let actual = sha256_hex(bytes);
    (actual != entry.sha256).then(|| {
        format!(
            "sha256 mismatch: card says {}, file has {actual}",
            entry.sha256
        )
    })
}

fn corrupt(version: Version, file: &str, problem: String) -> Error {
    Error::Corrupt {
        version: version.to_string(),
        file: file.to_string(),
        problem,
    }
}
