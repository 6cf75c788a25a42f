//! Putting a trained model into the registry: the version (artifact, model
//! report, card with the training record), its promotion per the policy,
//! and the registry's overview page.

use bytes::Bytes;
use model_registry::{CardInput, GateDecision, ModelCard, Promotion, Registry, Version};
use records::registry::VersionInfo;
use records::training::TrainingRecord;

use crate::config::{ARTIFACT_FILE, Promote, REPORT_FILE, TrainConfig, TrainOptions};
use crate::error::{Error, Result};
use crate::evaluate::headline;
use crate::metrics::default_metric;

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

/// The alias the policy promotes to.
fn alias(config: &TrainConfig) -> String {
    config
        .registry
        .alias
        .clone()
        .unwrap_or_else(|| model_registry::LATEST.to_string())
}

/// The metric `if_better` compares.
fn gate_metric(config: &TrainConfig, options: &TrainOptions) -> String {
    options
        .metric
        .clone()
        .or_else(|| config.registry.metric.clone())
        .unwrap_or_else(|| default_metric(config.model.task).to_string())
}

/// Checks, before anything is published, that the promotion the policy
/// asks for can happen: the alias serves the same model (name and task)
/// unless `force`, and with `if_better` both this model (`metrics`) and the
/// alias's version have the metric compared.
pub async fn check_promotion(
    registry: &Registry,
    config: &TrainConfig,
    options: &TrainOptions,
    metrics: &std::collections::BTreeMap<String, f64>,
) -> Result<()> {
    let policy = options.promote.unwrap_or(config.registry.promote);
    if !options.register || policy == Promote::Never {
        return Ok(());
    }
    let alias = alias(config);
    let refuse = |message: String| Error::Promotion {
        registry: registry.root().to_string(),
        message,
    };
    let metric = gate_metric(config, options);
    if policy == Promote::IfBetter && !metrics.contains_key(&metric) {
        return Err(refuse(format!(
            "--promote-if-better {metric}: this model reports no '{metric}' (it has: {})",
            metrics.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let Some(current) = registry.current(&alias).await? else {
        return Ok(());
    };
    let card = match registry.card(current.version).await {
        Ok(card) => card,
        // Promoting unconditionally replaces a version that cannot be read.
        Err(_) if policy == Promote::Always => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let task = card.metadata.get("task").and_then(|t| t.as_str());
    let ours = config.model.task.name();
    let same = card.name == config.model.name && task.is_none_or(|t| t == ours);
    if !same && !options.force {
        return Err(refuse(format!(
            "'{alias}' serves {} of model '{}' ({}), not '{}' ({ours}); promote into another alias (registry.alias) or pass --force",
            current.version,
            card.name,
            task.unwrap_or("task unknown"),
            config.model.name
        )));
    }
    if policy == Promote::IfBetter && !card.metrics.contains_key(&metric) {
        return Err(refuse(format!(
            "'{alias}' serves {}, which has no metric '{metric}' to compare with (it has: {}); pick one of those with --promote-if-better",
            current.version,
            card.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
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
    let alias = alias(config);
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
            let metric = gate_metric(config, options);
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
    if let Err(e) = registry.write_index(report::registry::html).await {
        log::warn!(
            "could not rewrite the registry's {}: {e}",
            model_registry::INDEX_FILE
        );
    }
}
