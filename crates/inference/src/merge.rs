//! `inference merge`: publishes the one `_manifest.json` over the N shards
//! of a sharded scoring run (`inference --shard I/N`), so that a consumer
//! reads one manifest whatever N was.
//!
//! The merge reads only the shards' manifests. It refuses, publishing
//! nothing, when a shard is missing, when the shards scored different
//! inputs or with different models or cleaning (say `latest` moved while
//! they ran: pin the version), or when the drift of all rows together is
//! past `inference.drift.fail`. Drift is recomputed from the shards' counts,
//! exactly as one run would have counted it. Output parts are listed in
//! input order (a single Parquet file's row groups: in shard order).
//! Merging again with nothing changed finds the output up to date.

use chrono::Utc;
use common::shard::{MERGED_RUNS, Merged, Shard, ShardRun, merge_error};
use common::storage::{Location, Runs};
use report::drift::{Drift, Level};

use crate::config::InferenceConfig;
use crate::error::{Error, Result};
use crate::run::{FORMAT_VERSION, InferenceReport, Manifest, Rows, write_report};

/// Merges the shards under `output`; `count` picks the shard count when
/// manifests of several counts are there.
pub async fn merge(
    config: &InferenceConfig,
    output: &str,
    count: Option<usize>,
    force: bool,
) -> Result<InferenceReport> {
    let output = Location::parse(output)?;
    let fail = |message: String| merge_error(&output, message);
    let shards = common::shard::published::<Manifest>(&output, count, "inference").await?;
    check(&shards).map_err(fail)?;
    let merged = Merged {
        count: shards.len(),
        shards: shards
            .iter()
            .map(|(shard, m, sha)| ShardRun {
                index: shard.index,
                run_id: m.run_id.clone(),
                manifest_sha256: sha.clone(),
            })
            .collect(),
    };
    let manifest_location = output.join(&Shard::default().manifest_name())?;
    if !force
        && let Ok(existing) = manifest_location.read_json::<Manifest>().await
        && existing.shards.as_ref() == Some(&merged)
    {
        log::info!("{manifest_location}: up to date (the shards are unchanged)");
        return Ok(InferenceReport {
            output: output.to_string(),
            manifest_location: manifest_location.to_string(),
            manifest: existing,
        });
    }
    let parts: Vec<&Manifest> = shards.iter().map(|(_, m, _)| m).collect();
    let drifts: Option<Vec<Drift>> = parts.iter().map(|m| m.drift.clone()).collect();
    let drift = drifts.and_then(|d| Drift::combine(&d));
    if let Some(drift) = &drift
        && drift.level == Level::Fail
    {
        return Err(Error::Drift {
            fail: drift.thresholds.fail.unwrap_or_default(),
            columns: drift.at_least(Level::Fail),
        });
    }
    let rows = parts.iter().fold(Rows::default(), |t, m| Rows {
        input: t.input + m.rows.input,
        predicted: t.predicted + m.rows.predicted,
        errored: t.errored + m.rows.errored,
        quarantined: t.quarantined + m.rows.quarantined,
    });
    let runs = Runs::new(output.join(&format!("runs/{MERGED_RUNS}"))?);
    let run = runs.start().await?;
    let first = parts[0];
    let started = parts
        .iter()
        .map(|m| m.started)
        .min()
        .unwrap_or_else(Utc::now);
    let finished = Utc::now();
    let seconds = (finished - started).num_milliseconds() as f64 / 1000.0;
    let by_file = first.inputs.iter().all(|i| i.row_groups.is_none());
    let mut manifest = Manifest {
        format_version: FORMAT_VERSION,
        run_id: run.id().to_string(),
        model: first.model.clone(),
        shard: Shard::default(),
        inputs: if by_file {
            interleave(&parts, |m| &m.inputs)
        } else {
            parts.iter().flat_map(|m| m.inputs.clone()).collect()
        },
        outputs: if by_file {
            interleave(&parts, |m| &m.outputs)
        } else {
            parts.iter().flat_map(|m| m.outputs.clone()).collect()
        },
        quarantine: parts.iter().flat_map(|m| m.quarantine.clone()).collect(),
        cleaning: first.cleaning.clone(),
        rows,
        drift,
        report: None,
        started,
        finished,
        seconds,
        rows_per_second: rows.input as f64 / seconds.max(1e-9),
        input_set: None,
        shards: Some(merged),
    };
    match write_report(&manifest, run.root(), &output).await {
        Ok(report) => manifest.report = Some(report),
        Err(e) => {
            run.abandon().await;
            return Err(e);
        }
    }
    run.publish(
        &output,
        &manifest.published_files(),
        &manifest_location,
        &manifest,
    )
    .await?;
    log::info!(
        "merged {} shards: {} rows → {} predicted, {} errored, {} quarantined → {manifest_location}",
        shards.len(),
        rows.input,
        rows.predicted,
        rows.errored,
        rows.quarantined
    );
    runs.prune(config.keep_runs, &[&manifest_location], |_| false)
        .await;
    Ok(InferenceReport {
        output: output.to_string(),
        manifest_location: manifest_location.to_string(),
        manifest,
    })
}

/// That the shards scored the same input with the same model and cleaning.
fn check(shards: &[(Shard, Manifest, String)]) -> std::result::Result<(), String> {
    let (first_shard, first, _) = &shards[0];
    let name = |s: &Shard| s.manifest_name();
    for (shard, m, _) in shards {
        if m.format_version != FORMAT_VERSION || m.shard != *shard {
            return Err(format!(
                "{} is not a shard manifest of this format (format_version {}, shard {})",
                name(shard),
                m.format_version,
                m.shard
            ));
        }
        if (&m.model.version, &m.model.artifact_sha256)
            != (&first.model.version, &first.model.artifact_sha256)
        {
            return Err(format!(
                "{} scored with model {} and {} with {}; pin the version (--model vN) and rerun the shards",
                name(first_shard),
                first
                    .model
                    .version
                    .as_deref()
                    .unwrap_or(&first.model.reference),
                name(shard),
                m.model.version.as_deref().unwrap_or(&m.model.reference)
            ));
        }
        if m.cleaning != first.cleaning {
            return Err(format!(
                "{} and {} cleaned their input differently; rerun them with one config",
                name(first_shard),
                name(shard)
            ));
        }
        if m.input_set.is_none() || m.input_set != first.input_set {
            return Err(format!(
                "{} and {} scored different inputs; the input changed between shards: rerun them all",
                name(first_shard),
                name(shard)
            ));
        }
        if m.rows.input != m.rows.predicted + m.rows.errored + m.rows.quarantined {
            return Err(format!("{}: its row counts do not add up", name(shard)));
        }
    }
    Ok(())
}

/// Items in input order: shard `k mod N` holds unit `k`.
fn interleave<T: Clone>(parts: &[&Manifest], items: impl Fn(&Manifest) -> &Vec<T>) -> Vec<T> {
    let lists: Vec<&[T]> = parts.iter().map(|m| items(m).as_slice()).collect();
    common::shard::interleave(&lists)
}
