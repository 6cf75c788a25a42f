//! One training run: read the ETL splits, fit, evaluate against a baseline,
//! build the artifact and card, register and (optionally) promote.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::{filter_record_batch, is_not_null};
use model::{Model, ModelParams};
use model_registry::{CardInput, GateDecision, Promotion, Registry, Version};
use records::training::{ArtifactInfo, DataLineage, LossHistory, TrainingRecord};
use serde::Serialize;

use crate::config::{ARTIFACT_FILE, TrainConfig, TrainOptions};
use crate::data;
use crate::error::{Error, Result};
use crate::evaluate::{Evaluation, evaluate_with_curves, headline};
use crate::search::SearchReport;

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Model name.
    pub name: String,
    /// Algorithm.
    pub algorithm: String,
    /// Registered version, unless `--no-register`.
    pub version: Option<Version>,
    /// The promotion written, if any.
    pub promoted: Option<Promotion>,
    /// The quality gate's decision, with `if_better`.
    pub gate: Option<GateDecision>,
    /// Test metrics and baseline.
    pub evaluation: Evaluation,
    /// Metrics as recorded in the card.
    pub metrics: BTreeMap<String, f64>,
    /// SHA-256 of the artifact.
    pub artifact_sha256: String,
    /// Artifact size.
    pub artifact_bytes: usize,
    /// Rows used: train, test, and rows dropped for a null target.
    pub rows: BTreeMap<String, u64>,
    /// Fit time in seconds (the final fit; the search's time is in `search_seconds`).
    pub fit_seconds: f64,
    /// Seconds the evaluation on the train and test splits took.
    pub evaluate_seconds: f64,
    /// Impurity-based feature importances of tree models, largest first.
    pub feature_importances: Option<Vec<(String, f64)>>,
    /// What fitting recorded beyond the model: a booster's loss per round
    /// and the round kept (`best_iteration`).
    pub training: Option<LossHistory>,
    /// The hyperparameter search, when configured.
    pub search: Option<SearchReport>,
    /// Search time in seconds.
    pub search_seconds: f64,
}

impl TrainReport {
    /// Two lines for a terminal: the test metrics, and what happened in the registry.
    pub fn summary(&self) -> String {
        let registry = match (&self.version, &self.promoted, &self.gate) {
            (None, _, _) => "not registered (--no-register)".to_string(),
            (Some(v), Some(p), _) => format!(
                "registered {v}; promoted to {} (record {})",
                p.alias, p.sequence
            ),
            (Some(v), None, Some(g)) => match g.current {
                Some((current, value)) => format!(
                    "registered {v}; not promoted: {} {} does not beat {current}'s {value}",
                    g.metric, g.candidate.1
                ),
                None => format!("registered {v}; not promoted"),
            },
            (Some(v), None, None) => format!("registered {v} (not promoted)"),
        };
        format!(
            "{} {}: test {}\n{registry}",
            self.name,
            self.algorithm,
            headline(&self.evaluation)
        )
    }
}

/// Trains, evaluates and (unless told not to) registers a model.
pub async fn train(config: &TrainConfig, options: &TrainOptions) -> Result<TrainReport> {
    let dataset = data::load(&options.data).await?;
    let (train, test, dropped) = labelled_splits(config, &dataset)?;
    let features = crate::features::resolve(config, &train)?;
    let mut params = ModelParams {
        name: config.model.name.clone(),
        task: config.model.task,
        target: config.model.target.clone(),
        features,
        estimator: config.estimator()?,
        seed: config.model.seed,
    };
    let search_started = Instant::now();
    let search = search(config, &mut params, &train).await?;
    let search_seconds = search_started.elapsed().as_secs_f64();
    // The card shows the values used, not "default".
    params.estimator = params
        .estimator
        .clone()
        .with_task_defaults(config.model.task);
    let estimator = params.estimator.clone();
    let started = Instant::now();
    let model = fit(params, &dataset, &train).await?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let evaluating = Instant::now();
    let (evaluation, curves) = evaluate_with_curves(&model, &train, &test)?;
    let evaluate_seconds = evaluating.elapsed().as_secs_f64();
    let mut metrics: BTreeMap<String, f64> = evaluation.card_metrics().into_iter().collect();
    if let Some(search) = &search {
        let best = &search.candidates[search.best];
        metrics.insert(format!("cv_{}", search.metric), best.mean);
        metrics.insert(format!("cv_{}_std", search.metric), best.std);
    }
    let artifact = model.to_bytes()?;
    let rows: BTreeMap<String, u64> = [
        ("train".to_string(), train.num_rows() as u64),
        ("test".to_string(), test.num_rows() as u64),
        ("dropped_null_target".to_string(), dropped as u64),
        ("unscored".to_string(), evaluation.unscored()),
    ]
    .into();
    log::info!(
        "fitted in {fit_seconds:.2} s, evaluated in {evaluate_seconds:.2} s; test {}",
        headline(&evaluation)
    );
    let mut report = TrainReport {
        name: config.model.name.clone(),
        algorithm: estimator.name().to_string(),
        version: None,
        promoted: None,
        gate: None,
        evaluation,
        metrics,
        artifact_sha256: common::checksum::sha256_hex(&artifact),
        artifact_bytes: artifact.len(),
        rows,
        fit_seconds,
        evaluate_seconds,
        feature_importances: model.feature_importances(),
        training: model.estimator.training_history(),
        search,
        search_seconds,
    };
    if !options.register {
        return Ok(report);
    }
    let record = training_record(config, &dataset, &model, &report, curves, &train)?;
    let card = CardInput {
        name: config.model.name.clone(),
        better: report
            .metrics
            .keys()
            .filter_map(|m| Some((m.clone(), crate::metrics::better(m)?)))
            .collect(),
        metrics: report.metrics.clone(),
        params: json(&estimator),
        metadata: json(&record),
    };
    let registry = Registry::at(options.registry.clone());
    crate::register::check_promotion(&registry, config, options, &card.metrics).await?;
    let published = crate::register::publish(&registry, card, &record, artifact).await?;
    log::info!("registered {} in {}", published.version, options.registry);
    report.version = Some(published.version);
    (report.promoted, report.gate) =
        crate::register::promote(&registry, config, options, published.version, &record).await?;
    crate::register::refresh_index(&registry).await;
    Ok(report)
}

/// The training and test splits without rows whose target is null (and how
/// many were dropped), after checking the target column.
fn labelled_splits(
    config: &TrainConfig,
    dataset: &data::Dataset,
) -> Result<(RecordBatch, RecordBatch, usize)> {
    let target = &config.model.target;
    crate::features::check_target(config, &dataset.train.schema(), &dataset.manifest_location)?;
    let (train, dropped_train) = drop_null_target(&dataset.train, target)?;
    let (test, dropped_test) = drop_null_target(&dataset.test, target)?;
    if dropped_train + dropped_test > 0 {
        log::warn!(
            "dropped {} row(s) with a null target '{target}'",
            dropped_train + dropped_test
        );
    }
    if config.model.task == model::Task::Classification {
        crate::features::warn_about_classes(config, &train);
    }
    Ok((train, test, dropped_train + dropped_test))
}

/// Runs the configured search, if any, on rayon and sets `params` to its
/// best candidate.
async fn search(
    config: &TrainConfig,
    params: &mut ModelParams,
    train: &RecordBatch,
) -> Result<Option<crate::search::SearchReport>> {
    let Some(search) = &config.model.search else {
        return Ok(None);
    };
    let (search_config, base, config_params, rows) = (
        search.clone(),
        params.clone(),
        config.model.params.clone(),
        train.clone(),
    );
    let (report, best) = common::cpu::run("searching", move || {
        crate::search::run(&search_config, &base, &config_params, &rows)
    })
    .await
    .map_err(|e| Error::Data {
        location: "search".into(),
        message: e.to_string(),
    })??;
    params.estimator = best;
    Ok(Some(report))
}

/// Fits `params` on `train` on rayon (with the validation split for early
/// stopping when the estimator uses one).
async fn fit(params: ModelParams, dataset: &data::Dataset, train: &RecordBatch) -> Result<Model> {
    log::info!(
        "fitting {} on {} rows × {} columns (seed {})",
        params.estimator.name(),
        train.num_rows(),
        params.features.numeric.len()
            + params.features.categorical.len()
            + params.features.passthrough.len(),
        params.seed
    );
    let validation = if params.estimator.uses_validation() {
        dataset.validation().await?
    } else {
        None
    };
    if let Some(rows) = &validation {
        log::info!(
            "early stopping on the validation split ({} rows)",
            rows.num_rows()
        );
    }
    let fit_train = train.clone();
    common::cpu::run("fitting", move || {
        params.fit_with(&fit_train, validation.as_ref())
    })
    .await
    .map_err(|e| Error::Data {
        location: "training".into(),
        message: e.to_string(),
    })?
    .map_err(Error::from)
}

/// The training record the card holds: what was trained on what, how it
/// did, and what inference needs to replay (cleaning, transform, profile).
fn training_record(
    config: &TrainConfig,
    dataset: &data::Dataset,
    model: &Model,
    report: &TrainReport,
    curves: Option<records::curves::Curves>,
    train: &RecordBatch,
) -> Result<TrainingRecord> {
    Ok(TrainingRecord {
        task: config.model.task,
        algorithm: report.algorithm.clone(),
        target: config.model.target.clone(),
        classes: model.classes.clone(),
        inputs: model.inputs(),
        feature_names: model.features.feature_names(),
        preprocessing: (&config.model.preprocessing).into(),
        cleaning: dataset.cleaning.as_ref().map(|c| {
            // With a transform, inference cleans the columns the SQL reads
            // (etl's cleaned columns), not the model's inputs it computes.
            let columns: Vec<String> = match &dataset.transform {
                Some(t) => t.columns_before.iter().map(|c| c.name.clone()).collect(),
                None => model.inputs().into_iter().map(|i| i.name).collect(),
            };
            c.for_columns(&columns)
        }),
        transform: dataset.transform.clone(),
        data: DataLineage {
            manifest: dataset.manifest_location.clone(),
            manifest_sha256: dataset.manifest_sha256.clone(),
            etl_run_id: dataset.run_id.clone(),
        },
        config_sha256: config.fingerprint(),
        seed: config.model.seed,
        rows: report.rows.clone(),
        fit_seconds: report.fit_seconds,
        evaluate_seconds: report.evaluate_seconds,
        evaluation: report.evaluation.clone(),
        search: report.search.clone(),
        feature_importances: report.feature_importances.clone(),
        training: report.training.clone(),
        curves,
        profile: Some(training_profile(model, train, dataset.profile.as_ref())?),
        artifact: ArtifactInfo {
            file: ARTIFACT_FILE.to_string(),
            format_version: model::artifact::FORMAT_VERSION,
            sha256: report.artifact_sha256.clone(),
        },
    })
}

/// The training split's input columns, profiled.
fn training_profile(
    model: &Model,
    train: &RecordBatch,
    etl: Option<&records::profile::Profile>,
) -> Result<records::profile::Profile> {
    let inputs: Vec<String> = model.inputs().into_iter().map(|i| i.name).collect();
    if let Some(profile) = etl.and_then(|p| p.of_columns(&inputs, train.num_rows() as u64)) {
        log::debug!("the card's profile is etl's profile of the training split");
        return Ok(profile);
    }
    records::profile::Profile::of(train, &inputs).map_err(|e| Error::Data {
        location: "training split".into(),
        message: e.to_string(),
    })
}

/// A value as JSON (the record's untyped parts: schemas and settings that
/// other crates own). Serialising these plain structs cannot fail.
fn json(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn drop_null_target(batch: &RecordBatch, target: &str) -> Result<(RecordBatch, usize)> {
    let Some(column) = batch.column_by_name(target) else {
        return Err(Error::Data {
            location: "training data".into(),
            message: format!("no target column '{target}'"),
        });
    };
    if column.null_count() == 0 {
        return Ok((batch.clone(), 0));
    }
    let keep: BooleanArray = is_not_null(column).map_err(model::Error::from)?;
    let kept = filter_record_batch(batch, &keep).map_err(model::Error::from)?;
    let dropped = batch.num_rows() - kept.num_rows();
    Ok((kept, dropped))
}
