//! The shipped configs on the shipped penguins data: etl → trainer →
//! registry, then the artifact reloaded from the registry scores exactly as
//! the model did in memory.

use std::path::{Path, PathBuf};
use std::process::Command;

use common::storage::Location;
use common::testing::TestStore;
use model::Model;
use model_registry::Registry;
use trainer::{Evaluation, Promote, TrainConfig, TrainOptions};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs the shipped ETL config on the penguins sample into `root/processed`.
async fn processed(root: &Location) {
    let csv = std::fs::read(repo("data/raw/penguins.csv")).unwrap();
    root.join("raw/penguins.csv")
        .unwrap()
        .put(csv)
        .await
        .unwrap();
    let pipeline = etl::PipelineConfig::load(&repo("config/pipeline_config.yaml")).unwrap();
    let options = etl::RunOptions::new(root.join("raw").unwrap(), root.join("processed").unwrap());
    etl::run(&pipeline.etl, &options).await.unwrap();
}

fn options(root: &Location) -> TrainOptions {
    TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    )
    .with_register(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_config_trains_registers_promotes_and_reloads_identically() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let config = TrainConfig::load(&repo("config/model_config.yaml")).unwrap();
    assert_eq!(config.registry.promote, Promote::IfBetter);

    let first = trainer::train(&config, &options(root)).await.unwrap();
    let Evaluation::Classification {
        model,
        baseline,
        rows,
        unscored,
    } = &first.evaluation
    else {
        panic!()
    };
    assert!(
        model.accuracy > 0.9 && model.accuracy > baseline.accuracy,
        "{model:?}"
    );
    assert_eq!(*rows, first.rows["test"]);
    assert_eq!(*unscored, 0);
    assert_eq!(first.version.map(|v| v.to_string()).as_deref(), Some("v1"));
    assert_eq!(first.promoted.as_ref().unwrap().alias, "latest");

    // Train/serve consistency: the artifact from the registry scores like the fitted model.
    let registry = Registry::open(&format!("{root}/models")).unwrap();
    let resolved = registry.resolve("latest").await.unwrap();
    assert_eq!(
        resolved.card.metadata["artifact"]["sha256"],
        first.artifact_sha256
    );
    let reloaded = Model::from_bytes(&resolved.files[trainer::ARTIFACT_FILE]).unwrap();
    let data = trainer::data::load(&root.join("processed").unwrap())
        .await
        .unwrap();
    let again = trainer::evaluate::evaluate(&reloaded, &data.train, &data.test).unwrap();
    assert_eq!(again, first.evaluation);
    let card = &resolved.card;
    assert_eq!(
        card.metadata["classes"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );
    // Six raw columns and bill_ratio, the shipped transform's.
    assert_eq!(card.metadata["inputs"].as_array().unwrap().len(), 7);
    assert_eq!(card.params["algorithm"], "random_forest");
    assert!(card.metrics.contains_key("baseline_accuracy"));
    // The card's metadata is the typed training record, which says which
    // way each metric improves and holds the test set's curves; the model
    // report is published with the version and listed with its checksum.
    let record: records::training::TrainingRecord =
        serde_json::from_value(card.metadata.clone()).unwrap();
    assert_eq!(record.evaluation, first.evaluation);
    let Some(records::curves::Curves::Classification { classes, .. }) = &record.curves else {
        panic!("classification curves: {:?}", record.curves)
    };
    assert_eq!(classes.len(), 3);
    assert!(
        classes
            .iter()
            .all(|c| c.roc_auc.is_some_and(|auc| auc > 0.9))
    );
    assert_eq!(card.better["accuracy"], model_registry::Better::Higher);
    assert_eq!(card.better["log_loss"], model_registry::Better::Lower);
    assert_eq!(card.better.len(), card.metrics.len());
    let page = String::from_utf8(resolved.files[trainer::REPORT_FILE].to_vec()).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<h2>Confusion matrix</h2>"));
    assert!(
        page.contains("penguins-species v1") || page.contains(" v1</title>"),
        "{}",
        &page[..400]
    );
    match model_registry::model_report(&registry, "v1").await.unwrap() {
        model_registry::ModelReport::Published(published) => assert_eq!(published, page),
        other => panic!("{other:?}"),
    }
    let (version, record) = model_registry::model_record(&registry, "latest")
        .await
        .unwrap();
    let text = report::model::text(&version, &record);
    assert!(
        text.starts_with("penguins-species v1: random_forest classification on 'species'")
            && text.contains("accuracy: 1 (baseline 0.3768)"),
        "{text}"
    );
    let index =
        report::registry::html(&model_registry::overview(&registry).await.unwrap()).unwrap();
    assert!(index.contains(r#"<a href="versioned/v1/report.html">v1</a>"#));

    // The same training again is not better, so the gate keeps v1 in production.
    let second = trainer::train(&config, &options(root)).await.unwrap();
    assert_eq!(
        second.artifact_sha256, first.artifact_sha256,
        "same data, config and seed → same bytes"
    );
    assert_eq!(second.version.map(|v| v.to_string()).as_deref(), Some("v2"));
    assert!(second.promoted.is_none());
    assert_eq!(second.gate.as_ref().unwrap().metric, "accuracy");
    assert_eq!(
        registry
            .resolve_version("latest")
            .await
            .unwrap()
            .to_string(),
        "v1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_beats_the_mean_and_no_register_registers_nothing() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let yaml = "model:\n  name: mass\n  task: regression\n  target: body_mass_g\n  algorithm: ridge\n  params: {alpha: 1.0}\n  features: {exclude: [year]}\n";
    let config = TrainConfig::from_yaml(yaml, "inline.yaml".as_ref()).unwrap();
    let mut opts = options(root);
    opts.register = false;
    let report = trainer::train(&config, &opts).await.unwrap();
    let Evaluation::Regression {
        model, baseline, ..
    } = &report.evaluation
    else {
        panic!()
    };
    assert!(
        model.rmse < 0.6 * baseline.rmse && model.r2 > 0.7,
        "{model:?} vs {baseline:?}"
    );
    assert!(
        report.rows["dropped_null_target"] > 0,
        "the two penguins without measurements"
    );
    assert!(
        Registry::at(opts.registry.clone())
            .versions()
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn artifact_bytes_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = Location::parse(dir.path().to_str().unwrap()).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(processed(&root));
    let sha = |threads: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
            .args([
                "--config",
                repo("config/model_config.yaml").to_str().unwrap(),
            ])
            .args([
                "--data",
                &format!("{root}/processed"),
                "--no-register",
                "--json",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .env("CAUCE_LOG_DIR", dir.path().join("logs"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["artifact_sha256"].as_str().unwrap().to_string()
    };
    assert_eq!(sha("1"), sha("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_search_cross_validates_every_candidate_and_refits_the_best() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let yaml = "model:\n  name: s\n  task: classification\n  target: species\n  algorithm: knn\n  \
                features: {exclude: [year]}\n  \
                search: {kind: grid, cv: 4, metric: f1_macro, space: {k: [1, 5, 25], weights: [uniform, distance]}}\n";
    let config = TrainConfig::from_yaml(yaml, "inline.yaml".as_ref()).unwrap();
    let report = trainer::train(&config, &options(root)).await.unwrap();
    let search = report.search.as_ref().unwrap();
    assert_eq!(search.candidates.len(), 6);
    assert!(
        search
            .candidates
            .iter()
            .all(|c| c.scores.len() == 4 && c.std >= 0.0)
    );
    let best = &search.candidates[search.best];
    assert!(search.candidates.iter().all(|c| c.mean <= best.mean));
    assert_eq!(report.metrics["cv_f1_macro"], best.mean);
    let card = Registry::open(&format!("{root}/models"))
        .unwrap()
        .resolve("v1")
        .await
        .unwrap()
        .card;
    assert_eq!(
        card.params["params"]["k"],
        serde_json::to_value(&best.params["k"]).unwrap(),
        "the refit uses the best candidate"
    );
    assert_eq!(
        card.metadata["search"]["candidates"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    let mut no_register = options(root);
    no_register.register = false;
    let again = trainer::train(&config, &no_register).await.unwrap();
    assert_eq!(again.search, report.search, "the search is deterministic");
    assert_eq!(again.artifact_sha256, report.artifact_sha256);

    let bad = "model:\n  name: s\n  task: classification\n  target: species\n  algorithm: knn\n  \
               search: {kind: grid, metric: rmse, space: {k: [1]}}\n";
    let err = TrainConfig::from_yaml(bad, "m.yaml".as_ref())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("m.yaml: model.search: metric: 'rmse' is not one of accuracy"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svm_searches_kernels_and_its_reloaded_artifact_scores_identically() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let yaml = "model:\n  name: s\n  task: classification\n  target: species\n  algorithm: svm\n  \
                features: {exclude: [year]}\n  \
                search: {kind: grid, cv: 3, metric: accuracy, space: {kernel: [linear, rbf], c: [0.1, 1.0]}}\n";
    let config = TrainConfig::from_yaml(yaml, "inline.yaml".as_ref()).unwrap();
    let report = trainer::train(&config, &options(root)).await.unwrap();
    assert_eq!(report.search.as_ref().unwrap().candidates.len(), 4);
    assert!(report.metrics["accuracy"] > 0.95, "{:?}", report.metrics);
    // Labels only, like scikit-learn's SVC(probability=False).
    assert!(!report.metrics.contains_key("roc_auc"));
    assert!(!report.metrics.contains_key("log_loss"));

    let registry = Registry::open(&format!("{root}/models")).unwrap();
    let resolved = registry.resolve("v1").await.unwrap();
    let reloaded = Model::from_bytes(&resolved.files[trainer::ARTIFACT_FILE]).unwrap();
    assert!(!reloaded.has_probabilities());
    let data = trainer::data::load(&root.join("processed").unwrap())
        .await
        .unwrap();
    let again = trainer::evaluate::evaluate(&reloaded, &data.train, &data.test).unwrap();
    assert_eq!(again, report.evaluation);
}

/// Regression (issue 27.6): a test part copied over a train part (or a
/// flipped byte) was trained on, evaluated at accuracy 1.0 and promoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_that_are_not_what_the_manifest_lists_are_refused() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let config = TrainConfig::load(&repo("config/model_config.yaml")).unwrap();
    let manifest: serde_json::Value = root
        .join("processed/_manifest.json")
        .unwrap()
        .read_json()
        .await
        .unwrap();
    let part = |split: &str| {
        let path = manifest["outputs"][split][0]["path"].as_str().unwrap();
        root.join("processed").unwrap().join(path).unwrap()
    };
    let (train, test) = (part("train"), part("test"));
    let original = train.get().await.unwrap();
    train.put(test.get().await.unwrap()).await.unwrap();
    let err = trainer::train(&config, &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{train}: has "))
            && err.contains("not the file its manifest lists"),
        "{err}"
    );
    let mut flipped = original.to_vec();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    train.put(flipped).await.unwrap();
    let err = trainer::train(&config, &options(root))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SHA-256") && err.contains(train.as_str()),
        "{err}"
    );
    let registry = Registry::open(&format!("{root}/models")).unwrap();
    assert!(
        registry.versions().await.unwrap().is_empty(),
        "nothing registered"
    );
    train.put(original).await.unwrap();
    trainer::train(&config, &options(root)).await.unwrap();
}

/// Regression (issue 27.13): `--promote-if-better rmse` against a `latest`
/// without `rmse` failed after the version was registered; a model of
/// another name was compared with `latest` as if it were the same model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotions_that_cannot_happen_fail_before_publishing() {
    let store = TestStore::memory();
    let root = store.location();
    processed(root).await;
    let config = TrainConfig::load(&repo("config/model_config.yaml")).unwrap();
    let mut first = options(root);
    first.promote = Some(Promote::Always);
    trainer::train(&config, &first).await.unwrap();
    let registry = Registry::open(&format!("{root}/models")).unwrap();

    let mut gated = options(root);
    gated.promote = Some(Promote::IfBetter);
    gated.metric = Some("rmse".into());
    let err = trainer::train(&config, &gated)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--promote-if-better rmse: this model reports no 'rmse' (it has: "),
        "{err}"
    );
    assert_eq!(
        registry.versions().await.unwrap().len(),
        1,
        "nothing published"
    );

    let mut other = config.clone();
    other.model.name = "another".into();
    gated.metric = None;
    let err = trainer::train(&other, &gated)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'latest' serves v1 of model 'penguins-species' (classification), not 'another' (classification); promote into another alias (registry.alias) or pass --force"),
        "{err}"
    );
    assert_eq!(
        registry.versions().await.unwrap().len(),
        1,
        "nothing published"
    );
    gated.force = true;
    trainer::train(&other, &gated).await.unwrap();
    assert_eq!(registry.versions().await.unwrap().len(), 2);
}
