//! Issue 11's trainer defects, each on a small crafted ETL output: every
//! test row counts, every named column exists, uninformative columns are
//! dropped instead of crashing an estimator, and messages name what is wrong.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use common::storage::{Location, ParquetSink, ParquetWriteOptions};
use common::testing::TestStore;
use trainer::{Evaluation, TrainConfig, TrainOptions};

/// Writes `train` and `test` as an ETL output (Parquet files and manifest) under `root/processed`.
pub async fn write_processed(root: &Location, train: &RecordBatch, test: &RecordBatch) {
    write_splits(root, &[("train", train), ("test", test)]).await;
}

/// Writes each `(split, rows)` as an ETL output under `root/processed`.
pub async fn write_splits(root: &Location, splits: &[(&str, &RecordBatch)]) {
    let processed = root.join("processed").unwrap();
    let mut outputs = serde_json::Map::new();
    for &(split, batch) in splits {
        let file = processed
            .join(&format!("runs/r1/{split}/part-00000.parquet"))
            .unwrap();
        let mut sink =
            ParquetSink::create(&file, batch.schema(), &ParquetWriteOptions::default()).unwrap();
        sink.write(batch).await.unwrap();
        let written = sink.finish().await.unwrap().relative_to(&processed);
        outputs.insert(split.into(), serde_json::json!([written]));
    }
    // Every field etl writes, so the trainer reads it as the one typed
    // record (`records::etl::Manifest`).
    let manifest = serde_json::json!({
        "format_version": records::etl::FORMAT_VERSION,
        "run_id": "r1",
        "producer": "test",
        "config_sha256": "",
        "inputs": [],
        "schema": [],
        "outputs": outputs,
        "rows": {"input": 0, "train": 0, "test": 0, "validation": 0, "quarantined": 0, "duplicates": 0},
        "quarantine_reasons": {},
        "timings": {
            "started": "2026-12-07T00:00:00Z",
            "finished": "2026-12-07T00:00:01Z",
            "seconds": 1.0,
            "rows_per_second": 0.0
        },
    });
    processed
        .join("_manifest.json")
        .unwrap()
        .put(serde_json::to_vec(&manifest).unwrap())
        .await
        .unwrap();
}

pub fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|c| c.1).collect(),
    )
    .unwrap()
}

fn floats(values: impl IntoIterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(values))
}

fn labels(values: impl IntoIterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn options(root: &Location) -> TrainOptions {
    TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    )
    .with_register(false)
}

fn config(yaml: &str) -> TrainConfig {
    TrainConfig::from_yaml(yaml, "m.yaml".as_ref()).unwrap()
}

/// Two classes learnable from `x`; the test split adds a class never trained on.
fn unseen_class_data() -> (RecordBatch, RecordBatch) {
    let x: Vec<f64> = (0..40).map(f64::from).collect();
    let y: Vec<&str> = x
        .iter()
        .map(|v| if *v < 20.0 { "a" } else { "b" })
        .collect();
    let train = batch(vec![("x", floats(x)), ("y", labels(y))]);
    let test = batch(vec![
        ("x", floats([1.0, 30.0, 5.0, 35.0])),
        ("y", labels(["a", "b", "c", "c"])),
    ]);
    (train, test)
}

/// Regression (issue 11.2): test rows of a class never seen in training were
/// dropped, so the card said 4 test rows and the metrics covered 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_rows_of_unseen_classes_count_as_wrong() {
    let store = TestStore::memory();
    let root = store.location();
    let (train, test) = unseen_class_data();
    write_processed(root, &train, &test).await;
    for algorithm in ["decision_tree", "logistic_regression", "knn"] {
        let yaml = format!(
            "model: {{name: m, task: classification, target: y, algorithm: {algorithm}}}\n"
        );
        let report = trainer::train(&config(&yaml), &options(root))
            .await
            .unwrap();
        let Evaluation::Classification {
            model,
            rows,
            unscored,
            ..
        } = &report.evaluation
        else {
            panic!()
        };
        assert_eq!((*rows, *unscored), (4, 0), "{algorithm}");
        assert_eq!(report.rows["test"], 4);
        assert_eq!(
            model.accuracy, 0.5,
            "{algorithm}: the two 'c' rows are wrong"
        );
        assert_eq!(model.per_class.len(), 3);
        assert_eq!(model.per_class[2].class, "c");
        assert_eq!(model.per_class[2].support, 2);
        assert!(model.log_loss.unwrap() > 10.0, "{algorithm}: p(c) = 0");
    }
}

/// Regression (issue 11.3): `exclude: [idd]` was accepted and `id` became a feature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_column_named_in_features_must_exist() {
    let store = TestStore::memory();
    let root = store.location();
    let (train, test) = unseen_class_data();
    let with_id = |b: &RecordBatch| {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..b.num_rows() as i64));
        batch(vec![
            ("id", ids),
            ("x", b.column(0).clone()),
            ("y", b.column(1).clone()),
        ])
    };
    write_processed(root, &with_id(&train), &with_id(&test)).await;
    let yaml = "model: {name: m, task: classification, target: y, algorithm: decision_tree, \
                features: {exclude: [idd]}}\n";
    let err = trainer::train(&config(yaml), &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "m.yaml: model.features: column(s) 'idd' (did you mean 'id'?) are not in the data; it has 'id', 'x', 'y'"
    );
}

/// Regression (issue 11.4): a constant column crashed ridge with smartcore's
/// "Cannot rescale constant column 0", naming no column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_and_empty_columns_are_dropped_not_fatal() {
    let store = TestStore::memory();
    let root = store.location();
    let make = |n: usize| {
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v + 1.0).collect();
        let nulls: ArrayRef = Arc::new(Float64Array::from(vec![None::<f64>; n]));
        batch(vec![
            ("constant", floats(vec![7.0; n])),
            ("x", floats(x)),
            ("empty", nulls),
            ("same_text", labels(vec!["k"; n])),
            ("y", floats(y)),
        ])
    };
    write_processed(root, &make(50), &make(10)).await;
    for algorithm in [
        "ridge",
        "linear_regression",
        "lasso",
        "knn",
        "decision_tree",
    ] {
        let yaml =
            format!("model: {{name: m, task: regression, target: y, algorithm: {algorithm}}}\n");
        let report = trainer::train(&config(&yaml), &options(root))
            .await
            .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        assert_eq!(report.evaluation.rows(), 10);
    }
    // Nothing left to learn from is an error naming the columns.
    let yaml = "model: {name: m, task: regression, target: y, algorithm: ridge, \
                features: {numeric: [constant, empty]}}\n";
    let err = trainer::train(&config(yaml), &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "every feature is constant or all null in the training split ('constant', 'empty')"
        ),
        "{err}"
    );
}

/// Issue 11.9: a mistyped target names the data, its columns and the likely
/// column; a text target for a regression suggests classification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_messages_name_the_data_and_the_fix() {
    let store = TestStore::memory();
    let root = store.location();
    let (train, test) = unseen_class_data();
    write_processed(root, &train, &test).await;
    let yaml = "model: {name: m, task: classification, target: yy, algorithm: decision_tree}\n";
    let err = trainer::train(&config(yaml), &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "m.yaml: model.target: column 'yy' is not in the data at {root}/processed/_manifest.json (did you mean 'y'?); it has 'x', 'y'"
        )
    );
    let yaml = "model: {name: m, task: regression, target: y, algorithm: ridge}\n";
    let err = trainer::train(&config(yaml), &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("m.yaml: model.task: regression needs a numeric target, but the target 'y' is Utf8; use task: classification"),
        "{err}"
    );
}

/// Regression (issue 11.6): the card said `max_features: null` for a forest
/// trained with `sqrt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_show_the_task_defaults_used() {
    let store = TestStore::memory();
    let root = store.location();
    let (train, test) = unseen_class_data();
    write_processed(root, &train, &test).await;
    let yaml = "model: {name: m, task: classification, target: y, algorithm: random_forest, params: {n_trees: 3}}\n";
    let mut opts = options(root);
    opts.register = true;
    trainer::train(&config(yaml), &opts).await.unwrap();
    let card = model_registry::Registry::at(opts.registry.clone())
        .resolve("v1")
        .await
        .unwrap()
        .card;
    assert_eq!(card.params["params"]["max_features"], "sqrt");
}

/// Gradient boosting with `early_stopping_rounds` stops on the ETL's
/// validation split when there is one (and says so in the card's training
/// record), and on a seeded holdout of the training rows when there is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boosting_stops_early_on_the_validation_split() {
    let rows = |n: usize, offset: usize| {
        let x: Vec<f64> = (0..n)
            .map(|i| ((i + offset) * 37 % 101) as f64 / 10.0)
            .collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| (v * 1.3).sin() * 10.0 + ((i * 13 % 7) as f64 - 3.0))
            .collect();
        batch(vec![("x", floats(x)), ("y", floats(y))])
    };
    let (train, validation, test) = (rows(400, 0), rows(100, 1), rows(100, 2));
    let yaml = "model: {name: m, task: regression, target: y, algorithm: gradient_boosting, params: {n_estimators: 300, learning_rate: 0.3, min_samples_leaf: 5, early_stopping_rounds: 3}}\n";

    let store = TestStore::memory();
    let root = store.location();
    write_splits(
        root,
        &[
            ("train", &train),
            ("validation", &validation),
            ("test", &test),
        ],
    )
    .await;
    let report = trainer::train(&config(yaml), &options(root)).await.unwrap();
    let training = report.training.expect("a booster records its training");
    assert_eq!(training.validation_from, "validation split");
    assert_eq!(training.validation_rows, 100);
    let best = training.best_iteration;
    let losses = &training.validation;
    assert!(best < 300 && losses.len() > best, "{training:?}");
    let best_loss = losses[best - 1];
    assert!(losses.iter().all(|&l| l >= best_loss));

    let store = TestStore::memory();
    let root = store.location();
    write_processed(root, &train, &test).await;
    let report = trainer::train(&config(yaml), &options(root)).await.unwrap();
    let training = report.training.unwrap();
    assert_eq!(training.validation_from, "training holdout");
    assert_eq!(training.validation_rows, 40);
}

/// Issue 28.11 (a README claim without a test): test rows the model cannot
/// score (an unseen category with `unknown_category: error`) count as
/// wrong, end to end: they lower accuracy instead of leaving the test set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unscored_test_rows_count_as_wrong_end_to_end() {
    let store = TestStore::memory();
    let root = store.location();
    let x: Vec<f64> = (0..40).map(f64::from).collect();
    let c: Vec<&str> = (0..40)
        .map(|i| if i % 2 == 0 { "p" } else { "q" })
        .collect();
    let y: Vec<&str> = x
        .iter()
        .map(|v| if *v < 20.0 { "a" } else { "b" })
        .collect();
    let train = batch(vec![("x", floats(x)), ("c", labels(c)), ("y", labels(y))]);
    let test = batch(vec![
        ("x", floats([1.0, 30.0, 5.0, 35.0])),
        ("c", labels(["p", "q", "zz", "zz"])),
        ("y", labels(["a", "b", "a", "b"])),
    ]);
    write_processed(root, &train, &test).await;
    let yaml = "model:\n  name: m\n  task: classification\n  target: y\n  algorithm: decision_tree\n  preprocessing: {unknown_category: error}\n";
    let report = trainer::train(&config(yaml), &options(root)).await.unwrap();
    let Evaluation::Classification {
        model,
        rows,
        unscored,
        ..
    } = &report.evaluation
    else {
        panic!()
    };
    assert_eq!((*rows, *unscored), (4, 2));
    assert_eq!(model.accuracy, 0.5, "the two unscored rows are wrong");
    assert_eq!(model.confusion, [[1, 0], [0, 1]], "and not in the matrix");
}
