//! `etl merge`: publishes the one `_manifest.json` over the N shards of a
//! sharded run (`etl --shard I/N`), which the trainer reads as it reads an
//! unsharded run's.
//!
//! What is global and what is per shard:
//! - **Rows.** Shard `I` cleans the input files `I mod N` of the whole
//!   run's sorted file list, or the row groups `I mod N` of a single Parquet
//!   input; every shard plans over all files, so all agree on the columns
//!   and their types. Counts add up across shards.
//! - **De-duplication and `unique`** are exact across shards: keys kept by
//!   two shards are settled here ([`crate::reconcile`]), so the union is the
//!   rows an unsharded run keeps.
//! - **The split.** With `split.key` a row's split depends on its key
//!   only: N shards give the rows one run gives. Without it each shard
//!   makes the exact seeded split of its own rows, so the fractions hold
//!   per shard but the rows differ from an unsharded run's.
//! - **`keep_runs`** counts the run folders of each shard, and of the
//!   merges; a shard never deletes a run the published merge reads.
//!
//! The merge reads the manifests and keys files, and the data only where
//! keys clash; it is idempotent: run it again and it finds the output up to
//! date. It publishes nothing unless all N shards are there, ran with this
//! config, over the same inputs.

use std::collections::BTreeMap;

use chrono::Utc;
use common::lifecycle::{RunKind, Runs, pin_published};
use common::shard::{Merged, Shard, merge_error};

use crate::config::EtlConfig;
use crate::error::{Error, Result};
use crate::manifest::{FORMAT_VERSION, Manifest, RowCounts, Timings};
use crate::reconcile;
use crate::run::{EtlReport, RunOptions, current_manifest, write_report};

/// Merges the shards under `options.output`; `count` picks the shard count
/// when shard manifests of several counts are there.
pub async fn merge(
    config: &EtlConfig,
    options: &RunOptions,
    count: Option<usize>,
) -> Result<EtlReport> {
    options.check_output()?;
    let output = options.output.clone();
    let fail = |message: String| merge_error(&output, message);
    // The shard runs are claimed before anything of them is read: a shard
    // rerun meanwhile cannot prune them (see `common::lifecycle`).
    let (published, merged, claims) =
        pin_published::<Manifest>(&output, count, "etl", |m| &m.run_id).await?;
    let shards: Vec<ShardManifest> = published
        .into_iter()
        .map(|(shard, manifest, _)| ShardManifest {
            shard,
            name: shard.manifest_name(),
            manifest,
        })
        .collect();
    let fingerprint = options.effective(config).fingerprint();
    let runs = Runs::new(&output, RunKind::Merge, config.keep_runs)?;
    let manifest_location = runs.manifest()?;
    let checked = async {
        check(&shards, &fingerprint).map_err(fail)?;
        if !options.force
            && let Some(existing) = current_manifest(&manifest_location).await
            && existing.config_sha256 == fingerprint
            && existing.shards.as_ref() == Some(&merged)
        {
            return Ok(Some(existing));
        }
        Ok::<_, Error>(None)
    };
    match checked.await {
        Ok(None) => {}
        Ok(Some(existing)) => {
            claims.release().await;
            log::info!("{manifest_location}: up to date (the shards are unchanged)");
            return Ok(EtlReport {
                output: output.to_string(),
                manifest: existing,
                up_to_date: true,
            });
        }
        Err(e) => {
            claims.release().await;
            return Err(e);
        }
    }

    let manifests: Vec<&Manifest> = shards.iter().map(|s| &s.manifest).collect();
    let run = runs.start_merge(claims).await?;
    let run_root = run.root().clone();
    let run_id = run.id().to_string();
    let work = async {
        let named: Vec<(String, &Manifest)> = shards
            .iter()
            .map(|s| (s.name.clone(), &s.manifest))
            .collect();
        let keys = reconcile::read_keys(&output, &named).await.map_err(fail)?;
        // What the merged manifest will list is what the shards wrote.
        let parts = manifests.iter().flat_map(|m| m.outputs.values().flatten());
        common::storage::StoredFile::verify_all(&output, parts).await?;
        let inputs = interleave(&manifests);
        let settled =
            reconcile::settle(config, &output, &run_root, &manifests, &inputs, &keys).await?;
        let mut manifest = combine(&manifests, settled, inputs, run_id, fingerprint, merged)?;
        crate::policy::judge_invalid(config, &manifest, &output)?;
        if manifest.rows.train == 0 && !config.allow_empty {
            return Err(Error::EmptyTraining {
                output: output.to_string(),
                input: manifest.rows.input,
                quarantined: manifest.rows.quarantined,
                duplicates: manifest.rows.duplicates,
            });
        }
        manifest.report = Some(write_report(&manifest, &run_root, &output).await?);
        Ok(manifest)
    };
    let manifest = run.complete(work).await?;
    log::info!(
        "merged {} shards: {} → {manifest_location}",
        shards.len(),
        manifest.rows
    );
    Ok(EtlReport {
        output: output.to_string(),
        manifest,
        up_to_date: false,
    })
}

/// The merged manifest from the shards' and what the reconciliation
/// settled (`None`: no key was kept by two shards).
fn combine(
    manifests: &[&Manifest],
    settled: Option<reconcile::Settled>,
    inputs: Vec<crate::manifest::InputRecord>,
    run_id: String,
    fingerprint: String,
    merged: Merged,
) -> Result<Manifest> {
    let rows = match &settled {
        Some(s) => s.rows,
        None => manifests
            .iter()
            .fold(RowCounts::default(), |t, m| t + m.rows),
    };
    let first = manifests
        .first()
        .ok_or_else(|| Error::Internal("a merge of no shards".into()))?;
    let started = manifests
        .iter()
        .map(|m| m.timings.started)
        .min()
        .unwrap_or_else(Utc::now);
    let finished = Utc::now();
    let seconds = (finished - started).num_milliseconds() as f64 / 1000.0;
    let mut outputs: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for m in manifests {
        for (reason, example) in &m.quarantine_examples {
            examples
                .entry(reason.clone())
                .or_insert_with(|| example.clone());
        }
        for (dataset, files) in &m.outputs {
            outputs
                .entry(dataset.clone())
                .or_default()
                .extend(files.iter().cloned());
        }
        for (reason, n) in &m.quarantine_reasons {
            *reasons.entry(reason.clone()).or_default() += n;
        }
    }
    let profiles: Option<Vec<_>> = manifests.iter().map(|m| m.profile.clone()).collect();
    let mut profile = profiles.and_then(|p| records::profile::Profile::merge(&p));
    if let Some(settled) = settled {
        outputs = settled.outputs;
        reasons = settled.reasons;
        profile = settled.profile.or(profile);
    }
    Ok(Manifest {
        format_version: FORMAT_VERSION,
        run_id,
        producer: format!(
            "cauce-etl {} (merge of {} shards)",
            env!("CARGO_PKG_VERSION"),
            manifests.len()
        ),
        config_sha256: fingerprint,
        inputs,
        schema: first.schema.clone(),
        outputs,
        cleaning: first.cleaning.clone(),
        transform: first.transform.clone(),
        rows,
        quarantine_reasons: reasons,
        quarantine_examples: examples,
        profile,
        report: None,
        timings: Timings {
            started,
            finished,
            seconds,
            rows_per_second: rows.input as f64 / seconds.max(1e-9),
        },
        shard: None,
        shards: Some(merged),
    })
}

/// A shard's manifest as read.
struct ShardManifest {
    shard: Shard,
    name: String,
    manifest: Manifest,
}

/// That every shard ran with this config over the same inputs and made the
/// same columns.
fn check(shards: &[ShardManifest], fingerprint: &str) -> std::result::Result<(), String> {
    let first = &shards[0];
    for s in shards {
        let m = &s.manifest;
        if m.format_version != FORMAT_VERSION {
            return Err(format!(
                "{}: format_version {} is not {FORMAT_VERSION}; rerun that shard",
                s.name, m.format_version
            ));
        }
        if m.config_sha256 != fingerprint {
            return Err(format!(
                "{} ran with another etl config, input or output than this merge (config_sha256 {} here {}); rerun that shard or merge with its config",
                s.name,
                short(&m.config_sha256),
                short(fingerprint)
            ));
        }
        let (Some(record), Some(first_record)) = (&m.shard, &first.manifest.shard) else {
            return Err(format!("{} is not a shard's manifest", s.name));
        };
        if (record.index, record.count) != (s.shard.index, s.shard.count) {
            return Err(format!(
                "{} records shard {}/{}",
                s.name, record.index, record.count
            ));
        }
        if record.inputs_sha256 != first_record.inputs_sha256 {
            return Err(format!(
                "{} and {} were made from different input files ({} and {} files); the inputs changed between shards: rerun them all with --force",
                first.name, s.name, first_record.inputs_total, record.inputs_total
            ));
        }
        if m.schema != first.manifest.schema {
            return Err(format!(
                "{} and {} have different columns",
                first.name, s.name
            ));
        }
        if m.transform != first.manifest.transform {
            let tables = |m: &Manifest| {
                m.transform
                    .iter()
                    .flat_map(|t| &t.tables)
                    .map(|t| format!("{} {}", t.name, short(&t.sha256)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "{} and {} ran different transforms (reference tables {} and {}): a reference table changed between shards; rerun them all with --force",
                first.name,
                s.name,
                tables(&first.manifest),
                tables(m)
            ));
        }
        if record.row_groups != first_record.row_groups {
            return Err(format!(
                "{} and {} split the input differently (by file and by row group)",
                first.name, s.name
            ));
        }
        let owned = match record.row_groups {
            Some(_) => 1,
            None => (0..record.inputs_total)
                .filter(|i| s.shard.owns(*i))
                .count(),
        };
        if m.inputs.len() != owned {
            return Err(format!(
                "{} lists {} input files where shard {} of {} files has {owned}",
                s.name,
                m.inputs.len(),
                s.shard,
                record.inputs_total
            ));
        }
        if !m.rows.balanced() {
            return Err(format!("{}: its row counts do not add up", s.name));
        }
    }
    Ok(())
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The whole run's input list: the files in input order, or the one
/// Parquet file whose row groups the shards split, with all their rows.
fn interleave(manifests: &[&Manifest]) -> Vec<crate::manifest::InputRecord> {
    let by_row_group = manifests
        .first()
        .and_then(|m| m.shard.as_ref())
        .is_some_and(|r| r.row_groups.is_some());
    if by_row_group {
        let mut whole: Vec<_> = manifests[0].inputs.iter().take(1).cloned().collect();
        for input in &mut whole {
            input.rows = manifests
                .iter()
                .flat_map(|m| &m.inputs)
                .map(|i| i.rows)
                .sum();
        }
        return whole;
    }
    let inputs: Vec<&[_]> = manifests.iter().map(|m| m.inputs.as_slice()).collect();
    common::shard::interleave(&inputs)
}
