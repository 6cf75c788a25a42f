//! What the registry's pages show, as records: a version's model report
//! (the page published with it, or for a version published without one, its
//! card's training record to render), and the overview of every version and
//! alias (`index.html` at the registry's root). The pages themselves are
//! rendered by `report`, called from the binaries and the trainer, so this
//! library depends on no rendering crate.

use std::collections::BTreeMap;

use bytes::Bytes;
use records::registry::{AliasEvent, Overview, VersionInfo, VersionRow};
use records::training::TrainingRecord;

use crate::alias::Action;
use crate::card::{Better, ModelCard};
use crate::error::{Error, Result};
use crate::registry::Registry;

pub use crate::names::{INDEX_FILE, REPORT_FILE};
/// How the pages show a time.
pub const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

/// Per metric, whether higher is better.
pub fn higher_is_better(better: &BTreeMap<String, Better>) -> BTreeMap<String, bool> {
    better
        .iter()
        .map(|(metric, b)| (metric.clone(), *b == Better::Higher))
        .collect()
}

/// What the report shows of a card beside its training record.
pub fn version_info(card: &ModelCard) -> VersionInfo {
    VersionInfo {
        name: card.name.clone(),
        version: card.version.to_string(),
        created_at: card.created_at.format(TIME).to_string(),
        created_by: card.created_by.clone(),
        params: card.params.clone(),
        metrics: card.metrics.clone(),
        higher_is_better: higher_is_better(&card.better),
    }
}

/// The training record of `version`'s card.
async fn record(
    registry: &Registry,
    version: crate::names::Version,
) -> Result<(ModelCard, TrainingRecord)> {
    let card = registry.card(version).await?;
    let record = serde_json::from_value(card.metadata.clone()).map_err(|e| Error::BadRecord {
        location: format!("{version}/{}", crate::card::CARD_FILE),
        message: format!("its metadata is not a training record the report can render ({e})"),
    })?;
    Ok((card, record))
}

/// A version's model report: the page published with it, or the card's
/// training record to render.
#[derive(Debug)]
pub enum ModelReport {
    /// The `report.html` published with the version.
    Published(String),
    /// No page was published: what the card says, to render.
    Record(Box<(VersionInfo, TrainingRecord)>),
}

/// What the registry knows of `reference` (vN or an alias) and its
/// training record.
pub async fn model_record(
    registry: &Registry,
    reference: &str,
) -> Result<(VersionInfo, TrainingRecord)> {
    let version = registry.resolve_version(reference).await?;
    let (card, record) = record(registry, version).await?;
    Ok((version_info(&card), record))
}

/// The model report of `reference` (vN or an alias).
pub async fn model_report(registry: &Registry, reference: &str) -> Result<ModelReport> {
    let version = registry.resolve_version(reference).await?;
    if let Some(bytes) = registry.file(version, REPORT_FILE).await? {
        return String::from_utf8(bytes.to_vec())
            .map(ModelReport::Published)
            .map_err(|e| Error::BadRecord {
                location: format!("{version}/{REPORT_FILE}"),
                message: e.to_string(),
            });
    }
    let (card, record) = record(registry, version).await.map_err(|e| match e {
        Error::BadRecord { location, message } => Error::BadRecord {
            location,
            message: format!("no report.html, and {message}"),
        },
        e => e,
    })?;
    Ok(ModelReport::Record(Box::new((version_info(&card), record))))
}

/// The overview of every version (a card that cannot be read is left out
/// and logged) and every alias's history.
pub async fn overview(registry: &Registry) -> Result<Overview> {
    let mut aliases = Vec::new();
    let mut current: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for alias in registry.aliases().await? {
        let records = registry.history(&alias).await?;
        if let Some(last) = records.last() {
            current
                .entry(last.version.0)
                .or_default()
                .push(alias.clone());
        }
        let events = records
            .iter()
            .map(|r| AliasEvent {
                sequence: r.sequence,
                action: match r.action {
                    Action::Promote => "promote".into(),
                    Action::Rollback => "rollback".into(),
                },
                version: r.version.to_string(),
                number: r.version.0,
                previous: r.previous.map(|p| p.to_string()),
                at: r.at.format(TIME).to_string(),
                by: r.by.clone(),
                reason: r.reason.clone(),
            })
            .collect();
        aliases.push((alias, events));
    }
    let mut versions = Vec::new();
    for (version, card) in registry.catalogue().await? {
        let card = match card {
            Ok(card) => card,
            Err(e) => {
                log::warn!("overview: leaving {version} out: {e}");
                continue;
            }
        };
        let algorithm = card
            .metadata
            .get("algorithm")
            .and_then(|a| a.as_str())
            .map(str::to_string);
        versions.push(VersionRow {
            version: version.to_string(),
            number: version.0,
            name: card.name.clone(),
            algorithm,
            created: format!(
                "{} by {}",
                card.created_at.format("%Y-%m-%d %H:%M"),
                card.created_by
            ),
            metrics: card
                .metrics
                .iter()
                .filter(|(m, _)| !m.starts_with("baseline_"))
                .map(|(m, v)| (m.clone(), *v))
                .collect(),
            higher_is_better: higher_is_better(&card.better),
            aliases: current.remove(&version.0).unwrap_or_default(),
            report: Some(match card.file(REPORT_FILE) {
                Some(_) => format!("versioned/{version}/{REPORT_FILE}"),
                None => format!("versioned/{version}/{}", crate::card::CARD_FILE),
            }),
        });
    }
    Ok(Overview {
        registry: registry.root().to_string(),
        versions,
        aliases,
    })
}

impl Registry {
    /// Writes `render`'s page of the overview to `index.html` at the
    /// registry's root (after a publish or a promotion; a derived page,
    /// rebuilt whole each time, so two writers racing leave one complete
    /// page). `render` is `report::registry::html` in Cauce's binaries.
    pub async fn write_index<E: std::fmt::Display>(
        &self,
        render: impl FnOnce(&Overview) -> std::result::Result<String, E>,
    ) -> Result<()> {
        let page = render(&overview(self).await?).map_err(|e| Error::BadRecord {
            location: INDEX_FILE.into(),
            message: e.to_string(),
        })?;
        self.root().join(INDEX_FILE)?.put(Bytes::from(page)).await?;
        Ok(())
    }
}
