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
use common::lifecycle::{RunKind, Runs, pin_published};
use common::shard::{Merged, Shard, merge_error};
use common::storage::Location;
use records::drift::{Drift, Level};

use crate::config::InferenceConfig;
use crate::error::{Error, Result};
use crate::run::{FORMAT_VERSION, InferenceReport, Manifest, Rows, write_report};

/// Merges the shards under `output`; `count` picks the shard count when
/// manifests of several counts are there.
pub async fn merge(
    config: &InferenceConfig,
    output: &Location,
    count: Option<usize>,
    force: bool,
) -> Result<InferenceReport> {
    let output = output.clone();
    let fail = |message: String| merge_error(&output, message);
    // Claimed before use: a shard rerun meanwhile cannot prune them.
    let (shards, merged, claims) =
        pin_published::<Manifest>(&output, count, "inference", |m| &m.run_id).await?;
    let runs = Runs::new(&output, RunKind::Merge, config.keep_runs)?;
    let manifest_location = runs.manifest()?;
    let parts: Vec<&Manifest> = shards.iter().map(|(_, m, _)| m).collect();
    let drifts: Option<Vec<Drift>> = parts.iter().map(|m| m.drift.clone()).collect();
    let drift = drifts.and_then(|d| Drift::combine(&d));
    let checked = async {
        check(&shards).map_err(fail)?;
        if !force
            && let Ok(existing) = manifest_location.read_json::<Manifest>().await
            && existing.shards.as_ref() == Some(&merged)
        {
            return Ok(Some(existing));
        }
        if let Some(drift) = &drift
            && drift.level == Level::Fail
        {
            return Err(Error::Drift {
                fail: drift.thresholds.fail.unwrap_or_default(),
                columns: drift.at_least(Level::Fail),
            });
        }
        Ok(None)
    };
    match checked.await {
        Ok(None) => {}
        Ok(Some(existing)) => {
            claims.release().await;
            log::info!("{manifest_location}: up to date (the shards are unchanged)");
            return Ok(InferenceReport {
                output: output.to_string(),
                manifest_location: manifest_location.to_string(),
                manifest: existing,
            });
        }
        Err(e) => {
            claims.release().await;
            return Err(e);
        }
    }
    let run = runs.start_merge(claims).await?;
    let run_root = run.root().clone();
    let mut manifest = combine(&parts, run.id().to_string(), merged, drift);
    let work = async {
        // What the merged manifest will list is what the shards wrote.
        let parts = parts
            .iter()
            .flat_map(|m| m.outputs.iter().chain(&m.quarantine));
        common::storage::StoredFile::verify_all(&output, parts).await?;
        manifest.report = Some(write_report(&manifest, &run_root, &output).await?);
        Ok::<_, Error>(manifest)
    };
    let manifest = run.complete(work).await?;
    let rows = manifest.rows;
    log::info!(
        "merged {} shards: {} rows → {} predicted, {} errored, {} quarantined → {manifest_location}",
        shards.len(),
        rows.input,
        rows.predicted,
        rows.errored,
        rows.quarantined
    );
    Ok(InferenceReport {
        output: output.to_string(),
        manifest_location: manifest_location.to_string(),
        manifest,
    })
}

/// The merged manifest over the shards' `parts` (checked, in index order).
fn combine(parts: &[&Manifest], run_id: String, merged: Merged, drift: Option<Drift>) -> Manifest {
    let first = parts[0];
    let rows = parts.iter().fold(Rows::default(), |t, m| Rows {
        input: t.input + m.rows.input,
        predicted: t.predicted + m.rows.predicted,
        errored: t.errored + m.rows.errored,
        quarantined: t.quarantined + m.rows.quarantined,
    });
    let started = parts
        .iter()
        .map(|m| m.started)
        .min()
        .unwrap_or_else(Utc::now);
    let finished = Utc::now();
    let seconds = (finished - started).num_milliseconds() as f64 / 1000.0;
    let by_file = first.inputs.iter().all(|i| i.row_groups.is_none());
    Manifest {
        format_version: FORMAT_VERSION,
        run_id,
        model: first.model.clone(),
        shard: Shard::default(),
        inputs: if by_file {
            interleave(parts, |m| &m.inputs)
        } else {
            parts.iter().flat_map(|m| m.inputs.clone()).collect()
        },
        outputs: if by_file {
            interleave(parts, |m| &m.outputs)
        } else {
            parts.iter().flat_map(|m| m.outputs.clone()).collect()
        },
        quarantine: parts.iter().flat_map(|m| m.quarantine.clone()).collect(),
        cleaning: first.cleaning.clone(),
        transform: first.transform.clone(),
        rows,
        drift,
        report: None,
        started,
        finished,
        seconds,
        rows_per_second: rows.input as f64 / seconds.max(1e-9),
        input_set: None,
        shards: Some(merged),
        predicted_classes: parts.iter().fold(Default::default(), |mut all, m| {
            for (class, n) in &m.predicted_classes {
                *all.entry(class.clone()).or_default() += n;
            }
            all
        }),
        test_predicted_shares: first.test_predicted_shares.clone(),
    }
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
