//! Deleting a version safely against concurrent promotions.
//!
//! `delete` claims a tombstone `versioned/vN/_deleted.json` (create-if-absent)
//! *before* it looks at the aliases; a promotion writes its record *before*
//! it looks for the tombstone. With storage that is read-after-write
//! consistent (local disk, S3), at least one of the two sees the other:
//!
//! - `delete` sees an alias on the version: it removes its tombstone and
//!   refuses (in use);
//! - the promotion sees no tombstone: any later delete will see its record;
//! - the promotion sees a tombstone: it waits until the delete decides
//!   (tombstone removed: promoted; card gone: it writes a record moving the
//!   alias back to the version it was on, and fails saying so).
//!
//! A finished delete leaves the tombstone in place (who deleted the version,
//! when) beside the claim; a tombstone older than the lease timeout with the
//! card still there is a delete that died, and counts as none.

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::storage::{Location, lease_timeout};
use serde::{Deserialize, Serialize};

use crate::alias::{Action, Promotion};
use crate::card::{CARD_FILE, actor};
use crate::error::{Error, Result};
use crate::names::{TOMBSTONE_FILE, Version};
use crate::registry::{CLAIM_FILE, Registry};

/// How often a promotion that found a tombstone looks again.
const POLL: Duration = Duration::from_millis(50);

/// What a tombstone records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tombstone {
    version: Version,
    at: DateTime<Utc>,
    by: String,
    token: String,
}

impl Registry {
    fn tombstone(&self, version: Version) -> Result<Location> {
        Ok(self.version_dir(version)?.join(TOMBSTONE_FILE)?)
    }

    /// Who is deleting `version`, if a delete holds (or finished) its
    /// tombstone; a tombstone older than the lease timeout on a version that
    /// still has its card is a dead delete and counts as none.
    pub(crate) async fn deleter(&self, version: Version) -> Result<Option<String>> {
        let location = self.tombstone(version)?;
        let meta = match location.head().await {
            Ok(meta) => meta,
            Err(common::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let age = (Utc::now() - meta.last_modified)
            .to_std()
            .unwrap_or_default();
        if age >= lease_timeout() && self.version_dir(version)?.join(CARD_FILE)?.exists().await? {
            return Ok(None);
        }
        let by = match location.read_json::<Tombstone>().await {
            Ok(t) => t.by,
            Err(common::Error::NotFound { .. }) => return Ok(None),
            Err(_) => "an unknown deleter".to_string(),
        };
        Ok(Some(by))
    }

    /// Deletes a version's card and files (its number stays claimed, and a
    /// tombstone says who deleted it). Refused while an alias points at it.
    pub async fn delete(&self, version: Version) -> Result<()> {
        self.card(version).await?;
        // Deleting lists the folder; on local disk a listing follows links.
        if let Some(link) = self.version_dir(version)?.link_below(self.root()) {
            return Err(common::Error::Unsafe {
                location: format!("to delete {version}"),
                message: format!("{link} is a symbolic link; not deleting through it"),
            }
            .into());
        }
        let tombstone = self.tombstone(version)?;
        let record = Tombstone {
            version,
            at: Utc::now(),
            by: actor(),
            token: common::ids::write_token(),
        };
        match tombstone.create_json(&record).await {
            Ok(()) => {}
            Err(common::Error::AlreadyExists { .. }) => match self.deleter(version).await? {
                Some(by) => {
                    return Err(Error::BeingDeleted {
                        version: version.to_string(),
                        by,
                    });
                }
                // A delete that died: take its tombstone over.
                None => tombstone.write_json(&record).await?,
            },
            Err(e) => return Err(e.into()),
        }
        let using = match self.aliases_on(version).await {
            Ok(using) => using,
            Err(e) => {
                tombstone.delete().await?;
                return Err(e);
            }
        };
        if !using.is_empty() {
            tombstone.delete().await?;
            return Err(Error::InUse {
                version: version.to_string(),
                aliases: using,
            });
        }
        let dir = self.version_dir(version)?;
        // The card goes first: from then on the version is invisible, whatever happens next.
        dir.join(CARD_FILE)?.delete().await?;
        for object in dir.list().await? {
            let location = dir.child_for(&object.location);
            if ![CLAIM_FILE, TOMBSTONE_FILE].contains(&location.file_name()) {
                location.delete().await?;
            }
        }
        log::info!("deleted {version}");
        Ok(())
    }

    /// The aliases whose current version is `version`.
    async fn aliases_on(&self, version: Version) -> Result<Vec<String>> {
        let mut using = Vec::new();
        for alias in self.aliases().await? {
            if self
                .current(&alias)
                .await?
                .is_some_and(|r| r.version == version)
            {
                using.push(alias);
            }
        }
        Ok(using)
    }

    /// Refuses to promote to a version that is being deleted.
    pub(crate) async fn check_not_deleting(&self, version: Version) -> Result<()> {
        match self.deleter(version).await? {
            Some(by) => Err(Error::BeingDeleted {
                version: version.to_string(),
                by,
            }),
            None => Ok(()),
        }
    }

    /// After `record` was written: if a delete of its version started
    /// meanwhile, waits for it to decide, and if it deleted the version,
    /// moves the alias back down its promotion stack and fails saying so.
    /// The record that moves it back is settled the same way: the version
    /// it lands on may be being deleted by another delete at that moment.
    pub(crate) async fn settle(&self, record: Promotion) -> Result<Promotion> {
        let alias = record.alias.clone();
        let asked = record.version;
        let mut mine = record;
        loop {
            if !self.deleted_meanwhile(mine.version).await? {
                if mine.version == asked {
                    return Ok(mine);
                }
                return Err(deleted_while_promoting(
                    &alias,
                    asked,
                    format!("'{alias}' is back on {}", mine.version),
                ));
            }
            let outcome = match self.move_off(&alias, mine.version).await {
                Ok(Moved::Wrote(record)) => {
                    mine = record;
                    continue;
                }
                Ok(Moved::Elsewhere(v)) => format!("'{alias}' is back on {v}"),
                Ok(Moved::Nowhere) => format!("'{alias}' has no earlier version left; promote one"),
                Err(e) => format!("moving '{alias}' off it failed: {e}"),
            };
            return Err(deleted_while_promoting(&alias, asked, outcome));
        }
    }

    /// Waits until no delete of `version` is undecided; whether one deleted it.
    async fn deleted_meanwhile(&self, version: Version) -> Result<bool> {
        loop {
            if self.deleter(version).await?.is_none() {
                return Ok(false);
            }
            match self.card(version).await {
                Ok(_) => tokio::time::sleep(POLL).await,
                Err(Error::VersionNotFound { .. }) => return Ok(true),
                Err(e) => return Err(e),
            }
        }
    }

    /// While `alias` points at `deleted`, writes a rollback to the newest
    /// version below it on the promotion stack that still has its card.
    /// Several promotions of the same version may race one delete, so the
    /// version just below may be the deleted one too: it is skipped.
    async fn move_off(&self, alias: &str, deleted: Version) -> Result<Moved> {
        loop {
            let history = self.history(alias).await?;
            let Some(current) = history.last() else {
                return Ok(Moved::Nowhere);
            };
            if current.version != deleted {
                // Another record moved it; its writer settles it.
                return Ok(Moved::Elsewhere(current.version));
            }
            let mut below = crate::alias::stack(&history);
            let mut target = None;
            while let Some(v) = below.pop() {
                if v != deleted && self.card(v).await.is_ok() {
                    target = Some(v);
                    break;
                }
            }
            let Some(target) = target else {
                return Ok(Moved::Nowhere);
            };
            let reason = Some(format!("{deleted} was deleted while it was being promoted"));
            if let Some(record) = self
                .claim(alias, Some(current), target, Action::Rollback, reason)
                .await?
            {
                return Ok(Moved::Wrote(record));
            }
        }
    }
}

/// What [`Registry::move_off`] did.
enum Moved {
    /// Wrote this rollback record (to be settled in turn).
    Wrote(Promotion),
    /// Another record had already moved the alias to this version.
    Elsewhere(Version),
    /// No version below is left.
    Nowhere,
}

fn deleted_while_promoting(alias: &str, version: Version, outcome: String) -> Error {
    Error::DeletedWhilePromoting {
        alias: alias.to_string(),
        version: version.to_string(),
        outcome,
    }
}
