//! Aliases (`latest`, `staging`, …) as append-only promotion history. Each
//! promotion is an immutable record `<alias>/<sequence>.json` claimed with
//! create-if-absent; the alias's current version is the record with the
//! highest sequence. Nothing is overwritten, so this works on local disk
//! (which has no conditional overwrite) as on S3, and concurrent promotions
//! are serialized by the sequence claim: none is lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::card::{Better, actor};
use crate::error::{Error, Result};
use crate::names::{self, Version};
use crate::registry::Registry;

/// Record layout version.
pub const RECORD_FORMAT_VERSION: u32 = 1;

/// Attempts at claiming a sequence number before giving up.
const MAX_CLAIMS: usize = 10_000;

/// Why a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `promote`.
    Promote,
    /// `rollback`.
    Rollback,
}

/// One promotion record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// [`RECORD_FORMAT_VERSION`].
    pub format_version: u32,
    /// Position in the alias's history, from 1.
    pub sequence: u64,
    /// The alias.
    pub alias: String,
    /// The version it now points at.
    pub version: Version,
    /// The version it pointed at before (none for the first record).
    pub previous: Option<Version>,
    /// Promote or rollback.
    pub action: Action,
    /// When.
    pub at: DateTime<Utc>,
    /// `user@host`.
    pub by: String,
    /// Free text from `--reason`.
    pub reason: Option<String>,
    /// Unique to the write that made this record, so that a retried write
    /// recognises its own record instead of taking the next sequence number.
    #[serde(default)]
    pub token: String,
}

/// The outcome of a quality-gated promotion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateDecision {
    /// The metric compared.
    pub metric: String,
    /// Whether larger values are better.
    pub higher_is_better: bool,
    /// The candidate version and its value.
    pub candidate: (Version, f64),
    /// The alias's current version and its value (none: the alias is unset).
    pub current: Option<(Version, f64)>,
    /// The record written, when promoted.
    pub promoted: Option<Promotion>,
}

impl Registry {
    /// Alias names that have at least one record.
    pub async fn aliases(&self) -> Result<Vec<String>> {
        let (folders, _) = self.root().list_children().await?;
        Ok(folders
            .into_iter()
            .filter(|f| f != "versioned" && names::alias(f).is_ok())
            .collect())
    }

    async fn sequences(&self, alias: &str) -> Result<Vec<u64>> {
        let dir = self.root().join(names::alias(alias)?)?;
        let (_, objects) = dir.list_children().await?;
        let mut sequences: Vec<u64> = objects
            .iter()
            .filter_map(|o| o.location.filename()?.strip_suffix(".json")?.parse().ok())
            .collect();
        sequences.sort_unstable();
        Ok(sequences)
    }

    async fn record(&self, alias: &str, sequence: u64) -> Result<Promotion> {
        let location = self.root().join(alias)?.join(&record_name(sequence))?;
        let record: Promotion = match location.read_json().await {
            Ok(record) => record,
            Err(common::Error::Json { source, .. }) => {
                return Err(Error::BadRecord {
                    location: location.to_string(),
                    message: format!("invalid promotion record: {source}"),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if record.format_version != RECORD_FORMAT_VERSION || record.sequence != sequence {
            return Err(Error::BadRecord {
                location: location.to_string(),
                message: format!(
                    "unexpected format_version {} or sequence {}",
                    record.format_version, record.sequence
                ),
            });
        }
        Ok(record)
    }

    /// The alias's newest record: what it points at now.
    pub async fn current(&self, alias: &str) -> Result<Option<Promotion>> {
        match self.sequences(alias).await?.last() {
            Some(&sequence) => Ok(Some(self.record(alias, sequence).await?)),
            None => Ok(None),
        }
    }

    /// Every record of the alias, oldest first.
    pub async fn history(&self, alias: &str) -> Result<Vec<Promotion>> {
        let mut records = Vec::new();
        for sequence in self.sequences(alias).await? {
            records.push(self.record(alias, sequence).await?);
        }
        Ok(records)
    }

    /// Points `alias` at `version` (which must be visible) with a new record.
    pub async fn promote(
        &self,
        version: Version,
        alias: &str,
        reason: Option<String>,
    ) -> Result<Promotion> {
        names::alias(alias)?;
        self.check_intact(version).await?;
        self.check_not_deleting(version).await?;
        let record = self.append(alias, version, Action::Promote, reason).await?;
        self.settle(record).await
    }

    /// Refuses `version` unless every file its card lists is there with
    /// its size and checksum (and nothing else is): an alias never points
    /// at a version inference would refuse.
    async fn check_intact(&self, version: Version) -> Result<()> {
        let report = self.verify(version).await?;
        let problem = report
            .missing
            .iter()
            .map(|f| (f.clone(), "file is missing".to_string()))
            .chain(report.corrupted.iter().cloned())
            .chain(
                report
                    .extra
                    .iter()
                    .map(|f| (f.clone(), "is not listed in the card".to_string())),
            )
            .next();
        match problem {
            Some((file, problem)) => Err(Error::Corrupt {
                version: version.to_string(),
                file,
                problem,
            }),
            None => Ok(()),
        }
    }

    /// Moves the alias back to the version it was on before its current one
    /// was promoted. Promotions and rollbacks form a stack: a promotion
    /// pushes, a rollback pops, so rolling back twice after promoting v2 and
    /// v3 goes v3 → v2 → v1, never back to v3. Versions deleted since are
    /// skipped. If another promotion lands meanwhile, the rollback is
    /// decided again against it (it never undoes a record it did not see).
    pub async fn rollback(&self, alias: &str, reason: Option<String>) -> Result<Promotion> {
        names::alias(alias)?;
        for _ in 0..MAX_CLAIMS {
            let history = self.history(alias).await?;
            let current = history.last().cloned().ok_or_else(|| Error::AliasNotSet {
                registry: self.root().to_string(),
                alias: alias.to_string(),
            })?;
            let mut stack = stack(&history);
            stack.pop();
            let previous = loop {
                match stack.pop() {
                    None => {
                        return Err(Error::NoPrevious {
                            alias: alias.to_string(),
                        });
                    }
                    // Records of the version serving now are not a step back.
                    Some(v) if v == current.version => {}
                    Some(v) => match self.card(v).await {
                        Ok(_) => break v,
                        Err(Error::VersionNotFound { .. }) => {
                            log::info!("{alias}: skipping {v}, deleted since");
                        }
                        Err(e) => return Err(e),
                    },
                }
            };
            self.check_intact(previous).await?;
            self.check_not_deleting(previous).await?;
            let claim = self
                .claim(
                    alias,
                    Some(&current),
                    previous,
                    Action::Rollback,
                    reason.clone(),
                )
                .await?;
            if let Some(record) = claim {
                return self.settle(record).await;
            }
        }
        Err(self.contention())
    }

    /// Promotes `version` only if its `metric` beats the alias's current
    /// version's. The comparison holds for the record it is appended after:
    /// if another promotion lands between the comparison and the write, the
    /// gate compares again with the new current version.
    pub async fn promote_if_better(
        &self,
        version: Version,
        alias: &str,
        metric: &str,
        reason: Option<String>,
    ) -> Result<GateDecision> {
        let metric_of = |card: &crate::card::ModelCard| -> Result<f64> {
            card.metrics
                .get(metric)
                .copied()
                .ok_or_else(|| Error::MissingMetric {
                    version: card.version.to_string(),
                    metric: metric.to_string(),
                    available: card.metrics.keys().cloned().collect(),
                })
        };
        names::alias(alias)?;
        let card = self.card(version).await?;
        let candidate = metric_of(&card)?;
        self.check_intact(version).await?;
        self.check_not_deleting(version).await?;
        for _ in 0..MAX_CLAIMS {
            let record = self.current(alias).await?;
            let current_card = match &record {
                Some(record) => Some(self.card(record.version).await?),
                None => None,
            };
            let current = match &current_card {
                Some(current) => Some((current.version, metric_of(current)?)),
                None => None,
            };
            // The candidate's card says which way the metric improves; a
            // card without it (a publisher that did not record it) defers
            // to the current version's.
            let better = card
                .better
                .get(metric)
                .or_else(|| current_card.as_ref()?.better.get(metric))
                .copied();
            let higher_is_better = match better {
                Some(better) => better == Better::Higher,
                None if current.is_none() => true,
                None => {
                    return Err(Error::UnknownDirection {
                        version: version.to_string(),
                        metric: metric.to_string(),
                    });
                }
            };
            let better = match current {
                None => true,
                Some((_, value)) if higher_is_better => candidate > value,
                Some((_, value)) => candidate < value,
            };
            let decision = |promoted| GateDecision {
                metric: metric.to_string(),
                higher_is_better,
                candidate: (version, candidate),
                current,
                promoted,
            };
            if !better {
                return Ok(decision(None));
            }
            let reason = reason.clone().or_else(|| {
                Some(match current {
                    Some((was, value)) => format!("{metric} {candidate} beats {was}'s {value}"),
                    None => format!("{metric} {candidate}; '{alias}' had no version"),
                })
            });
            let claim = self
                .claim(alias, record.as_ref(), version, Action::Promote, reason)
                .await?;
            if let Some(promoted) = claim {
                let promoted = self.settle(promoted).await?;
                return Ok(decision(Some(promoted)));
            }
        }
        Err(self.contention())
    }

    /// Appends a record pointing `alias` at `version` after whatever record
    /// is newest when it writes.
    async fn append(
        &self,
        alias: &str,
        version: Version,
        action: Action,
        reason: Option<String>,
    ) -> Result<Promotion> {
        for _ in 0..MAX_CLAIMS {
            let claim = match self.current(alias).await {
                Ok(current) => {
                    self.claim(alias, current.as_ref(), version, action, reason.clone())
                        .await?
                }
                // The newest record is unreadable (damaged by hand or by a
                // disk): a promotion writes the record after it, which
                // repairs the alias; its `previous` is unknown.
                Err(Error::BadRecord { location, message }) => {
                    log::warn!("{location}: {message}; promoting past it");
                    let sequence = self.sequences(alias).await?.last().copied().unwrap_or(0);
                    self.claim_at(alias, sequence + 1, None, version, action, reason.clone())
                        .await?
                }
                Err(e) => return Err(e),
            };
            if let Some(record) = claim {
                return Ok(record);
            }
        }
        Err(self.contention())
    }

    /// Writes the record that follows `after` (the alias's newest record as
    /// the caller saw it), create-if-absent. `None` when another record took
    /// that sequence number first: the caller re-reads and decides again.
    pub(crate) async fn claim(
        &self,
        alias: &str,
        after: Option<&Promotion>,
        version: Version,
        action: Action,
        reason: Option<String>,
    ) -> Result<Option<Promotion>> {
        let sequence = after.map_or(0, |r| r.sequence) + 1;
        let previous = after.map(|r| r.version);
        self.claim_at(alias, sequence, previous, version, action, reason)
            .await
    }

    /// Writes record `sequence` (create-if-absent); `None` when taken.
    async fn claim_at(
        &self,
        alias: &str,
        sequence: u64,
        previous: Option<Version>,
        version: Version,
        action: Action,
        reason: Option<String>,
    ) -> Result<Option<Promotion>> {
        let record = Promotion {
            format_version: RECORD_FORMAT_VERSION,
            sequence,
            alias: alias.to_string(),
            version,
            previous,
            action,
            at: Utc::now(),
            by: actor(),
            reason,
            token: common::ids::write_token(),
        };
        let dir = self.root().join(names::alias(alias)?)?;
        match dir.join(&record_name(sequence))?.create_json(&record).await {
            Ok(()) => {
                log::info!(
                    "{alias}: {:?} → {version} (record {sequence}, {action:?})",
                    previous
                );
                Ok(Some(record))
            }
            Err(common::Error::AlreadyExists { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn contention(&self) -> Error {
        Error::Contention {
            registry: self.root().to_string(),
            what: "promotion sequence number",
            attempts: MAX_CLAIMS,
        }
    }
}

/// The versions an alias's history has stacked up, oldest first, the
/// current one last: a promotion pushes its version, a rollback pops back to
/// the one below (or, in a history that does not say so, replaces the top).
pub(crate) fn stack(history: &[Promotion]) -> Vec<Version> {
    let mut stack: Vec<Version> = Vec::new();
    for record in history {
        // Promoting the version already on top changes nothing: a rollback
        // after it goes to the version before.
        if record.action == Action::Promote && stack.last() == Some(&record.version) {
            continue;
        }
        if record.action == Action::Rollback {
            stack.pop();
            if stack.last() == Some(&record.version) {
                continue;
            }
        }
        stack.push(record.version);
    }
    stack
}

fn record_name(sequence: u64) -> String {
    format!("{sequence:010}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sequence: u64, version: u64, action: Action) -> Promotion {
        Promotion {
            format_version: RECORD_FORMAT_VERSION,
            sequence,
            alias: "latest".into(),
            version: Version(version),
            previous: None,
            action,
            at: Utc::now(),
            by: "test".into(),
            reason: None,
            token: String::new(),
        }
    }

    /// Regression (issue 12.6): a second rollback went back to the version
    /// the first one rolled back from.
    #[test]
    fn rollbacks_pop_the_promotion_stack() {
        use Action::{Promote, Rollback};
        let mut history = vec![
            record(1, 1, Promote),
            record(2, 2, Promote),
            record(3, 3, Promote),
        ];
        assert_eq!(stack(&history), [Version(1), Version(2), Version(3)]);
        history.push(record(4, 2, Rollback));
        assert_eq!(stack(&history), [Version(1), Version(2)]);
        history.push(record(5, 1, Rollback));
        assert_eq!(stack(&history), [Version(1)]);
        history.push(record(6, 3, Promote));
        assert_eq!(stack(&history), [Version(1), Version(3)]);
    }

    /// Regression (issue 27.9): `promote v2; promote v2; rollback` rolled
    /// back from v2 to v2.
    #[test]
    fn promoting_the_current_version_again_is_not_a_step() {
        use Action::Promote;
        let history = vec![
            record(1, 1, Promote),
            record(2, 2, Promote),
            record(3, 2, Promote),
        ];
        assert_eq!(stack(&history), [Version(1), Version(2)]);
        let twice = vec![record(1, 2, Promote), record(2, 2, Promote)];
        assert_eq!(stack(&twice), [Version(2)]);
    }
}
