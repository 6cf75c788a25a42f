//! Putting a trained model into the registry: the version (artifact, model
//! report, card with the training record), its promotion per the policy,
//! and the registry's overview page.

use bytes::Bytes;
use model_registry::{CardInput, GateDecision, ModelCard, Promotion, Registry, Version};
use report::model::VersionInfo;
use report::training::TrainingRecord;

use crate::config::{Promote, TrainConfig};
use crate::error::{Error, Result};
use crate::train::{ARTIFACT_FILE, REPORT_FILE, TrainOptions, default_metric, headline};

/// Publishes the next version: the artifact, the model report rendered for
/// that version, then the card (which makes it visible).
pub async fn publish(
    registry: &Registry,
    card: CardInput,
    record: &TrainingRecord,
    artifact: Vec<u8>,
) -> Result<ModelCard> {
    let mut pending = registry.begin().await?;
    pending
        .add_file(ARTIFACT_FILE, Bytes::from(artifact))
        .await?;
    let page = report::model::html(
        &VersionInfo {
            name: card.name.clone(),
            version: pending.version().to_string(),
            created_at: chrono::Utc::now().format(model_registry::TIME).to_string(),
            created_by: model_registry::actor(),
            params: card.params.clone(),
            metrics: card.metrics.clone(),
            higher_is_better: model_registry::higher_is_better(&card.better),
        },
        record,
    )
    .map_err(|e| Error::Data {
        location: REPORT_FILE.into(),
        message: e.to_string(),
    })?;
    pending.add_file(REPORT_FILE, Bytes::from(page)).await?;
    Ok(pending.commit(card).await?)
}

/// Promotes `version` per the policy (flags over config): the record
/// written, and the gate's decision with `if_better`.
pub async fn promote(
    registry: &Registry,
    config: &TrainConfig,
    options: &TrainOptions,
    version: Version,
    record: &TrainingRecord,
) -> Result<(Option<Promotion>, Option<GateDecision>)> {
    let alias = config
        .registry
        .alias
        .clone()
        .unwrap_or_else(|| model_registry::LATEST.to_string());
    Ok(match options.promote.unwrap_or(config.registry.promote) {
        Promote::Never => (None, None),
        Promote::Always => {
            let reason = Some(format!(
                "trained by trainer ({})",
                headline(&record.evaluation)
            ));
            (Some(registry.promote(version, &alias, reason).await?), None)
        }
        Promote::IfBetter => {
            let metric = options
                .metric
                .clone()
                .or_else(|| config.registry.metric.clone())
                .unwrap_or_else(|| default_metric(config.model.task).to_string());
            let decision = registry
                .promote_if_better(version, &alias, &metric, None)
                .await?;
            (decision.promoted.clone(), Some(decision))
        }
    })
}

/// Rewrites the registry's overview; a failure is logged (the version is
/// published either way).
pub async fn refresh_index(registry: &Registry) {
    if let Err(e) = registry.write_index().await {
        log::warn!(
            "could not rewrite the registry's {}: {e}",
            model_registry::INDEX_FILE
        );
    }
}
