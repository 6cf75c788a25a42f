//! One ETL run: plan → (up to date? stop) → read, clean, validate in
//! parallel → dedupe, split, write in input order → manifest last → clean up
//! old runs. A failed run deletes its own run folder and leaves the previous
//! manifest, and the files it points to, untouched. Run folders, their
//! leases, publishing and pruning are `common::storage::Runs`': concurrent
//! runs into one output all succeed and never delete each other's files.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::BooleanArray;
use chrono::Utc;
use common::lifecycle::{Guarded, RunKind, Runs, check_output};
use common::shard::Shard;
use common::storage::{Location, Selection, WrittenFile};
use futures::StreamExt;
use records::profile::{Profile, ProfileBuilder};
use report::data_quality::RunQuality;

use crate::config::{EtlConfig, OnInvalid, PipelineConfig};
use crate::dataset::{Dedup, Unique};
use crate::error::{Error, Result};
use crate::keys::{self, KeyAt};
use crate::manifest::{
    ColumnRecord, FORMAT_VERSION, InputRecord, MANIFEST, Manifest, OutputFile, RowCounts,
    ShardRecord, Timings,
};
use crate::plan::Plan;
use crate::profiling::Profiler;
use crate::progress::Progress;
use crate::read;
use crate::read::SourceFile;
use crate::reason::Reason;
use crate::split::{Split, Splitter};
use crate::transform::{Invalid, Processed, Texts, Transform, take_rows};
use crate::write::{DatasetWriter, quarantine_batch, quarantine_schema};

/// Where to read and write, and how.
///
/// Built from the config and flags ([`RunOptions::resolve`]) or by an
/// embedder from locations it made itself, with its own object store:
///
/// ```no_run
/// # fn main() -> etl::Result<()> {
/// use common::storage::Location;
/// let options = etl::RunOptions::new(Location::parse("data/raw")?, Location::parse("data/processed")?)
///     .with_force(true);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Input selection: a file, glob or prefix.
    pub input: Selection,
    /// Output root.
    pub output: Location,
    /// Rerun even when the output is up to date.
    pub force: bool,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    /// Which shard of the inputs this process cleans (input files `I mod
    /// N`, or a single Parquet file's row groups `I mod N`); shard 0 of 1
    /// is the whole run.
    pub shard: Shard,
    /// The model registry's root, which the output must stay clear of
    /// (`storage.models`; `None` skips that check).
    pub registry: Option<Location>,
}

impl RunOptions {
    /// Reads `input` into `output`: no forced rerun, no progress bar, the
    /// whole input (one shard), no registry to stay clear of.
    pub fn new(input: impl Into<Selection>, output: Location) -> Self {
        Self {
            input: input.into(),
            output,
            force: false,
            progress: false,
            shard: Shard::default(),
            registry: None,
        }
    }

    /// Rerun even when the output is up to date.
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Show a progress bar when stderr is a terminal.
    pub fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Clean only this shard of the inputs.
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Refuse outputs that overlap this model registry.
    pub fn with_registry(mut self, registry: Location) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Input and output from the flags, else `etl.input`/`etl.output`, else
    /// `storage`; the registry from `storage.models`.
    pub fn resolve(
        config: &PipelineConfig,
        input: Option<String>,
        output: Option<String>,
    ) -> Result<Self> {
        let input = input
            .or_else(|| config.etl.input.clone())
            .unwrap_or_else(|| config.storage.raw.clone());
        let output = output
            .or_else(|| config.etl.output.clone())
            .unwrap_or_else(|| config.storage.processed.clone());
        Ok(
            Self::new(Selection::parse(&input)?, Location::parse(&output)?)
                .with_progress(true)
                .with_registry(Location::parse(&config.storage.models)?),
        )
    }

    /// Refuses an output that overlaps the input or the registry, or is `/`
    /// or the home folder (see [`common::lifecycle::check_output`]).
    pub fn check_output(&self) -> Result<()> {
        let mut guarded = vec![Guarded::Input(&self.input)];
        guarded.extend(self.registry.as_ref().map(Guarded::Registry));
        check_output(&self.output, &guarded)?;
        Ok(())
    }

    /// The config with this run's input and output filled in: what the
    /// fingerprint covers.
    pub(crate) fn effective(&self, config: &EtlConfig) -> EtlConfig {
        let mut effective = config.clone();
        effective.input = Some(self.input.to_string());
        effective.output = Some(self.output.to_string());
        effective
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct EtlReport {
    /// The output root.
    pub output: String,
    /// The published manifest (the existing one when up to date).
    pub manifest: Manifest,
    /// True when nothing was done because inputs and config were unchanged.
    pub up_to_date: bool,
}

impl EtlReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        let rows = &self.manifest.rows;
        let state = if self.up_to_date {
            "up to date"
        } else {
            "done"
        };
        let name = match &self.manifest.shard {
            Some(s) => Shard {
                index: s.index,
                count: s.count,
            }
            .manifest_name(),
            None => MANIFEST.to_string(),
        };
        format!("{state}: {rows} ({}/{name})", self.output)
    }
}

/// Makes the plan only (what `--dry-run` prints).
pub async fn plan(config: &EtlConfig, options: &RunOptions) -> Result<Plan> {
    options.check_output()?;
    Plan::build(config, &options.input, &options.output).await
}

/// Runs the ETL stage.
pub async fn run(config: &EtlConfig, options: &RunOptions) -> Result<EtlReport> {
    let started = Utc::now();
    let clock = Instant::now();
    options.check_output()?;
    let plan = Plan::build(config, &options.input, &options.output).await?;
    let fingerprint = options.effective(config).fingerprint();
    let shard = options.shard;
    if shard.is_sharded() && plan.whole_input() {
        return Err(Error::Rule {
            key: "etl.transform.whole_input".into(),
            message: format!(
                "a whole-input transform sees every row at once, so it cannot run as shard {shard}; run etl without --shard, or make the query row-local"
            ),
        });
    }
    let manifest_location = plan.output.join(&shard.manifest_name())?;
    let (sources, row_groups) = shard_sources(&plan, shard).await?;
    let shard_record = shard.is_sharded().then(|| ShardRecord {
        index: shard.index,
        count: shard.count,
        inputs_total: plan.sources.len(),
        inputs_sha256: inputs_sha256(&plan),
        row_groups,
        keys: BTreeMap::new(),
    });

    if !options.force
        && let Some(existing) = up_to_date(
            &manifest_location,
            &fingerprint,
            &sources,
            shard_record.as_ref(),
            plan.query.as_ref().map(|q| q.record()),
        )
        .await
    {
        log::info!(
            "{manifest_location}: up to date (inputs and config unchanged); use --force to rerun"
        );
        return Ok(EtlReport {
            output: plan.output.to_string(),
            manifest: existing,
            up_to_date: true,
        });
    }

    let runs = Runs::new(&plan.output, RunKind::Shard(shard), config.keep_runs)?;
    let run = runs.start().await?;
    let (run_id, run_root) = (run.id().to_string(), run.root().clone());
    let bytes: u64 = sources.iter().map(|s| s.file.size).sum();
    log::info!(
        "run {run_id}{}: {} input file(s), {bytes} bytes → {}",
        shard_label(shard, plan.sources.len()),
        sources.len(),
        plan.output
    );
    if shard.is_sharded() && config.split.key.is_empty() {
        log::warn!(
            "shard {shard}: without split.key each shard splits its own rows (exact per shard); set split.key for the same split whatever the shard count"
        );
    }
    let work = async {
        let progress = Progress::bytes(bytes, options.progress);
        let outcome = execute(config, &plan, &sources, shard, &run_root, progress.clone()).await;
        progress.finish();
        let mut outcome = outcome?;
        let counts = outcome.counts;
        // A shard may hold no training rows; the merge checks the whole run.
        if counts.train == 0 && !config.allow_empty && !shard.is_sharded() {
            return Err(Error::EmptyTraining {
                output: plan.output.to_string(),
                input: counts.input,
                quarantined: counts.quarantined,
                duplicates: counts.duplicates,
            });
        }
        let header = Header {
            run_id: run_id.clone(),
            fingerprint,
            shard: shard_record,
            started,
            seconds: clock.elapsed().as_secs_f64(),
        };
        let kept_keys = std::mem::take(&mut outcome.keys);
        let mut manifest = manifest_of(header, config, &plan, &sources, outcome);
        debug_assert!(manifest.rows.balanced());
        // A shard is judged with the others, by the merge.
        if !shard.is_sharded() {
            crate::policy::judge_invalid(config, &manifest, &plan.output)?;
        }
        if let Some(record) = &mut manifest.shard {
            record.keys = keys::write(kept_keys, &run_root, &plan.output).await?;
        }
        manifest.report = Some(write_report(&manifest, &run_root, &plan.output).await?);
        Ok(manifest)
    };
    let manifest = run.complete(work).await?;
    let rows = &manifest.rows;
    log::info!(
        "run {run_id}: {rows} ({:.0} rows/s, {:.2} s)",
        manifest.timings.rows_per_second,
        manifest.timings.seconds
    );
    for (reason, count) in &manifest.quarantine_reasons {
        log::info!("  invalid: {count} × {reason}");
    }
    Ok(EtlReport {
        output: plan.output.to_string(),
        manifest,
        up_to_date: false,
    })
}

/// What a run's manifest records besides its outcome.
struct Header {
    run_id: String,
    fingerprint: String,
    shard: Option<ShardRecord>,
    started: chrono::DateTime<Utc>,
    seconds: f64,
}

/// The manifest of a run's data pass (its report and keys files still to
/// be added).
fn manifest_of(
    header: Header,
    config: &EtlConfig,
    plan: &Plan,
    sources: &[SourceFile],
    outcome: Outcome,
) -> Manifest {
    Manifest {
        format_version: FORMAT_VERSION,
        run_id: header.run_id,
        producer: format!("cauce-etl {}", env!("CARGO_PKG_VERSION")),
        config_sha256: header.fingerprint,
        inputs: sources
            .iter()
            .map(|s| InputRecord {
                location: s.name(),
                format: s.format.name().to_string(),
                size: s.file.size,
                last_modified: s.file.last_modified,
                e_tag: s.file.e_tag.clone(),
                rows: outcome.file_rows[s.index],
            })
            .collect(),
        schema: plan
            .output_schema()
            .fields()
            .iter()
            .map(|f| ColumnRecord {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                declared: plan
                    .columns
                    .iter()
                    .any(|c| c.name == *f.name() && c.spec.is_some()),
            })
            .collect(),
        outputs: outcome
            .outputs
            .into_iter()
            .map(|(name, files)| {
                (
                    name,
                    files
                        .into_iter()
                        .map(|f| f.relative_to(&plan.output))
                        .collect(),
                )
            })
            .collect(),
        cleaning: Some(cleaning(config, plan)),
        transform: plan.query.as_ref().map(|q| q.record().clone()),
        rows: outcome.counts,
        quarantine_reasons: outcome.reasons,
        quarantine_examples: outcome.examples,
        profile: Some(outcome.profile),
        report: None,
        timings: Timings {
            started: header.started,
            finished: Utc::now(),
            seconds: header.seconds,
            rows_per_second: outcome.counts.input as f64 / header.seconds.max(1e-9),
        },
        shard: header.shard,
        shards: None,
    }
}

/// File name of a run's data-quality report inside its folder.
pub const REPORT_FILE: &str = "report.html";

/// Writes the run's data-quality report into its folder (published with
/// the manifest).
pub(crate) async fn write_report(
    manifest: &Manifest,
    run_root: &Location,
    output: &Location,
) -> Result<OutputFile> {
    let rows = &manifest.rows;
    let quality = RunQuality {
        run_id: manifest.run_id.clone(),
        started: manifest
            .timings
            .started
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        seconds: manifest.timings.seconds,
        inputs: manifest
            .inputs
            .iter()
            .map(|i| (i.location.clone(), i.rows))
            .collect(),
        rows: [
            ("input", rows.input),
            ("train", rows.train),
            ("test", rows.test),
            ("validation", rows.validation),
            ("quarantined", rows.quarantined),
            ("duplicates", rows.duplicates),
            ("filtered", rows.filtered),
        ]
        .iter()
        .map(|(what, n)| (what.to_string(), *n))
        .collect(),
        reasons: manifest.quarantine_reasons.clone(),
        profile: manifest.profile.clone(),
        transform: manifest.transform.clone(),
    };
    let page = report::data_quality::html(&quality)
        .map_err(|e| Error::Internal(format!("rendering the data-quality report: {e}")))?;
    let location = run_root.join(REPORT_FILE)?;
    let written = WrittenFile::put(&location, bytes::Bytes::from(page)).await?;
    Ok(written.relative_to(output))
}

/// The manifest currently published, if it exists and is readable.
pub(crate) async fn current_manifest(location: &Location) -> Option<Manifest> {
    match location.read_json::<Manifest>().await {
        Ok(m) if m.format_version == FORMAT_VERSION => Some(m),
        Ok(m) => {
            log::warn!(
                "{location}: format_version {} is not {FORMAT_VERSION}; rerunning",
                m.format_version
            );
            None
        }
        Err(common::Error::NotFound { .. }) => None,
        Err(e) => {
            log::warn!("{e}; rerunning");
            None
        }
    }
}

/// The published manifest at `location` when it was made with this config
/// from these inputs (and, for a shard, the same whole input list).
async fn up_to_date(
    location: &Location,
    fingerprint: &str,
    sources: &[SourceFile],
    shard: Option<&ShardRecord>,
    transform: Option<&records::transform::Transform>,
) -> Option<Manifest> {
    let existing = current_manifest(location).await?;
    // The SQL is in the fingerprint; a reference table's bytes are in its
    // checksum, so an edited table reruns.
    (existing.config_sha256 == fingerprint
        && existing.transform.as_ref() == transform
        && same_inputs(&existing.inputs, sources)
        && existing.shard.as_ref().map(|s| &s.inputs_sha256) == shard.map(|s| &s.inputs_sha256))
    .then_some(existing)
}

fn same_inputs(recorded: &[InputRecord], sources: &[SourceFile]) -> bool {
    recorded.len() == sources.len()
        && recorded.iter().zip(sources).all(|(r, s)| {
            r.location == s.name()
                && r.size == s.file.size
                && r.last_modified == s.file.last_modified
                && r.e_tag == s.file.e_tag
        })
}

/// The inputs shard `shard` cleans: files I mod N of the plan's, or, when
/// the input is one Parquet file, its row groups I mod N (with their total).
async fn shard_sources(plan: &Plan, shard: Shard) -> Result<(Vec<SourceFile>, Option<usize>)> {
    if let [single] = plan.sources.as_slice()
        && shard.is_sharded()
        && single.format == common::storage::FileFormat::Parquet
    {
        let groups = common::storage::ParquetSource::open(&single.file.location)
            .await?
            .num_row_groups();
        let mut source = single.clone();
        source.row_groups = Some((0..groups).filter(|g| shard.owns(*g)).collect());
        return Ok((vec![source], Some(groups)));
    }
    let owned = plan
        .sources
        .iter()
        .filter(|s| shard.owns(s.index))
        .cloned()
        .collect();
    Ok((owned, None))
}

/// `" (shard I/N of K files)"` for a shard's log lines.
fn shard_label(shard: Shard, files: usize) -> String {
    if shard.is_sharded() {
        format!(" (shard {shard} of {files} input files)")
    } else {
        String::new()
    }
}

/// SHA-256 over the whole run's input list: shards of one run agree on it.
fn inputs_sha256(plan: &Plan) -> String {
    let mut text = String::new();
    for s in &plan.sources {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            s.name(),
            s.file.size,
            s.file.last_modified.to_rfc3339(),
            s.file.e_tag.as_deref().unwrap_or("")
        ));
    }
    common::checksum::sha256_hex(text.as_bytes())
}

/// Results of the data pass.
struct Outcome {
    counts: RowCounts,
    reasons: BTreeMap<String, u64>,
    examples: BTreeMap<String, String>,
    file_rows: Vec<u64>,
    outputs: BTreeMap<String, Vec<WrittenFile>>,
    profile: Profile,
    /// A shard's kept keys per rule, for the merge's check.
    keys: BTreeMap<String, Vec<KeyAt>>,
}

/// The open output datasets of a run, and the training split's profile.
struct Writers {
    train: DatasetWriter,
    test: DatasetWriter,
    validation: Option<DatasetWriter>,
    quarantine: Option<DatasetWriter>,
    profile: Profiler,
}

impl Writers {
    async fn abort(self) {
        self.train.abort().await;
        self.test.abort().await;
        if let Some(w) = self.validation {
            w.abort().await;
        }
        if let Some(w) = self.quarantine {
            w.abort().await;
        }
    }
}

/// Dataset-level state carried from batch to batch.
struct State {
    dedup: Option<Dedup>,
    unique: Option<Unique>,
    unique_columns: Vec<String>,
    splitter: Splitter,
    on_invalid: OnInvalid,
    counts: RowCounts,
    reasons: BTreeMap<String, u64>,
    /// The first row of each reason key, as `file:row: reason`.
    examples: BTreeMap<String, String>,
    file_rows: Vec<u64>,
    names: Vec<String>,
    /// The quarantine's schema: the cleaned columns as text, then why and where.
    quarantine: arrow::datatypes::SchemaRef,
}

async fn execute(
    config: &EtlConfig,
    plan: &Plan,
    sources: &[SourceFile],
    shard: Shard,
    run_root: &Location,
    progress: Progress,
) -> Result<Outcome> {
    let transform = Arc::new(Transform::new(config, plan)?);
    let cleaned = Arc::clone(transform.schema());
    let schema = plan.output_schema();
    let index = |names: &[String]| -> Vec<usize> {
        names
            .iter()
            .filter_map(|n| schema.index_of(n).ok())
            .collect()
    };
    let writer = |name: &str| -> Result<DatasetWriter> {
        Ok(DatasetWriter::new(
            run_root.join(name)?,
            Arc::clone(&schema),
            config.parquet.clone(),
            config.max_rows_per_file,
        ))
    };
    let mut writers = Writers {
        train: writer("train")?,
        test: writer("test")?,
        validation: (config.split.validation > 0.0)
            .then(|| writer("validation"))
            .transpose()?,
        quarantine: match config.on_invalid {
            OnInvalid::Quarantine => Some(DatasetWriter::new(
                run_root.join("quarantine")?,
                quarantine_schema(&cleaned),
                config.parquet.clone(),
                config.max_rows_per_file,
            )),
            _ => None,
        },
        profile: Profiler::new(
            ProfileBuilder::new(&schema, &[]).map_err(|e| Error::Internal(e.to_string()))?,
        ),
    };
    let dedup_columns = if !config.dedup_key.is_empty() {
        Some(index(&config.dedup_key))
    } else if config.deduplicate {
        Some((0..schema.fields().len()).collect())
    } else {
        None
    };
    let mut state = State {
        dedup: dedup_columns
            .map(|c| Dedup::new(&schema, c))
            .transpose()?
            .map(|d| if shard.is_sharded() { d.track() } else { d }),
        unique: (!config.unique.is_empty())
            .then(|| Unique::new(&schema, index(&config.unique)))
            .transpose()?,
        unique_columns: config.unique.clone(),
        splitter: Splitter::new(
            config.split.test,
            config.split.validation,
            config.split.seed,
            index(&config.split.key),
            config
                .split
                .stratify
                .as_ref()
                .and_then(|s| schema.index_of(s).ok()),
        ),
        on_invalid: config.on_invalid,
        counts: RowCounts::default(),
        reasons: BTreeMap::new(),
        examples: BTreeMap::new(),
        file_rows: vec![0; plan.sources.len()],
        names: plan.sources.iter().map(|s| s.name()).collect(),
        quarantine: quarantine_schema(&cleaned),
    };

    let mut result = pass(
        config,
        plan,
        sources,
        &transform,
        &mut state,
        &mut writers,
        progress,
    )
    .await;
    if result.is_ok() {
        result = flush_split(&mut state, &mut writers).await;
    }
    if let Err(e) = result {
        writers.abort().await;
        return Err(e);
    }
    // Every dataset's last part and the profile are finished together.
    let optional = |writer: Option<DatasetWriter>, always| async move {
        match writer {
            Some(w) => w.finish(always).await.map(Some),
            None => Ok(None),
        }
    };
    let (profile, train, test, validation, quarantine) = futures::try_join!(
        writers.profile.finish(),
        writers.train.finish(true),
        writers.test.finish(true),
        optional(writers.validation, true),
        optional(writers.quarantine, false),
    )?;
    let mut outputs = BTreeMap::new();
    outputs.insert("train".to_string(), train);
    outputs.insert("test".to_string(), test);
    if let Some(files) = validation {
        outputs.insert("validation".to_string(), files);
    }
    if let Some(files) = quarantine {
        outputs.insert("quarantine".to_string(), files);
    }
    let mut keys = BTreeMap::new();
    if shard.is_sharded() {
        if let Some(kept) = state.dedup.and_then(Dedup::into_kept) {
            keys.insert("dedup".to_string(), kept);
        }
        if let Some(unique) = state.unique {
            keys.insert("unique".to_string(), unique.into_kept());
        }
    }
    Ok(Outcome {
        counts: state.counts,
        reasons: state.reasons,
        examples: state.examples,
        file_rows: state.file_rows,
        outputs,
        profile,
        keys,
    })
}

/// Reads every file in order, processing batches on rayon and applying the
/// dataset steps in input order.
async fn pass(
    config: &EtlConfig,
    plan: &Plan,
    sources: &[SourceFile],
    transform: &Arc<Transform>,
    state: &mut State,
    writers: &mut Writers,
    progress: Progress,
) -> Result<()> {
    let workers = rayon::current_num_threads() + 1;
    // A whole-input transform runs once, on every cleaned batch held.
    let mut held = plan.whole_input().then(Vec::new);
    let per_batch = plan.query.clone().filter(|_| !plan.whole_input());
    // Rows are de-duplicated on the query's output: a whole-input query's
    // comes after every batch, so its keys are hashed then.
    let hasher = state
        .dedup
        .as_ref()
        .filter(|_| !plan.whole_input())
        .map(Dedup::hasher);
    for source in sources {
        let columns = &plan.files[source.index];
        let given = (source.format != common::storage::FileFormat::Parquet
            && (!config.csv.header || source.format == common::storage::FileFormat::Ndjson))
            .then(|| columns.names.clone());
        let (names, stream) = read::open(
            source,
            &config.csv,
            given,
            config.batch_size,
            read::UnknownKeys::Reject,
            progress.clone(),
        )
        .await?;
        if names != columns.names {
            return Err(Error::File {
                file: source.name(),
                message: "the file changed while the run was reading it (its columns differ from the plan)".into(),
            });
        }
        let mut processed = stream
            .map(|raw| {
                let transform = Arc::clone(transform);
                let query = per_batch.clone();
                let hasher = hasher.clone();
                // Its own task: a batch's query and key hashes are computed
                // on another worker while this one writes the batch before.
                let batch = tokio::spawn(async move {
                    let cleaned = on_rayon(move || transform.process(raw?.into_batch()?)).await??;
                    let done = match query {
                        Some(query) => crate::query::apply(&query, cleaned).await?,
                        None => cleaned,
                    };
                    let hashes = hasher.map(|h| h.hashes(&done.valid)).transpose()?;
                    Ok::<_, Error>((done, hashes))
                });
                async move {
                    batch
                        .await
                        .map_err(|e| Error::Internal(format!("a batch's task failed: {e}")))?
                }
            })
            .buffered(workers);
        while let Some(batch) = processed.next().await {
            let (batch, hashes) = batch?;
            match held.as_mut() {
                Some(held) => held.push(batch),
                None => apply(batch, hashes, state, writers).await?,
            }
        }
        match &held {
            Some(held) => log::info!("{}: read ({} batches held)", source.name(), held.len()),
            None => log::info!(
                "{}: {} rows read",
                source.name(),
                state.file_rows[source.index]
            ),
        }
    }
    if let (Some(query), Some(held)) = (&plan.query, held) {
        for part in crate::query::apply_whole(query, held).await? {
            apply(part, None, state, writers).await?;
        }
    }
    Ok(())
}

async fn on_rayon<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    common::cpu::run("cleaning a batch", work)
        .await
        .map_err(|e| Error::Internal(e.0.into()))
}

/// Applies the dataset steps to one batch; `hashes` are its rows' dedup
/// keys when already hashed.
async fn apply(
    processed: Processed,
    hashes: Option<Vec<u128>>,
    state: &mut State,
    writers: &mut Writers,
) -> Result<()> {
    let Processed {
        file,
        mut valid,
        mut valid_rows,
        mut invalid,
        filtered,
    } = processed;
    let rows = (valid.num_rows() + invalid.len()) as u64 + filtered;
    state.file_rows[file] += rows;
    state.counts.input += rows;
    state.counts.filtered += filtered;

    if let Some(dedup) = &mut state.dedup {
        let keep = match hashes {
            Some(hashes) => dedup.keep_hashed(hashes, file, &valid_rows),
            None => dedup.keep(&valid, file, &valid_rows)?,
        };
        let kept = keep.true_count();
        state.counts.duplicates += (valid.num_rows() - kept) as u64;
        if kept < valid.num_rows() {
            valid_rows = filter_rows(&valid_rows, &keep);
            valid = take_rows(&valid, &keep)?;
        }
    }
    if let Some(unique) = &mut state.unique {
        let repeats = unique.repeats(&valid, file, &valid_rows)?;
        if repeats.iter().any(Option::is_some) {
            let text = Texts::of(&valid)?;
            let by_name = quarantine_columns(&state.quarantine, &valid.schema());
            for (i, repeat) in repeats.iter().enumerate() {
                if let Some((first_file, first_row)) = repeat {
                    let first = format!("{}:{first_row}", state.names[*first_file as usize]);
                    invalid.push(Invalid {
                        file,
                        row: valid_rows[i],
                        reason: Reason::unique(&state.unique_columns, &first),
                        values: by_name(text.row(i)),
                        raw: None,
                    });
                }
            }
            let keep: BooleanArray = repeats.iter().map(|r| Some(r.is_none())).collect();
            valid = take_rows(&valid, &keep)?;
        }
    }

    if !invalid.is_empty() {
        if state.on_invalid == OnInvalid::Fail {
            let first = &invalid[0];
            return Err(Error::InvalidRow {
                source_row: format!("{}:{}", state.names[first.file], first.row),
                reason: first.reason.to_string(),
            });
        }
        state.counts.quarantined += invalid.len() as u64;
        for row in &invalid {
            let key = row.reason.key();
            if !state.examples.contains_key(&key) {
                let example = format!("{}:{}: {}", state.names[row.file], row.row, row.reason);
                state.examples.insert(key.clone(), example);
            }
            *state.reasons.entry(key).or_default() += 1;
        }
        if let Some(quarantine) = &mut writers.quarantine {
            let names = &state.names;
            let batch = quarantine_batch(&state.quarantine, &invalid, &|f| names[f].clone())?;
            quarantine.write(batch).await?;
        }
    }

    for (batch, splits) in state.splitter.push(valid)? {
        write_split(writers, &mut state.counts, &batch, &splits).await?;
    }
    Ok(())
}

/// Writes the rows the splitter still holds back, after the last batch.
async fn flush_split(state: &mut State, writers: &mut Writers) -> Result<()> {
    for (batch, splits) in state.splitter.finish()? {
        write_split(writers, &mut state.counts, &batch, &splits).await?;
    }
    Ok(())
}

/// Writes each row of `batch` to the dataset of its split.
async fn write_split(
    writers: &mut Writers,
    counts: &mut RowCounts,
    batch: &arrow::array::RecordBatch,
    splits: &[Split],
) -> Result<()> {
    let profile = &mut writers.profile;
    for (split, writer) in [
        (Split::Train, Some(&mut writers.train)),
        (Split::Test, Some(&mut writers.test)),
        (Split::Validation, writers.validation.as_mut()),
    ] {
        let mask: BooleanArray = splits.iter().map(|s| Some(*s == split)).collect();
        let count = mask.true_count() as u64;
        if count == 0 {
            continue;
        }
        let Some(writer) = writer else {
            return Err(Error::Internal(
                "a row was assigned to a split that is not written".into(),
            ));
        };
        let rows = take_rows(batch, &mask)?;
        if split == Split::Train {
            profile.add(rows.clone()).await?;
        }
        writer.write(rows).await?;
        match split {
            Split::Train => counts.train += count,
            Split::Test => counts.test += count,
            Split::Validation => counts.validation += count,
        }
    }
    Ok(())
}

/// Maps a written row's cells onto the quarantine's columns (the cleaned
/// ones) by name: with a transform, the columns it added have no place
/// there and the ones it dropped are empty.
pub(crate) fn quarantine_columns(
    quarantine: &arrow::datatypes::Schema,
    written: &arrow::datatypes::Schema,
) -> impl Fn(Vec<Option<String>>) -> Vec<Option<String>> + use<> {
    let width = quarantine.fields().len().saturating_sub(4);
    let at: Vec<Option<usize>> = quarantine.fields()[..width]
        .iter()
        .map(|f| written.index_of(f.name()).ok())
        .collect();
    move |row| {
        at.iter()
            .map(|i| i.and_then(|i| row.get(i).cloned().flatten()))
            .collect()
    }
}

fn filter_rows(rows: &[u64], keep: &BooleanArray) -> Vec<u64> {
    rows.iter()
        .zip(keep.iter())
        .filter(|(_, k)| k.unwrap_or(false))
        .map(|(r, _)| *r)
        .collect()
}

/// The cleaning this run applied, as the manifest records it (the trainer
/// copies it into the model card; inference applies it again).
fn cleaning(config: &EtlConfig, plan: &Plan) -> ingest::clean::Cleaning {
    ingest::clean::Cleaning {
        csv: config.csv.clone(),
        null_tokens: config.null_tokens.clone(),
        trim: config.trim,
        rename: config.rename.clone(),
        drop: config.drop.clone(),
        types: plan
            .columns
            .iter()
            .filter_map(|c| Some((c.name.clone(), ingest::ColumnType::of(&c.data_type)?)))
            .collect(),
        fill_null: plan
            .columns
            .iter()
            .filter_map(|c| {
                let fill = c.spec.as_ref()?.fill_null.as_ref()?;
                Some((c.name.clone(), fill.to_text()))
            })
            .collect(),
    }
}
