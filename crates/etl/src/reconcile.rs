//! Cross-shard de-duplication and `unique`, settled by the merge.
//!
//! A shard de-duplicates and checks uniqueness within its own files, and
//! records the keys it kept ([`crate::keys`]). A key kept by two shards is a
//! row an unsharded run would not have kept: the merge keeps the key's first
//! row in input order and, in the later shards,
//! - **removes** a repeated de-duplication key's row (counted as a
//!   duplicate), as an unsharded run drops later copies;
//! - **quarantines** a repeated `unique` key's row with the reason an
//!   unsharded run gives ("key already seen at <first row>"), and points the
//!   reasons of that shard's own repeats of it at the first row too.
//!
//! A row removed as a duplicate that its shard had quarantined (a `unique`
//! repeat) leaves the quarantine and counts as a duplicate. A row removed as
//! a duplicate that its shard had named as the first of a `unique` key hands
//! that role to the key's first row across shards, when the unique columns
//! are among the de-duplication key's (every such row has the same unique
//! key); with unrelated keys that case is refused, naming the row.
//!
//! Only the parts holding such rows are rewritten, into the merge's run
//! folder; the shards' files are never changed. A row is found in its
//! shard's parts by its key's hash (unique among the rows a shard kept), and
//! every row to remove must be found, or the merge fails. The training
//! profile is recomputed from the final parts when training rows were
//! removed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use common::storage::{Location, ParquetSink, ParquetSource};
use futures::TryStreamExt;
use records::profile::{Profile, ProfileBuilder};

use crate::config::{EtlConfig, OnInvalid};
use crate::dataset::KeyHasher;
use crate::error::{Error, Result};
use crate::keys::{self, KeyAt};
use crate::manifest::{InputRecord, Manifest, OutputFile, RowCounts};
use crate::reason::Reason;
use crate::transform::{Invalid, Texts, take_rows};
use crate::write::{quarantine_batch, quarantine_schema};

/// What the merge changed.
#[derive(Debug)]
pub struct Settled {
    /// Every dataset's files, with rewritten parts in place of the shards'.
    pub outputs: BTreeMap<String, Vec<OutputFile>>,
    /// The counts after the settlement.
    pub rows: RowCounts,
    /// Invalid rows per reason after it.
    pub reasons: BTreeMap<String, u64>,
    /// The training profile, when training rows were removed.
    pub profile: Option<Profile>,
}

/// The rows one shard has to give up.
#[derive(Debug, Default)]
struct Losers {
    /// De-duplication key hashes to remove.
    dedup: HashSet<u128>,
    /// `unique` key hashes to quarantine: the row, and the key's first row.
    unique: HashMap<u128, (KeyAt, KeyAt)>,
    /// Quarantine reasons to repoint: old first row → the key's first row.
    repoint: HashMap<(u32, u64), KeyAt>,
    /// Rows removed as duplicates.
    removed: HashSet<(u32, u64)>,
    /// Rows no quarantine reason may name (see the module docs).
    refuse: HashSet<(u32, u64)>,
}

/// Each shard's kept keys of `rule`, as read from its keys file.
pub type ShardKeys = Vec<Vec<KeyAt>>;

/// Settles the keys kept by two shards; `None` when there are none.
pub async fn settle(
    config: &EtlConfig,
    output: &Location,
    run_root: &Location,
    manifests: &[&Manifest],
    inputs: &[InputRecord],
    keys: &BTreeMap<String, ShardKeys>,
) -> Result<Option<Settled>> {
    let losers = find_losers(config, manifests, keys);
    let total: usize = losers.iter().map(|l| l.dedup.len() + l.unique.len()).sum();
    if total == 0 {
        return Ok(None);
    }
    let name = |k: KeyAt| {
        let file = inputs
            .get(k.file as usize)
            .map_or("?", |i| i.location.as_str());
        format!("{file}:{}", k.row)
    };
    refuse_under_fail(config, &losers, &name)?;
    log::info!(
        "{total} row(s) kept by two shards: removing {} repeated key(s), quarantining {} repeated unique key(s)",
        losers.iter().map(|l| l.dedup.len()).sum::<usize>(),
        losers.iter().map(|l| l.unique.len()).sum::<usize>()
    );

    let mut rows = manifests
        .iter()
        .fold(RowCounts::default(), |t, m| t + m.rows);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for m in manifests {
        for (reason, n) in &m.quarantine_reasons {
            *reasons.entry(reason.clone()).or_default() += n;
        }
    }
    let Rewritten {
        mut outputs,
        quarantined,
        train_changed,
        data_schema,
        found,
    } = rewrite_shards(
        config,
        (output, run_root),
        manifests,
        &losers,
        &name,
        (&mut rows, &mut reasons),
    )
    .await?;
    let dedup: u64 = losers.iter().map(|l| l.dedup.len() as u64).sum();
    rows.duplicates += dedup;
    let unique = quarantined.len() as u64;
    check_found(config, output, &losers, found, unique)?;
    rows.quarantined += unique;
    if unique > 0 {
        *reasons
            .entry(Reason::unique(&config.unique, "").key())
            .or_default() += unique;
    }
    reasons.retain(|_, n| *n > 0);
    if config.on_invalid == OnInvalid::Quarantine
        && let Some(schema) = data_schema.filter(|_| !quarantined.is_empty())
    {
        let written =
            write_quarantine(config, run_root, manifests, inputs, &schema, quarantined).await?;
        outputs
            .entry("quarantine".into())
            .or_default()
            .push(written.relative_to(output));
    }
    let profile = if train_changed {
        Some(train_profile(output, outputs.get("train")).await?)
    } else {
        None
    };
    if !rows.balanced() {
        return Err(Error::Internal(format!(
            "the settled counts do not add up: {rows}"
        )));
    }
    Ok(Some(Settled {
        outputs,
        rows,
        reasons,
        profile,
    }))
}

/// With `on_invalid: fail`, a repeated unique key across shards is the
/// run's error, naming the first such row and the key's first row.
fn refuse_under_fail(
    config: &EtlConfig,
    losers: &[Losers],
    name: &dyn Fn(KeyAt) -> String,
) -> Result<()> {
    if config.on_invalid == OnInvalid::Fail
        && let Some((row, first)) = losers
            .iter()
            .flat_map(|l| l.unique.values())
            .min_by_key(|(k, _)| (k.file, k.row))
    {
        return Err(Error::InvalidRow {
            source_row: name(*row),
            reason: Reason::unique(&config.unique, &name(*first)).to_string(),
        });
    }
    Ok(())
}

/// Every copy and repeated key the keys files named must have been found
/// in the parts (`found` copies, `unique` repeated keys).
fn check_found(
    config: &EtlConfig,
    output: &Location,
    losers: &[Losers],
    found: u64,
    unique: u64,
) -> Result<()> {
    let dedup: u64 = losers.iter().map(|l| l.dedup.len() as u64).sum();
    if found != dedup && config.on_invalid == OnInvalid::Drop {
        return Err(common::shard::merge_error(
            output,
            format!(
                "{} copies of other shards' rows are neither in their shard's output nor in its quarantine (with on_invalid: drop, a shard keeps no quarantine to find them in): run this data unsharded, or with on_invalid: quarantine",
                dedup - found
            ),
        )
        .into());
    }
    if found != dedup || unique != losers.iter().map(|l| l.unique.len() as u64).sum::<u64>() {
        return Err(Error::Internal(
            "a row kept by two shards was not found in its shard's parts".into(),
        ));
    }
    Ok(())
}

/// What rewriting the shards' parts gave.
struct Rewritten {
    outputs: BTreeMap<String, Vec<OutputFile>>,
    /// Rows quarantined for a repeated unique key.
    quarantined: Vec<Invalid>,
    train_changed: bool,
    data_schema: Option<SchemaRef>,
    /// Copies found (removed from the data, or from a quarantine).
    found: u64,
}

/// Rewrites the parts of each shard that hold losing rows (into
/// `run_root/shard-N/`), keeping the others, and adjusts the counts.
async fn rewrite_shards(
    config: &EtlConfig,
    (output, run_root): (&Location, &Location),
    manifests: &[&Manifest],
    losers: &[Losers],
    name: &dyn Fn(KeyAt) -> String,
    (rows, reasons): (&mut RowCounts, &mut BTreeMap<String, u64>),
) -> Result<Rewritten> {
    let mut outputs: BTreeMap<String, Vec<OutputFile>> = BTreeMap::new();
    let mut quarantined: Vec<Invalid> = Vec::new();
    let mut train_changed = false;
    let mut data_schema: Option<SchemaRef> = None;
    let mut found = 0u64;
    let unique_key = Reason::unique(&config.unique, "").key();
    for (shard, (m, l)) in manifests.iter().zip(losers).enumerate() {
        let folder = run_root.join(&format!("shard-{shard}"))?;
        for (dataset, files) in &m.outputs {
            let mut kept = Vec::with_capacity(files.len());
            for (part, file) in files.iter().enumerate() {
                let at = folder.join(&format!("{dataset}/part-{part:05}.parquet"))?;
                let rewritten = if dataset == "quarantine" {
                    let (written, dropped) = repoint(config, output, file, &at, l, name).await?;
                    found += dropped;
                    rows.quarantined -= dropped;
                    if dropped > 0 {
                        let count = reasons.entry(unique_key.clone()).or_default();
                        *count = count.saturating_sub(dropped);
                    }
                    written
                } else {
                    let part = remove(config, output, m, file, &at, l, name).await?;
                    // Copies removed; the rest went to quarantine.
                    found += (part.removed - part.invalid.len()) as u64;
                    let removed = part.removed as u64;
                    match dataset.as_str() {
                        "train" => rows.train -= removed,
                        "test" => rows.test -= removed,
                        _ => rows.validation -= removed,
                    }
                    train_changed |= dataset == "train" && removed > 0;
                    quarantined.extend(part.invalid);
                    data_schema = data_schema.or(part.schema);
                    part.written
                };
                kept.push(rewritten.map_or_else(|| file.clone(), |w| w.relative_to(output)));
            }
            outputs.entry(dataset.clone()).or_default().extend(kept);
        }
    }
    Ok(Rewritten {
        outputs,
        quarantined,
        train_changed,
        data_schema,
        found,
    })
}

/// Which rows of each shard lose to another shard's: repeated dedup keys to
/// remove, repeated unique keys to quarantine, quarantine reasons to
/// repoint at the key's first row overall.
fn find_losers(
    config: &EtlConfig,
    manifests: &[&Manifest],
    keys: &BTreeMap<String, ShardKeys>,
) -> Vec<Losers> {
    let mut losers: Vec<Losers> = manifests.iter().map(|_| Losers::default()).collect();
    if let Some(dedup) = keys.get("dedup") {
        for group in clashing(dedup) {
            for &(shard, key) in &group[1..] {
                losers[shard].dedup.insert(key.hash);
                losers[shard].removed.insert((key.file, key.row));
            }
        }
    }
    if let Some(unique) = keys.get("unique") {
        // A row removed as a duplicate never claims its unique key: the
        // key's first row is the first of the others.
        let mut first: HashMap<u128, KeyAt> = HashMap::new();
        for (keys, l) in unique.iter().zip(&losers) {
            for k in keys
                .iter()
                .filter(|k| !l.removed.contains(&(k.file, k.row)))
            {
                let at = first.entry(k.hash).or_insert(*k);
                if (k.file, k.row) < (at.file, at.row) {
                    *at = *k;
                }
            }
        }
        let nested = config.dedup_key.is_empty()
            || config.unique.iter().all(|c| config.dedup_key.contains(c));
        for (keys, l) in unique.iter().zip(&mut losers) {
            for k in keys {
                let position = (k.file, k.row);
                let global = first.get(&k.hash).copied();
                if l.removed.contains(&position) {
                    match global {
                        Some(g) if nested => {
                            l.repoint.insert(position, g);
                        }
                        _ => {
                            l.refuse.insert(position);
                        }
                    }
                } else if let Some(g) = global.filter(|g| (g.file, g.row) != position) {
                    l.unique.insert(k.hash, (*k, g));
                    l.repoint.insert(position, g);
                }
            }
        }
    }
    losers
}

/// Writes the rows the merge quarantines (repeated unique keys) as one
/// part. With a transform the quarantine holds the cleaned columns (what
/// the shards quarantined), so the written rows map onto them by name.
async fn write_quarantine(
    config: &EtlConfig,
    run_root: &Location,
    manifests: &[&Manifest],
    inputs: &[InputRecord],
    schema: &SchemaRef,
    mut quarantined: Vec<Invalid>,
) -> Result<common::storage::WrittenFile> {
    let qschema = match manifests.first().and_then(|m| m.transform.as_ref()) {
        Some(transform) => {
            let cleaned = arrow::datatypes::Schema::new(
                transform
                    .columns_before
                    .iter()
                    .map(|c| {
                        arrow::datatypes::Field::new(
                            &c.name,
                            arrow::datatypes::DataType::Utf8,
                            true,
                        )
                    })
                    .collect::<Vec<_>>(),
            );
            let qschema = quarantine_schema(&cleaned);
            let by_name = crate::run::quarantine_columns(&qschema, schema);
            for row in &mut quarantined {
                row.values = by_name(std::mem::take(&mut row.values));
            }
            qschema
        }
        None => quarantine_schema(schema),
    };
    let names: Vec<String> = inputs.iter().map(|i| i.location.clone()).collect();
    let batch = quarantine_batch(&qschema, &quarantined, &|f| names[f].clone())?;
    let at = run_root.join("quarantine/part-00000.parquet")?;
    let mut sink = ParquetSink::create(&at, qschema, &config.parquet)?;
    sink.write(&batch).await?;
    Ok(sink.finish().await?)
}

/// Keys kept by more than one shard: each group's (shard, key) in input
/// order, the first being the row an unsharded run keeps.
fn clashing(shards: &ShardKeys) -> Vec<Vec<(usize, KeyAt)>> {
    let mut all: Vec<(u128, u32, u64, usize)> = shards
        .iter()
        .enumerate()
        .flat_map(|(s, keys)| keys.iter().map(move |k| (k.hash, k.file, k.row, s)))
        .collect();
    all.sort_unstable();
    all.chunk_by(|a, b| a.0 == b.0)
        .filter(|g| g.len() > 1)
        .map(|g| {
            g.iter()
                .map(|&(hash, file, row, s)| (s, KeyAt { hash, file, row }))
                .collect()
        })
        .collect()
}

/// Every batch of a part.
async fn read_part(output: &Location, file: &OutputFile) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let source = ParquetSource::open(&output.join(&file.path)?).await?;
    let batches = source.stream(8192, None)?.try_collect().await?;
    Ok((source.schema(), batches))
}

/// Columns of `names` in `schema`.
fn indexes(schema: &SchemaRef, names: &[String]) -> Vec<usize> {
    names
        .iter()
        .filter_map(|n| schema.index_of(n).ok())
        .collect()
}

/// What [`remove`] did to one data part.
struct Removed {
    /// The rewritten part (none when it held none of the rows).
    written: Option<common::storage::WrittenFile>,
    /// Rows that went.
    removed: usize,
    /// The `unique` ones among them, as invalid rows.
    invalid: Vec<Invalid>,
    /// The part's schema, when it was read.
    schema: Option<SchemaRef>,
}

/// Removes the losers' rows from one data part.
async fn remove(
    config: &EtlConfig,
    output: &Location,
    manifest: &Manifest,
    file: &OutputFile,
    at: &Location,
    losers: &Losers,
    name: &dyn Fn(KeyAt) -> String,
) -> Result<Removed> {
    if losers.dedup.is_empty() && losers.unique.is_empty() {
        return Ok(Removed {
            written: None,
            removed: 0,
            invalid: Vec::new(),
            schema: None,
        });
    }
    let (schema, batches) = read_part(output, file).await?;
    let dedup_columns = if !config.dedup_key.is_empty() {
        indexes(&schema, &config.dedup_key)
    } else {
        (0..manifest.schema.len()).collect()
    };
    let dedup = KeyHasher::new(&schema, dedup_columns)?;
    let unique = KeyHasher::new(&schema, indexes(&schema, &config.unique))?;
    let mut kept = Vec::with_capacity(batches.len());
    let mut removed = 0;
    let mut invalid = Vec::new();
    for batch in &batches {
        let d = if losers.dedup.is_empty() {
            Vec::new()
        } else {
            dedup.hashes(batch)?
        };
        let u = if losers.unique.is_empty() {
            Vec::new()
        } else {
            unique.hashes(batch)?
        };
        let mut text: Option<Texts> = None;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let gone = d.get(i).is_some_and(|h| losers.dedup.contains(h));
            let repeat = u.get(i).and_then(|h| losers.unique.get(h));
            if let (false, Some((row, first))) = (gone, repeat) {
                let text = match &mut text {
                    Some(t) => t,
                    None => text.insert(Texts::of(batch)?),
                };
                invalid.push(Invalid {
                    file: row.file as usize,
                    row: row.row,
                    reason: Reason::unique(&config.unique, &name(*first)),
                    values: text.row(i),
                    raw: None,
                });
            }
            keep.push(Some(!gone && repeat.is_none()));
        }
        let keep = BooleanArray::from(keep);
        removed += batch.num_rows() - keep.true_count();
        kept.push(take_rows(batch, &keep)?);
    }
    let written = if removed == 0 {
        None
    } else {
        Some(write(config, at, Arc::clone(&schema), &kept).await?)
    };
    Ok(Removed {
        written,
        removed,
        invalid,
        schema: Some(schema),
    })
}

/// Settles one quarantine part: drops the rows the merge counts as
/// duplicates, and repoints `unique` reasons that name a row which is no
/// longer the key's first at the first one; refuses reasons naming a row in
/// `refuse`. Returns the rewritten part (none when unchanged) and how many
/// rows it dropped.
async fn repoint(
    config: &EtlConfig,
    output: &Location,
    file: &OutputFile,
    at: &Location,
    losers: &Losers,
    name: &dyn Fn(KeyAt) -> String,
) -> Result<(Option<common::storage::WrittenFile>, u64)> {
    // Without `unique`, no quarantined row is about another row.
    if config.unique.is_empty() || (losers.repoint.is_empty() && losers.removed.is_empty()) {
        return Ok((None, 0));
    }
    let row = |position: &(u32, u64)| {
        name(KeyAt {
            hash: 0,
            file: position.0,
            row: position.1,
        })
    };
    let reason = |first: &str| Reason::unique(&config.unique, first).to_string();
    let repointed: HashMap<String, String> = losers
        .repoint
        .iter()
        .map(|(old, first)| (reason(&row(old)), reason(&name(*first))))
        .collect();
    let refused: HashSet<String> = losers.refuse.iter().map(|p| reason(&row(p))).collect();
    let removed: HashSet<String> = losers.removed.iter().map(row).collect();
    let (schema, batches) = read_part(output, file).await?;
    let (Ok(reason_column), Ok(source_column)) =
        (schema.index_of("_reason"), schema.index_of("_source"))
    else {
        return Ok((None, 0));
    };
    let mut changed = false;
    let mut dropped = 0;
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let reasons = batch.column(reason_column).as_string::<i32>();
        let sources = batch.column(source_column).as_string::<i32>();
        let mut replaced = Vec::with_capacity(batch.num_rows());
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let text = reasons.is_valid(i).then(|| reasons.value(i));
            if let Some(r) = text
                && refused.contains(r)
            {
                return Err(common::shard::merge_error(
                    output,
                    format!(
                        "{} quarantined a row as \"{r}\", and the merge removes that first row as a duplicate of another shard's; with unique columns outside the de-duplication key this cannot be settled: run this data unsharded",
                        file.path
                    ),
                )
                .into());
            }
            let gone = sources.is_valid(i) && removed.contains(sources.value(i));
            keep.push(Some(!gone));
            dropped += u64::from(gone);
            match text.and_then(|r| repointed.get(r)) {
                Some(new) => {
                    changed = true;
                    replaced.push(Some(new.clone()));
                }
                None => replaced.push(text.map(str::to_string)),
            }
        }
        let mut columns = batch.columns().to_vec();
        columns[reason_column] = Arc::new(StringArray::from(replaced));
        let batch = RecordBatch::try_new(batch.schema(), columns)?;
        out.push(take_rows(&batch, &BooleanArray::from(keep))?);
    }
    if !changed && dropped == 0 {
        return Ok((None, 0));
    }
    Ok((Some(write(config, at, schema, &out).await?), dropped))
}

async fn write(
    config: &EtlConfig,
    at: &Location,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<common::storage::WrittenFile> {
    let mut sink = ParquetSink::create(at, schema, &config.parquet)?;
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        sink.write(batch).await?;
    }
    Ok(sink.finish().await?)
}

/// The profile of the final training parts.
async fn train_profile(output: &Location, files: Option<&Vec<OutputFile>>) -> Result<Profile> {
    let mut builder: Option<ProfileBuilder> = None;
    for file in files.into_iter().flatten() {
        let (schema, batches) = read_part(output, file).await?;
        let builder = match &mut builder {
            Some(b) => b,
            None => builder.insert(
                ProfileBuilder::new(&schema, &[]).map_err(|e| Error::Internal(e.to_string()))?,
            ),
        };
        for batch in &batches {
            builder
                .add(batch)
                .map_err(|e| Error::Internal(format!("profiling the training split: {e}")))?;
        }
    }
    Ok(builder.map(ProfileBuilder::finish).unwrap_or_default())
}

/// Reads each rule's keys files of the shards (checked against their
/// records).
pub async fn read_keys(
    output: &Location,
    shards: &[(String, &Manifest)],
) -> std::result::Result<BTreeMap<String, ShardKeys>, String> {
    let rules: std::collections::BTreeSet<String> = shards
        .iter()
        .filter_map(|(_, m)| m.shard.as_ref())
        .flat_map(|r| r.keys.keys().cloned())
        .collect();
    let mut all = BTreeMap::new();
    for rule in rules {
        let mut per_shard = Vec::with_capacity(shards.len());
        for (name, m) in shards {
            let Some(file) = m.shard.as_ref().and_then(|r| r.keys.get(&rule)) else {
                return Err(format!("{name} has no keys for the {rule} check"));
            };
            let location = output.join(&file.path).map_err(|e| e.to_string())?;
            let bytes = location.get().await.map_err(|e| e.to_string())?;
            if bytes.len() as u64 != file.bytes
                || common::checksum::sha256_hex(&bytes) != file.sha256
            {
                return Err(format!(
                    "{location} is not the file {name} recorded (size or SHA-256 differ)"
                ));
            }
            per_shard.push(keys::decode(&bytes, &location.to_string()).map_err(|e| e.to_string())?);
        }
        all.insert(rule, per_shard);
    }
    Ok(all)
}
