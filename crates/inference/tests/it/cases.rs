//! Schema enforcement, nulls, unseen categories, empty input, pinned and
//! tampered versions, and sharding.

use common::storage::Location;
use common::testing::TestStore;
use inference::{Error, Shard};
use model_registry::Registry;

use crate::pipeline::{options, rows, shipped, trained};

async fn setup() -> TestStore {
    let store = TestStore::memory();
    trained(store.location()).await;
    store
}

async fn put(root: &Location, name: &str, text: &str) {
    root.join(name)
        .unwrap()
        .put(text.to_string())
        .await
        .unwrap();
}

const HEADER: &str =
    "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n";

#[tokio::test]
async fn missing_columns_are_named_together_and_nothing_is_written() {
    let store = setup().await;
    let root = store.location();
    put(
        root,
        "new/in.csv",
        "island,bill_length_mm,year\nDream,40,2008\n",
    )
    .await;
    let err = inference::run(&shipped(), &options(root, "new/in.csv", "out"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing column(s) 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex' that the model's transform (or passthrough) reads"),
        "{err}"
    );
    assert!(
        !root
            .join("out/_manifest.json")
            .unwrap()
            .exists()
            .await
            .unwrap()
    );
    assert!(
        root.join("out").unwrap().list().await.unwrap().is_empty(),
        "a failed run leaves nothing"
    );
}

/// Issue 13: one bad cell aborted a whole CSV run. Now a cell that does not
/// cast and a ragged row are that row's `_error` (with its line, in etl's
/// words), `Infinity` (missing, for the imputer) is scored, and the rows keep
/// their order. The shipped config's transform reads the columns as etl
/// typed them, so a fractional value in an int64 column is a row error, as
/// etl would quarantine it (issue 30).
#[tokio::test]
async fn bad_cells_and_rows_are_row_errors_and_castable_ones_are_scored() {
    let store = setup().await;
    let root = store.location();
    let text = format!(
        "{HEADER}Adelie,Dream,long,18,190,3800,male,2008\n\
         Gentoo,Biscoe,47,15,220.5,5200,female,2009\n\
         Adelie,Dream,40,18,190\n\
         Adelie,Dream,Infinity,18,190,3800,male,2008\n"
    );
    put(root, "bad/in.csv", &text).await;
    let report = inference::run(&shipped(), &options(root, "bad/in.csv", "out"))
        .await
        .unwrap();
    let counts = &report.manifest.rows;
    assert_eq!((counts.input, counts.predicted, counts.errored), (4, 1, 3));
    let out = rows(root, "out", &report.manifest).await;
    let errors: Vec<Option<&str>> = out.iter().map(|r| r[7].as_deref()).collect();
    assert_eq!(
        errors,
        [
            Some("line 2: cast: column 'bill_length_mm': 'long' is not a valid float64"),
            Some("line 3: cast: column 'flipper_length_mm': '220.5' is not a valid int64"),
            Some("line 4: ragged: expected 8 fields, found 5"),
            None,
        ]
    );
    assert_eq!(out[0][2], None, "no prediction for a row with an error");
    assert!(
        out[3][2].is_some(),
        "Infinity is missing for the imputer, and scored"
    );
}

/// Issue 13 "done when", scaled down: 30,000 rows with 100 bad cells
/// scattered through them (read in many batches) give 29,900 predictions
/// and 100 `_error` rows in place, or with `on_error: quarantine` 100
/// quarantined rows that keep the bad value; the counts add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_bad_cells_are_a_hundred_row_errors_in_place() {
    let store = setup().await;
    let root = store.location();
    let raw = std::fs::read_to_string(crate::pipeline::repo("data/raw/penguins.csv")).unwrap();
    let good: Vec<&str> = raw.lines().skip(1).filter(|l| !l.contains("NA")).collect();
    let mut text = HEADER.to_string();
    let mut bad_lines = Vec::new();
    for i in 0..30_000usize {
        let mut fields: Vec<&str> = good[i % good.len()].split(',').collect();
        if i % 300 == 150 {
            fields[2 + (i / 300) % 4] = "abc";
            bad_lines.push(i as u64 + 2);
        }
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    put(root, "many/in.csv", &text).await;
    let mut config = shipped();
    config.batch_size = 1000;
    let report = inference::run(&config, &options(root, "many/in.csv", "nulls"))
        .await
        .unwrap();
    let r = report.manifest.rows;
    assert_eq!(
        (r.input, r.predicted, r.errored, r.quarantined),
        (30_000, 29_900, 100, 0)
    );
    let out = rows(root, "nulls", &report.manifest).await;
    let errored: Vec<u64> = out
        .iter()
        .enumerate()
        .filter(|(_, row)| row[7].is_some())
        .map(|(i, _)| i as u64 + 2)
        .collect();
    assert_eq!(errored, bad_lines, "each error in its row's place");
    assert!(
        out[150][7]
            .as_deref()
            .unwrap()
            .starts_with("line 152: cast: column 'bill_length_mm': 'abc'")
    );

    config.on_error = inference::OnError::Quarantine;
    let report = inference::run(&config, &options(root, "many/in.csv", "quarantined"))
        .await
        .unwrap();
    let r = report.manifest.rows;
    assert_eq!(
        (r.input, r.predicted, r.errored, r.quarantined),
        (30_000, 29_900, 0, 100)
    );
    let q = root
        .join("quarantined")
        .unwrap()
        .join(&report.manifest.quarantine[0].path)
        .unwrap();
    let source = common::storage::ParquetSource::open(&q).await.unwrap();
    assert_eq!(source.num_rows(), 100);
}

/// NDJSON through the same reader: a key that first appears after the
/// lines that made the columns (a field added upstream) is ignored, since
/// the model does not read it; a malformed line is that row's `_error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_ignores_new_keys_and_errors_malformed_lines() {
    let store = setup().await;
    let root = store.location();
    let names: Vec<&str> = HEADER.trim().split(',').collect();
    let raw = std::fs::read_to_string(crate::pipeline::repo("data/raw/penguins.csv")).unwrap();
    let good: Vec<&str> = raw.lines().skip(1).filter(|l| !l.contains("NA")).collect();
    let mut text = String::new();
    for i in 0..1500usize {
        let fields: Vec<&str> = good[i % good.len()].split(',').collect();
        let mut object: Vec<String> = names
            .iter()
            .zip(&fields)
            .map(|(n, v)| match v.parse::<f64>() {
                Ok(_) => format!("\"{n}\": {v}"),
                Err(_) => format!("\"{n}\": \"{v}\""),
            })
            .collect();
        if i == 1300 {
            object.push("\"comment\": \"added upstream\"".into());
        }
        match i {
            1400 => text.push_str("{\"species\": \"Adelie\", \n"),
            _ => text.push_str(&format!("{{{}}}\n", object.join(", "))),
        }
    }
    put(root, "json/in.ndjson", &text).await;
    // Columns come from the first max(batch_size, 1000) lines.
    let mut config = shipped();
    config.batch_size = 500;
    let report = inference::run(&config, &options(root, "json/in.ndjson", "out"))
        .await
        .unwrap();
    let r = report.manifest.rows;
    assert_eq!((r.input, r.predicted, r.errored), (1500, 1499, 1));
    let out = rows(root, "out", &report.manifest).await;
    assert!(out[1300][7].is_none(), "the new key is ignored");
    let error = out[1400][7].as_deref().unwrap();
    assert!(error.starts_with("line 1401: json: "), "{error}");
}

/// A Parquet column of the wrong type is a file-level problem: the run
/// fails before the first prediction, naming the column.
#[tokio::test]
async fn a_parquet_column_of_the_wrong_type_is_refused() {
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use common::storage::{ParquetSink, ParquetWriteOptions};
    use std::sync::Arc;
    let store = setup().await;
    let root = store.location();
    let names = HEADER.trim().split(',');
    let values = [
        "Adelie", "Dream", "long", "18", "190", "3800", "male", "2008",
    ];
    let columns: Vec<(&str, ArrayRef)> = names
        .zip(values)
        .map(|(n, v)| (n, Arc::new(StringArray::from(vec![v])) as ArrayRef))
        .collect();
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let location = root.join("bad/in.parquet").unwrap();
    let mut sink =
        ParquetSink::create(&location, batch.schema(), &ParquetWriteOptions::default()).unwrap();
    sink.write(&batch).await.unwrap();
    sink.finish().await.unwrap();
    let err = inference::run(&shipped(), &options(root, "bad/in.parquet", "out"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Schema { .. }));
    assert!(
        err.to_string().ends_with(
            "column 'bill_length_mm' has type Utf8, the model's transform reads it as Float64"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn nulls_are_imputed_and_unseen_categories_follow_the_policy() {
    let store = setup().await;
    let root = store.location();
    let text = format!(
        "{HEADER}Adelie,Atlantis,NA,NA,NA,NA,NA,2008\nGentoo,Biscoe,47,15,220,5200,female,2009\n"
    );
    put(root, "odd/in.csv", &text).await;
    let report = inference::run(&shipped(), &options(root, "odd/in.csv", "out"))
        .await
        .unwrap();
    assert_eq!(
        (report.manifest.rows.predicted, report.manifest.rows.errored),
        (2, 0),
        "unknown_category: ignore"
    );
    let out = rows(root, "out", &report.manifest).await;
    assert_eq!(out[1][2].as_deref(), Some("Gentoo"));
}

#[tokio::test]
async fn empty_input_gives_an_empty_output_with_a_manifest() {
    let store = setup().await;
    let root = store.location();
    put(root, "empty/in.csv", HEADER).await;
    let report = inference::run(&shipped(), &options(root, "empty/in.csv", "out"))
        .await
        .unwrap();
    assert_eq!(report.manifest.rows.input, 0);
    assert_eq!(report.manifest.outputs[0].rows, 0);
}

#[tokio::test]
async fn a_pinned_old_version_is_used_after_a_newer_promotion() {
    let store = setup().await;
    let root = store.location();
    // Train again: v2, promoted; then pin v1.
    crate::pipeline::trained(root).await;
    let registry = Registry::open(&format!("{root}/models")).unwrap();
    assert_eq!(
        registry
            .resolve_version("latest")
            .await
            .unwrap()
            .to_string(),
        "v2"
    );
    let mut pinned = options(root, "raw/penguins.csv", "pinned");
    pinned.model = "v1".into();
    let report = inference::run(&shipped(), &pinned).await.unwrap();
    assert_eq!(report.manifest.model.version.as_deref(), Some("v1"));
    let out = rows(root, "pinned", &report.manifest).await;
    assert!(
        out.iter().all(|r| r[6].as_deref() == Some("v1")),
        "model_version column"
    );
}

#[tokio::test]
async fn a_tampered_artifact_is_refused() {
    let store = setup().await;
    let root = store.location();
    let artifact = root.join("models/versioned/v1/model.bin").unwrap();
    let mut bytes = artifact.get().await.unwrap().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    artifact.put(bytes).await.unwrap();
    let err = inference::run(&shipped(), &options(root, "raw/penguins.csv", "out"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("v1/model.bin: sha256 mismatch"), "{err}");
}

#[tokio::test]
async fn three_shards_union_equals_the_unsharded_output() {
    let store = setup().await;
    let root = store.location();
    // Several files: shards take whole files.
    let lines: Vec<String> =
        std::fs::read_to_string(crate::pipeline::repo("data/raw/penguins.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
    for (i, chunk) in lines.chunks(50).enumerate() {
        put(
            root,
            &format!("many/part-{i}.csv"),
            &format!("{HEADER}{}\n", chunk.join("\n")),
        )
        .await;
    }
    let whole = inference::run(&shipped(), &options(root, "many", "whole"))
        .await
        .unwrap();
    let mut expected = rows(root, "whole", &whole.manifest).await;
    let mut union = Vec::new();
    // A third of the file (sorted by species) drifts in bill_ratio, which
    // tells the species apart: the shards are judged together, by the merge.
    let mut per_shard = shipped();
    per_shard.drift.fail = None;
    for index in 0..3 {
        let mut opts = options(root, "many", "sharded");
        opts.shard = Shard { index, count: 3 };
        let report = inference::run(&per_shard, &opts).await.unwrap();
        assert!(
            report
                .manifest_location
                .ends_with(&format!("_manifest.shard-{index}-of-3.json"))
        );
        union.extend(rows(root, "sharded", &report.manifest).await);
    }
    // One manifest over the three: the whole run's rows in its order, its
    // counts and its drift (recomputed from the shards' counts).
    let merged = inference::merge(&shipped(), &root.join("sharded").unwrap(), None, false)
        .await
        .unwrap()
        .manifest;
    assert_eq!(rows(root, "sharded", &merged).await, expected);
    assert_eq!(merged.rows, whole.manifest.rows);
    assert_eq!(merged.inputs, whole.manifest.inputs);
    // The shards ran without a drift failure; the columns are the same.
    let columns = |d: Option<records::drift::Drift>| d.map(|d| d.columns);
    assert_eq!(
        columns(merged.drift.clone()),
        columns(whole.manifest.drift.clone())
    );
    assert_eq!(merged.predicted_classes, whole.manifest.predicted_classes);
    assert!(!merged.predicted_classes.is_empty());
    assert_eq!(
        merged.test_predicted_shares,
        whole.manifest.test_predicted_shares
    );
    assert!(merged.drift.is_some() && merged.report.is_some());
    assert_eq!(merged.shards.as_ref().unwrap().count, 3);
    let again = inference::merge(&shipped(), &root.join("sharded").unwrap(), None, false)
        .await
        .unwrap();
    assert_eq!(again.manifest, merged, "nothing changed: up to date");
    expected.sort();
    union.sort();
    assert_eq!(union, expected);
    assert_eq!(union.len(), 344);

    // Shards that scored with different models are refused.
    let mut opts = options(root, "many", "mixed");
    opts.model = "v1".into();
    for index in 0..2 {
        opts.shard = Shard { index, count: 2 };
        inference::run(&shipped(), &opts).await.unwrap();
    }
    crate::pipeline::trained(root).await;
    opts.model = "latest".into();
    opts.shard = Shard { index: 1, count: 2 };
    inference::run(&shipped(), &opts).await.unwrap();
    let e = inference::merge(&shipped(), &root.join("mixed").unwrap(), None, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot merge the shards: _manifest.shard-0-of-2.json scored with model v1 and _manifest.shard-1-of-2.json with v2"),
        "{e}"
    );
    assert!(
        !root
            .join("mixed/_manifest.json")
            .unwrap()
            .exists()
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn one_parquet_file_is_sharded_by_row_group() {
    use common::storage::{ParquetCompression, ParquetSink, ParquetSource, ParquetWriteOptions};
    use futures::TryStreamExt;
    let store = setup().await;
    let root = store.location();
    // The ETL's training split, rewritten with 40-row row groups.
    let manifest: serde_json::Value = root
        .join("processed/_manifest.json")
        .unwrap()
        .read_json()
        .await
        .unwrap();
    let train = root
        .join("processed")
        .unwrap()
        .join(manifest["outputs"]["train"][0]["path"].as_str().unwrap())
        .unwrap();
    let source = ParquetSource::open(&train).await.unwrap();
    let batches: Vec<arrow::array::RecordBatch> = source
        .stream(1000, None)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let small_groups = ParquetWriteOptions {
        compression: ParquetCompression::Snappy,
        row_group_size: 40,
    };
    let mut sink = ParquetSink::create(
        &root.join("big/all.parquet").unwrap(),
        source.schema(),
        &small_groups,
    )
    .unwrap();
    for batch in &batches {
        sink.write(batch).await.unwrap();
    }
    let written = sink.finish().await.unwrap();
    assert!(
        ParquetSource::open(&root.join("big/all.parquet").unwrap())
            .await
            .unwrap()
            .num_row_groups()
            >= 7
    );

    let whole = inference::run(&shipped(), &options(root, "big", "whole"))
        .await
        .unwrap();
    let mut expected = rows(root, "whole", &whole.manifest).await;
    let mut union = Vec::new();
    for index in 0..3 {
        let mut opts = options(root, "big", "sharded");
        opts.shard = Shard { index, count: 3 };
        let report = inference::run(&shipped(), &opts).await.unwrap();
        let groups = report.manifest.inputs[0].row_groups.clone().unwrap();
        assert!(groups.iter().all(|g| g % 3 == index), "{groups:?}");
        union.extend(rows(root, "sharded", &report.manifest).await);
    }
    expected.sort();
    union.sort();
    assert_eq!(union, expected);
    assert_eq!(union.len() as u64, written.rows);
    let merged = inference::merge(&shipped(), &root.join("sharded").unwrap(), Some(3), false)
        .await
        .unwrap()
        .manifest;
    let mut merged_rows = rows(root, "sharded", &merged).await;
    merged_rows.sort();
    assert_eq!(merged_rows, expected);
    assert_eq!(merged.rows, whole.manifest.rows);
}

#[tokio::test]
async fn unscorable_rows_get_an_error_or_go_to_quarantine() {
    let store = TestStore::memory();
    let root = store.location();
    trained(root).await;
    // Retrain v2 with the `error` policy for unseen categories, and promote it.
    let mut config =
        trainer::TrainConfig::load(&crate::pipeline::repo("config/model_config.yaml")).unwrap();
    config.model.preprocessing.unknown_category = model::features::UnknownCategory::Error;
    let train_options = trainer::TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    )
    .with_promote(trainer::Promote::Always);
    trainer::train(&config, &train_options).await.unwrap();
    let text = format!(
        "{HEADER}Adelie,Atlantis,39,18,190,3800,male,2008\nGentoo,Biscoe,47,15,220,5200,female,2009\n"
    );
    put(root, "odd/in.csv", &text).await;

    let report = inference::run(&shipped(), &options(root, "odd/in.csv", "nulls"))
        .await
        .unwrap();
    assert_eq!(
        (report.manifest.rows.predicted, report.manifest.rows.errored),
        (1, 1)
    );
    let out = rows(root, "nulls", &report.manifest).await;
    assert_eq!(out[0][2], None, "no prediction for the unscorable row");
    assert_eq!(
        out[0][7].as_deref(),
        Some("column 'island': category 'Atlantis' was not seen in training")
    );
    assert_eq!(out[1][2].as_deref(), Some("Gentoo"));

    let mut quarantining = shipped();
    quarantining.on_error = inference::OnError::Quarantine;
    let report = inference::run(&quarantining, &options(root, "odd/in.csv", "quarantined"))
        .await
        .unwrap();
    assert_eq!(report.manifest.outputs[0].rows, 1);
    assert_eq!(report.manifest.quarantine.len(), 1);
    let q = root
        .join("quarantined")
        .unwrap()
        .join(&report.manifest.quarantine[0].path)
        .unwrap();
    let source = common::storage::ParquetSource::open(&q).await.unwrap();
    let names: Vec<String> = source
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names.last().map(String::as_str), Some("_error"));
    assert_eq!(names[1], "island");
    assert_eq!(source.num_rows(), 1);
}

#[tokio::test]
async fn an_artifact_that_is_not_a_model_is_named() {
    let store = setup().await;
    let root = store.location();
    put(root, "elsewhere/model.bin", "junk").await;
    let path = root.join("elsewhere/model.bin").unwrap().to_string();
    let err = inference::load_model(&path, &root.join("models").unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("{path}: model artifact: not a Cauce model artifact (bad magic bytes)")
    );
}

/// Regression (issue 12.4): a failed run removed the empty folders above its
/// output (`a/project/outputs/preds` failing took `project/` with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_removes_nothing_above_its_output() {
    let store = TestStore::local();
    let root = store.location();
    trained(root).await;
    let penguins = std::fs::read_to_string(crate::pipeline::repo("data/raw/penguins.csv")).unwrap();
    put(root, "new/a.csv", &penguins).await;
    put(root, "new/b.csv", "island,year\nDream,2008\n").await;
    let outputs = root.join("a/project/outputs").unwrap();
    let dir = std::path::PathBuf::from(outputs.as_str());
    std::fs::create_dir_all(&dir).unwrap();
    let err = inference::run(&shipped(), &options(root, "new", "a/project/outputs/preds"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("b.csv"), "{err}");
    assert!(dir.is_dir(), "the output's parent survives a failed run");
    assert!(
        outputs.list().await.unwrap().is_empty(),
        "and nothing of the run is left"
    );
}

/// Regression (issue 12.15): a passthrough column that is also a model input
/// was named twice when missing.
#[tokio::test]
async fn a_missing_column_is_named_once() {
    let store = setup().await;
    let root = store.location();
    put(root, "new/in.csv", "island,year\nDream,2008\n").await;
    let mut config = shipped();
    config.passthrough = vec!["sex".into(), "island".into()];
    let err = inference::run(&config, &options(root, "new/in.csv", "out"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err.matches("'sex'").count(), 1, "{err}");
}

/// Regression (issue 27.1): a symbolic link under `<output>/runs/` was
/// pruned as an old run, following it: the files it points to were deleted.
#[tokio::test]
async fn pruning_never_follows_a_link_under_runs() {
    let store = TestStore::local();
    let root = store.location();
    trained(root).await;
    let penguins = std::fs::read_to_string(crate::pipeline::repo("data/raw/penguins.csv")).unwrap();
    put(root, "new/a.csv", &penguins).await;
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("precious.parquet"), b"keep").unwrap();
    let runs = std::path::PathBuf::from(format!("/{}/preds/runs", root.path()));
    std::fs::create_dir_all(runs.join("2025-11-03_baseline")).unwrap();
    std::fs::write(runs.join("2025-11-03_baseline/x.parquet"), b"mine").unwrap();
    std::os::unix::fs::symlink(victim.path(), runs.join("0000-link")).unwrap();
    let mut config = shipped();
    config.keep_runs = 1;
    for _ in 0..3 {
        inference::run(&config, &options(root, "new", "preds"))
            .await
            .unwrap();
    }
    assert!(victim.path().join("precious.parquet").exists());
    assert!(runs.join("2025-11-03_baseline/x.parquet").exists());
}

/// Regression (issue 27.3): inference accepted its input folder or the
/// registry as its output.
#[tokio::test]
async fn outputs_overlapping_the_input_or_registry_are_refused() {
    let store = setup().await;
    let root = store.location();
    put(root, "new/in.csv", HEADER).await;
    for (output, says) in [
        ("new", "it is the input"),
        ("new/preds", "it is inside the input"),
        ("models", "it overlaps the model registry"),
        ("models/preds", "it overlaps the model registry"),
    ] {
        let err = inference::run(&shipped(), &options(root, "new", output))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("refusing output {root}/{output}: {says}")),
            "{err}"
        );
    }
    assert!(
        !root
            .join("models/_manifest.json")
            .unwrap()
            .exists()
            .await
            .unwrap()
    );
}
