//! One scoring run: resolve the model (checksums verified), select this
//! shard's share of the input, check every file's schema before the first
//! prediction, stream batches through the model on both cores, write one
//! Parquet part per input file under a fresh run folder, and publish the
//! shard's manifest last. A failed run deletes its folder and leaves the
//! previous manifest intact.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use chrono::Utc;
use common::lifecycle::{Guarded, RunKind, Runs, check_output};
use common::storage::{
    Compression, FileFormat, InputFile, Location, ParquetSink, ParquetSource, Selection, StoredFile,
};
use futures::StreamExt;
use model::Model;
use model_registry::Registry;
use records::drift::{Counter, Drift, Level};
use records::profile::Profile;
use report::prediction::RunInfo;

use ingest::clean::Cleaning;
use records::training::TrainingRecord;

use crate::config::{CleaningSource, InferenceConfig, OnError, PipelineConfig, Shard};
use crate::error::{Error, Result};
use crate::predict::{output_schema, predict};
use crate::replay::Replay;
pub use records::prediction::{
    AppliedCleaning, FORMAT_VERSION, InputRecord, InputSet, Manifest, ModelRecord, OutputFile, Rows,
};

/// Where to read, write and which model.
///
/// Built from the config and flags ([`RunOptions::resolve`]) or by an
/// embedder from locations it made itself, with its own object store
/// ([`RunOptions::new`] and the `with_*` setters).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Input file, glob or prefix.
    pub input: Selection,
    /// Output location.
    pub output: Location,
    /// Registry location.
    pub registry: Location,
    /// `latest`, `vN`, an alias, or an artifact path.
    pub model: String,
    /// This process's shard.
    pub shard: Shard,
}

impl RunOptions {
    /// Scores `input` into `output` with the version `latest` of the
    /// registry at `registry`, as one shard.
    pub fn new(input: impl Into<Selection>, output: Location, registry: Location) -> Self {
        Self {
            input: input.into(),
            output,
            registry,
            model: "latest".to_string(),
            shard: Shard::default(),
        }
    }

    /// Which model: `latest`, `vN`, an alias, or an artifact path.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Score only this shard of the input.
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Flags over config over `storage` defaults.
    pub fn resolve(
        config: &PipelineConfig,
        input: Option<String>,
        output: Option<String>,
        registry: Option<String>,
        model: Option<String>,
        shard: Option<Shard>,
    ) -> Result<Self> {
        let section = &config.inference;
        let input = input
            .or_else(|| section.input.clone())
            .unwrap_or_else(|| config.storage.raw.clone());
        let output = output
            .or_else(|| section.output.clone())
            .unwrap_or_else(|| config.storage.predictions.clone());
        let registry = registry.unwrap_or_else(|| config.storage.models.clone());
        Ok(Self::new(
            Selection::parse(&input)?,
            Location::parse(&output)?,
            Location::parse(&registry)?,
        )
        .with_model(model.unwrap_or_else(|| section.model.clone()))
        .with_shard(shard.unwrap_or_default()))
    }

    /// Refuses an output that overlaps the input or the registry, or is `/`
    /// or the home folder (see [`common::lifecycle::check_output`]).
    pub fn check_output(&self) -> Result<()> {
        check_output(
            &self.output,
            &[
                Guarded::Input(&self.input),
                Guarded::Registry(&self.registry),
            ],
        )?;
        Ok(())
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct InferenceReport {
    /// The output root.
    pub output: String,
    /// Where the manifest is.
    pub manifest_location: String,
    /// The manifest.
    pub manifest: Manifest,
}

impl InferenceReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        let m = &self.manifest;
        format!(
            "{} rows → {} predicted, {} errored, {} quarantined with {} {} ({})",
            m.rows.input,
            m.rows.predicted,
            m.rows.errored,
            m.rows.quarantined,
            m.model.name,
            m.model.version.as_deref().unwrap_or(&m.model.reference),
            self.manifest_location
        )
    }
}

/// Loads the model: from the registry (every checksum verified) or from an artifact path.
pub async fn load_model(reference: &str, registry: &Location) -> Result<(Model, ModelRecord)> {
    let artifact_path = reference.contains('/') || reference.ends_with(".bin");
    if artifact_path {
        let location = Location::parse(reference)?;
        let bytes = location.get().await?;
        let model = Model::from_bytes(&bytes).map_err(|source| Error::Artifact {
            location: location.to_string(),
            source,
        })?;
        let record = ModelRecord {
            reference: reference.to_string(),
            version: None,
            name: model.name.clone(),
            card_sha256: None,
            artifact_sha256: common::checksum::sha256_hex(&bytes),
            cleaning: None,
            transform: None,
            test_predicted_shares: Default::default(),
            profile: None,
        };
        return Ok((model, record));
    }
    let registry = Registry::at(registry.clone());
    let resolved = registry.resolve(reference).await?;
    let bytes = resolved
        .files
        .get(model::artifact::FILE_NAME)
        .ok_or_else(|| Error::Config {
            key: "--model".into(),
            message: format!(
                "{} has no {} file",
                resolved.card.version,
                model::artifact::FILE_NAME
            ),
        })?;
    let model = Model::from_bytes(bytes).map_err(|source| {
        let location = registry
            .version_dir(resolved.card.version)
            .and_then(|dir| Ok(dir.join(model::artifact::FILE_NAME)?));
        Error::Artifact {
            location: location.map_or_else(|e| e.to_string(), |l| l.to_string()),
            source,
        }
    })?;
    let training = card_record(&resolved.card)?;
    let record = ModelRecord {
        reference: reference.to_string(),
        version: Some(resolved.card.version.to_string()),
        name: resolved.card.name.clone(),
        card_sha256: Some(resolved.card_sha256.clone()),
        artifact_sha256: common::checksum::sha256_hex(bytes),
        cleaning: training.as_ref().and_then(|r| r.cleaning.clone()),
        transform: training.as_ref().and_then(|r| r.transform.clone()),
        test_predicted_shares: training
            .as_ref()
            .map(TrainingRecord::test_predicted_shares)
            .unwrap_or_default(),
        profile: training.and_then(|r| r.profile).map(Arc::new),
    };
    Ok((model, record))
}

/// The training record in `card`'s metadata, typed: where inference finds
/// the cleaning to replay and the profile to measure drift against. A card
/// published by hand may carry other metadata: then there is none (and the
/// config's cleaning applies). A record whose cleaning is there but does not
/// decode is an error, never a silent fallback to another cleaning.
fn card_record(card: &model_registry::ModelCard) -> Result<Option<TrainingRecord>> {
    match serde_json::from_value::<TrainingRecord>(card.metadata.clone()) {
        Ok(record) => Ok(Some(record)),
        Err(e) if card.metadata.get("cleaning").is_some_and(|c| !c.is_null()) => {
            Err(Error::Config {
                key: format!("{} model card: metadata", card.version),
                message: format!("not a readable training record: {e}"),
            })
        }
        Err(e) => {
            log::warn!(
                "{} model card: metadata is not a training record ({e}); no recorded cleaning, drift is not measured",
                card.version
            );
            Ok(None)
        }
    }
}

/// The cleaning to apply: the model card's unless the config says
/// otherwise (or the model has none).
pub(crate) fn applied_cleaning(config: &InferenceConfig, record: &ModelRecord) -> AppliedCleaning {
    match (&config.cleaning, &record.cleaning) {
        (CleaningSource::Model, Some(cleaning)) => AppliedCleaning {
            source: "model card".into(),
            cleaning: cleaning.clone(),
        },
        (source, _) => {
            if *source == CleaningSource::Model {
                log::warn!(
                    "the model records no cleaning (an artifact path or an older card): text inputs are cleaned with inference's own csv, trim and null_tokens"
                );
            }
            AppliedCleaning {
                source: "config".into(),
                cleaning: Cleaning {
                    csv: config.csv.clone(),
                    null_tokens: config.null_tokens.clone(),
                    trim: config.trim,
                    ..Cleaning::default()
                },
            }
        }
    }
}

/// A unit of work: one file, or some row groups of one Parquet file.
struct Unit {
    index: usize,
    file: InputFile,
    format: FileFormat,
    compression: Compression,
    row_groups: Option<Vec<usize>>,
}

async fn units(
    config: &InferenceConfig,
    input: &Selection,
    shard: Shard,
) -> Result<(Vec<Unit>, InputSet)> {
    let mut files = Vec::new();
    for file in input.files().await? {
        let name = file.location.file_name().to_string();
        let (format, compression) = match (config.format, FileFormat::from_name(&name)) {
            (Some(format), detected) => (
                format,
                detected.map_or(Compression::from_name(&name), |d| d.1),
            ),
            (None, Some(found)) => found,
            (None, None) => {
                log::warn!(
                    "skipping {}: not a .csv, .parquet or .ndjson file",
                    file.location
                );
                continue;
            }
        };
        files.push((file, format, compression));
    }
    if files.is_empty() {
        return Err(Error::Config {
            key: "input".into(),
            message: format!("{input}: no CSV, Parquet or NDJSON files"),
        });
    }
    let listed: String = files
        .iter()
        .map(|(f, _, _)| format!("{}\t{}\n", f.location, f.size))
        .collect();
    let mut set = InputSet {
        units: files.len(),
        sha256: common::checksum::sha256_hex(listed.as_bytes()),
    };
    // One big Parquet file is split by row group; otherwise whole files are dealt out.
    if files.len() == 1 && files[0].1 == FileFormat::Parquet && shard.count > 1 {
        let (file, format, compression) = files.remove(0);
        let groups = ParquetSource::open(&file.location).await?.num_row_groups();
        let mine: Vec<usize> = (0..groups).filter(|g| shard.owns(*g)).collect();
        set.units = groups;
        let unit = Unit {
            index: 0,
            file,
            format,
            compression,
            row_groups: Some(mine),
        };
        return Ok((vec![unit], set));
    }
    let units = files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shard.owns(*i))
        .map(|(index, (file, format, compression))| Unit {
            index,
            file,
            format,
            compression,
            row_groups: None,
        })
        .collect();
    Ok((units, set))
}

/// Scores this shard's input and publishes its manifest.
pub async fn run(config: &InferenceConfig, options: &RunOptions) -> Result<InferenceReport> {
    let started = Utc::now();
    let clock = Instant::now();
    options.check_output()?;
    let (model, record) = load_model(&options.model, &options.registry).await?;
    let applied = applied_cleaning(config, &record);
    crate::input::check_csv(&applied.cleaning.csv)?;
    let label = record
        .version
        .clone()
        .unwrap_or_else(|| record.reference.clone());
    log::info!(
        "model {} ({label}), shard {}/{}",
        record.name,
        options.shard.index,
        options.shard.count
    );
    let output = options.output.clone();
    let (units, input_set) = units(config, &options.input, options.shard).await?;
    let runs = Runs::new(&output, RunKind::Shard(options.shard), config.keep_runs)?;
    let manifest_location = runs.manifest()?;
    let run = runs.start().await?;
    let (run_id, run_root) = (run.id().to_string(), run.root().clone());
    let keep: Vec<String> = model
        .inputs()
        .into_iter()
        .map(|c| c.name)
        .chain(config.passthrough.iter().cloned())
        .collect();
    let replay = Replay::for_model(config, &record, &keep)
        .await?
        .map(Arc::new);
    let model = Arc::new(model);
    let scoring = Scoring {
        config,
        cleaning: &applied.cleaning,
        model: &model,
        label: &label,
        run_root: &run_root,
        replay: replay.as_ref(),
    };
    let work = async {
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let mut quarantine = Vec::new();
        let mut rows = Rows::default();
        let mut classes = BTreeMap::new();
        let profile = record.profile.clone();
        let mut counter = profile.as_deref().map(Counter::new);
        for unit in &units {
            let (input, written, quarantined) = score(
                unit,
                &scoring,
                (&mut rows, &mut classes),
                (profile.as_ref(), counter.as_mut()),
            )
            .await?;
            inputs.push(input);
            outputs.push(written.relative_to(&output));
            quarantine.extend(quarantined.map(|q| q.relative_to(&output)));
        }
        let seconds = clock.elapsed().as_secs_f64();
        let drift = match (&profile, &counter) {
            (Some(profile), Some(counter)) => Some(counter.finish(profile, config.drift)),
            _ => None,
        };
        if let Some(drift) = &drift {
            check_drift(drift, config)?;
        }
        let test_predicted_shares = record.test_predicted_shares.clone();
        let mut manifest = Manifest {
            format_version: FORMAT_VERSION,
            run_id: run_id.clone(),
            model: record,
            shard: options.shard,
            inputs,
            outputs,
            quarantine,
            cleaning: Some(applied.clone()),
            transform: replay.as_ref().map(|r| r.applied().clone()),
            rows,
            drift,
            report: None,
            started,
            finished: Utc::now(),
            seconds,
            rows_per_second: rows.input as f64 / seconds.max(1e-9),
            input_set: options.shard.is_sharded().then_some(input_set),
            shards: None,
            predicted_classes: classes,
            test_predicted_shares,
        };
        manifest.report = Some(write_report(&manifest, &run_root, &output).await?);
        Ok::<_, Error>(manifest)
    };
    let manifest = run.complete(work).await?;
    let rows = manifest.rows;
    log::info!(
        "{} rows → {} predicted, {} errored, {} quarantined ({:.0} rows/s) → {manifest_location}",
        rows.input,
        rows.predicted,
        rows.errored,
        rows.quarantined,
        manifest.rows_per_second
    );
    Ok(InferenceReport {
        output: output.to_string(),
        manifest_location: manifest_location.to_string(),
        manifest,
    })
}

/// Adds a scored batch's predicted labels (rows without an error) to
/// `classes`.
fn count_classes(
    batch: &arrow::array::RecordBatch,
    label: &str,
    classes: &mut BTreeMap<String, u64>,
) -> Result<()> {
    use arrow::array::{Array, AsArray};
    let Some(column) = batch.column_by_name(label) else {
        return Ok(());
    };
    let errors = batch.column(batch.num_columns() - 1);
    let text = arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8)
        .map_err(|e| Error::Internal(format!("counting the predicted classes: {e}")))?;
    for (i, value) in text.as_string::<i32>().iter().enumerate() {
        if let Some(value) = value
            && errors.is_null(i)
        {
            // A few classes, many rows: allocate a key once per class.
            match classes.get_mut(value) {
                Some(n) => *n += 1,
                None => {
                    classes.insert(value.to_string(), 1);
                }
            }
        }
    }
    Ok(())
}

/// Fails the run when drift reached the fail level; logs it otherwise.
fn check_drift(drift: &Drift, config: &InferenceConfig) -> Result<()> {
    if drift.level == Level::Fail {
        return Err(Error::Drift {
            fail: config.drift.fail.unwrap_or_default(),
            columns: drift.at_least(Level::Fail),
        });
    }
    let drifted = drift.at_least(Level::Warn);
    if drifted.is_empty() {
        log::info!("drift: every input column within PSI {}", config.drift.warn);
    } else {
        log::warn!(
            "input drift (PSI ≥ {}) in {}",
            config.drift.warn,
            drifted.join(", ")
        );
    }
    Ok(())
}

/// Writes the run's report into its folder (published with the manifest).
pub(crate) async fn write_report(
    manifest: &Manifest,
    run_root: &Location,
    output: &Location,
) -> Result<StoredFile> {
    let predicted: u64 = manifest.predicted_classes.values().sum();
    let mut labels: Vec<&String> = manifest
        .predicted_classes
        .keys()
        .chain(manifest.test_predicted_shares.keys())
        .collect();
    labels.sort();
    labels.dedup();
    let classes = labels
        .into_iter()
        .map(|label| {
            let run = manifest.predicted_classes.get(label).copied().unwrap_or(0);
            let test = manifest
                .test_predicted_shares
                .get(label)
                .copied()
                .unwrap_or(0.0);
            (label.clone(), run as f64 / predicted.max(1) as f64, test)
        })
        .collect();
    let info = RunInfo {
        run_id: manifest.run_id.clone(),
        model: manifest.model.name.clone(),
        version: manifest
            .model
            .version
            .clone()
            .unwrap_or_else(|| manifest.model.reference.clone()),
        started: manifest.started.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        seconds: manifest.seconds,
        rows: vec![
            ("input".into(), manifest.rows.input),
            ("predicted".into(), manifest.rows.predicted),
            ("errored".into(), manifest.rows.errored),
            ("quarantined".into(), manifest.rows.quarantined),
        ],
        classes,
    };
    let page = report::prediction::html(&info, manifest.drift.as_ref())
        .map_err(|e| Error::Internal(format!("rendering the run's report: {e}")))?;
    let location = run_root.join(REPORT_FILE)?;
    let written = common::storage::WrittenFile::put(&location, bytes::Bytes::from(page)).await?;
    Ok(written.relative_to(output))
}

/// File name of a run's report inside its folder.
pub const REPORT_FILE: &str = "report.html";

/// Drift counting for [`score`]: the training profile and the run's counts.
type DriftCounting<'a> = (Option<&'a Arc<Profile>>, Option<&'a mut Counter>);

/// What every unit of a run is scored with.
struct Scoring<'a> {
    config: &'a InferenceConfig,
    cleaning: &'a Cleaning,
    model: &'a Arc<Model>,
    label: &'a str,
    run_root: &'a Location,
    /// The model's transform, replayed after the cleaning.
    replay: Option<&'a Arc<Replay>>,
}

async fn score(
    unit: &Unit,
    scoring: &Scoring<'_>,
    tallies: (&mut Rows, &mut BTreeMap<String, u64>),
    (profile, mut counter): DriftCounting<'_>,
) -> Result<(
    InputRecord,
    common::storage::WrittenFile,
    Option<common::storage::WrittenFile>,
)> {
    let config = scoring.config;
    let (name, out_schema, stream) = open_unit(unit, scoring).await?;
    let mut writer = UnitWriter {
        sink: ParquetSink::create(
            &scoring
                .run_root
                .join(&format!("part-{:05}.parquet", unit.index))?,
            out_schema,
            &config.parquet,
        )?,
        quarantine: None,
        quarantine_path: scoring
            .run_root
            .join(&format!("quarantine/part-{:05}.parquet", unit.index))?,
    };
    let workers = rayon::current_num_threads() + 1;
    let mut scored = stream
        .map(|pending| score_batch(pending, scoring, profile.cloned()))
        .buffered(workers);
    let mut read = 0u64;
    let (rows, classes) = tallies;
    while let Some(batch) = scored.next().await {
        let (input, batch, counts) = match batch {
            Ok(scored) => scored,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        };
        if let (Some(counter), Some(counts)) = (counter.as_deref_mut(), &counts) {
            counter.merge(counts);
        }
        read += batch.num_rows() as u64;
        tally(&batch, scoring, rows, classes)?;
        writer.write(&input, &batch, config).await?;
    }
    let (written, quarantined) = writer.finish().await?;
    log::info!("{name}: {read} rows scored");
    Ok((
        InputRecord {
            location: name,
            size: unit.file.size,
            row_groups: unit.row_groups.clone(),
            rows: read,
        },
        written,
        quarantined,
    ))
}

/// Opens a unit: its name, the schema of the scored rows, and its pending
/// batches, after checking that it has what the model (and its transform,
/// and the passthrough) read.
async fn open_unit(
    unit: &Unit,
    scoring: &Scoring<'_>,
) -> Result<(String, SchemaRef, crate::input::Pendings)> {
    let Scoring {
        config,
        cleaning,
        model,
        replay,
        ..
    } = *scoring;
    let name = unit.file.location.to_string();
    let source = ingest::read::SourceFile {
        index: unit.index,
        file: unit.file.clone(),
        format: unit.format,
        compression: unit.compression,
        row_groups: None,
    };
    let wanted = match replay {
        Some(replay) => replay.required(),
        None => crate::input::model_columns(model, cleaning),
    };
    let (schema, stream) = crate::input::open(
        &source,
        unit.row_groups.clone(),
        config.batch_size,
        cleaning,
        &config.passthrough,
        &wanted,
    )
    .await?;
    let schema = match replay {
        Some(replay) => {
            replay.check_input(&schema, &config.passthrough, &name)?;
            replay.model_schema(&schema, &config.passthrough)
        }
        None => schema,
    };
    crate::schema::check(model, &schema, &config.passthrough, &name)?;
    let out_schema = output_schema(model, &schema, &config.passthrough)?;
    Ok((name, out_schema, stream))
}

/// One batch: prepared (parsed, cleaned, cast) on rayon, transformed by the
/// model's SQL if it has one, then scored and counted for drift on rayon.
/// Returns the input rows, the scored rows and the drift counts.
async fn score_batch(
    pending: Result<crate::input::Pending>,
    scoring: &Scoring<'_>,
    profile: Option<Arc<Profile>>,
) -> Result<(RecordBatch, RecordBatch, Option<Counter>)> {
    let (model, label, passthrough) = (
        Arc::clone(scoring.model),
        scoring.label.to_string(),
        scoring.config.passthrough.clone(),
    );
    let pending = pending?;
    let ready = common::cpu::run("preparing a batch", move || pending.prepare())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let ready = match scoring.replay {
        Some(replay) => replay.apply(ready, &passthrough).await?,
        None => ready,
    };
    common::cpu::run("scoring a batch", move || {
        let scored = predict(&model, &ready.typed, &label, &passthrough, &ready.errors)?;
        let counts = match &profile {
            Some(profile) => {
                let mut counts = Counter::new(profile);
                counts
                    .add(profile, &ready.typed)
                    .map_err(|e| Error::Schema {
                        file: "drift".into(),
                        message: e.to_string(),
                    })?;
                Some(counts)
            }
            None => None,
        };
        Ok((ready.input, scored, counts))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Adds a scored batch to the run's counts (and a classifier's predicted
/// classes).
fn tally(
    batch: &RecordBatch,
    scoring: &Scoring<'_>,
    rows: &mut Rows,
    classes: &mut BTreeMap<String, u64>,
) -> Result<()> {
    let ok = batch.column(batch.num_columns() - 1).null_count();
    if scoring.model.task == model::Task::Classification {
        count_classes(batch, crate::predict::PREDICTION, classes)?;
    }
    rows.input += batch.num_rows() as u64;
    rows.predicted += ok as u64;
    let failed = (batch.num_rows() - ok) as u64;
    match scoring.config.on_error {
        OnError::Quarantine => rows.quarantined += failed,
        OnError::Null => rows.errored += failed,
    }
    Ok(())
}

/// A unit's output part, and its quarantine part once a row goes there.
struct UnitWriter {
    sink: ParquetSink,
    quarantine: Option<ParquetSink>,
    quarantine_path: Location,
}

impl UnitWriter {
    /// Writes a scored batch; with `on_error: quarantine` its rows with an
    /// error go to the quarantine part, with their input values.
    async fn write(
        &mut self,
        input: &RecordBatch,
        batch: &RecordBatch,
        config: &InferenceConfig,
    ) -> Result<()> {
        let ok = batch.column(batch.num_columns() - 1).null_count();
        if config.on_error != OnError::Quarantine || ok == batch.num_rows() {
            self.sink.write(batch).await?;
            return Ok(());
        }
        let (scored, failed) = crate::predict::split_errors(input, batch)?;
        if self.quarantine.is_none() {
            self.quarantine = Some(ParquetSink::create(
                &self.quarantine_path,
                failed.schema(),
                &config.parquet,
            )?);
        }
        if let Some(q) = self.quarantine.as_mut() {
            q.write(&failed).await?;
        }
        self.sink.write(&scored).await?;
        Ok(())
    }

    async fn abort(self) {
        let _ = self.sink.abort().await;
    }

    async fn finish(
        self,
    ) -> Result<(
        common::storage::WrittenFile,
        Option<common::storage::WrittenFile>,
    )> {
        let written = self.sink.finish().await?;
        let quarantined = match self.quarantine {
            Some(q) => Some(q.finish().await?),
            None => None,
        };
        Ok((written, quarantined))
    }
}
