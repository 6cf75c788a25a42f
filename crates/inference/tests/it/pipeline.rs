//! etl → trainer → registry → inference with the shipped configs, on a temp
//! dir and on the S3 test server: identical predictions from both.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use common::storage::{Location, ParquetSource};
use common::testing::TestStore;
use futures::TryStreamExt;
use inference::{InferenceConfig, Manifest, PipelineConfig, RunOptions};

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Raw penguins, processed by etl, a model trained and promoted to latest.
pub async fn trained(root: &Location) {
    let csv = std::fs::read(repo("data/raw/penguins.csv")).unwrap();
    root.join("raw/penguins.csv")
        .unwrap()
        .put(csv)
        .await
        .unwrap();
    let pipeline = etl::PipelineConfig::load(&repo("config/pipeline_config.yaml")).unwrap();
    let etl_options =
        etl::RunOptions::new(root.join("raw").unwrap(), root.join("processed").unwrap());
    etl::run(&pipeline.etl, &etl_options).await.unwrap();
    let config = trainer::TrainConfig::load(&repo("config/model_config.yaml")).unwrap();
    let options = trainer::TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    )
    .with_promote(trainer::Promote::Always);
    trainer::train(&config, &options).await.unwrap();
}

pub fn shipped() -> InferenceConfig {
    PipelineConfig::load(&repo("config/pipeline_config.yaml"))
        .unwrap()
        .inference
}

pub fn options(root: &Location, input: &str, output: &str) -> RunOptions {
    RunOptions::new(
        root.join(input).unwrap(),
        root.join(output).unwrap(),
        root.join("models").unwrap(),
    )
}

/// Every output row of a manifest, as text, in file order.
pub async fn rows(root: &Location, output: &str, manifest: &Manifest) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for file in &manifest.outputs {
        let location = root.join(output).unwrap().join(&file.path).unwrap();
        let batches: Vec<RecordBatch> = ParquetSource::open(&location)
            .await
            .unwrap()
            .stream(4096, None)
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for batch in batches {
            let text: Vec<_> = batch
                .columns()
                .iter()
                .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap())
                .collect();
            for i in 0..batch.num_rows() {
                use arrow::array::{Array, AsArray};
                out.push(
                    text.iter()
                        .map(|c| {
                            c.as_string::<i32>()
                                .is_valid(i)
                                .then(|| c.as_string::<i32>().value(i).to_string())
                        })
                        .collect(),
                );
            }
        }
    }
    out
}

async fn pipeline(backend: &str) -> Vec<Vec<Option<String>>> {
    let store = TestStore::named(backend);
    let root = store.location();
    trained(root).await;
    let report = inference::run(
        &shipped(),
        &options(root, "raw/penguins.csv", "predictions"),
    )
    .await
    .unwrap();
    let m = &report.manifest;
    assert_eq!(
        (m.rows.input, m.rows.predicted, m.rows.errored),
        (344, 344, 0)
    );
    assert_eq!(m.model.version.as_deref(), Some("v1"));
    assert!(m.model.card_sha256.is_some());
    let predictions = rows(root, "predictions", m).await;
    // island, year, prediction, three probabilities, model_version, _error.
    assert_eq!(predictions[0].len(), 8);
    assert_eq!(
        predictions[0][0].as_deref(),
        Some("Torgersen"),
        "input order is kept"
    );
    let accuracy = {
        let truth: Vec<String> = std::fs::read_to_string(repo("data/raw/penguins.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        truth
            .iter()
            .zip(&predictions)
            .filter(|(t, p)| p[2].as_deref() == Some(t.as_str()))
            .count() as f64
            / 344.0
    };
    assert!(accuracy > 0.95, "{accuracy}");
    // Issue 29.4: the manifest counts the predicted classes (what the
    // report draws beside the test set's shares), and they add up.
    let counted: Vec<(&str, u64)> = m
        .predicted_classes
        .iter()
        .map(|(c, n)| (c.as_str(), *n))
        .collect();
    for (class, n) in &counted {
        let listed = predictions
            .iter()
            .filter(|p| p[2].as_deref() == Some(*class))
            .count() as u64;
        assert_eq!(*n, listed, "{class}");
    }
    assert_eq!(counted.iter().map(|c| c.1).sum::<u64>(), 344);
    let shares: f64 = m.test_predicted_shares.values().sum();
    assert_eq!(m.test_predicted_shares.len(), 3);
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    predictions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_predictions_on_local_disk_and_s3() {
    if common::testing::skip_s3() {
        return;
    }
    let local = pipeline("local").await;
    let s3 = pipeline("s3").await;
    assert_eq!(local, s3);
}

/// Regression (issue 12.1): 16 concurrent runs into one output pruned runs
/// still being written and the final manifest listed deleted files (2
/// rounds in 3). Now all succeed and every listed file exists.
async fn concurrent_runs_leave_a_valid_manifest(backend: &str) {
    let store = TestStore::named(backend);
    let root = store.location();
    trained(root).await;
    let mut config = shipped();
    config.keep_runs = 1;
    let options = options(root, "raw/penguins.csv", "predictions");
    for round in 0..2 {
        let runs = (0..16).map(|_| {
            let (config, options) = (config.clone(), options.clone());
            tokio::spawn(async move { inference::run(&config, &options).await })
        });
        for run in futures::future::join_all(runs).await {
            let report = run
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(report.manifest.rows.predicted, 344);
        }
        let output = root.join("predictions").unwrap();
        let manifest: Manifest = output
            .join("_manifest.json")
            .unwrap()
            .read_json()
            .await
            .unwrap();
        for file in manifest.outputs.iter().chain(&manifest.quarantine) {
            let meta = output.join(&file.path).unwrap().head().await;
            let meta = meta.unwrap_or_else(|e| panic!("round {round}: manifest lists {e}"));
            assert_eq!(meta.size, file.bytes);
        }
        assert_eq!(rows(root, "predictions", &manifest).await.len(), 344);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_leave_a_valid_manifest_local() {
    concurrent_runs_leave_a_valid_manifest("local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_leave_a_valid_manifest_s3() {
    if common::testing::skip_s3() {
        return;
    }
    concurrent_runs_leave_a_valid_manifest("s3").await;
}
