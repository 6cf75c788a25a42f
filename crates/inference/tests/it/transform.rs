//! Issue 30: the transform etl ran is replayed at inference. Raw rows go
//! through the same cleaning and SQL (a lookup, derived features; its
//! filter is not applied, so every row is scored), and each prediction
//! equals the one for etl's own output row; the target and the columns
//! only used to filter are not needed; a changed reference table is
//! refused unless `transform_tables: current`, which the manifest records.

use std::collections::BTreeMap;

use common::storage::{Location, Selection};
use common::testing::TestStore;
use inference::{TransformSource, TransformTables};

use crate::pipeline::{rows, shipped};

const AIRLINES: &str = "carrier,fleet\nAA,950\nUA,850\nB6,280\n";

const ETL: &str = r#"
columns:
  id: {type: int64}
  carrier: {type: string}
  dist: {type: float64}
  delay: {type: float64}
transform:
  sql: |
    SELECT i.id, i.dist, i.dist / 100 AS dist_h, a.fleet,
           CASE WHEN i.delay > 15 THEN 'late' ELSE 'on_time' END AS status
    FROM input i LEFT JOIN airlines a ON i.carrier = a.carrier
    WHERE i.delay IS NOT NULL
  tables:
    airlines: ROOT/ref/airlines.csv
split: {test: 0.3, seed: 5}
"#;

const MODEL: &str = r#"
model:
  name: late
  task: classification
  target: status
  features:
    numeric: [dist, dist_h, fleet]
  algorithm: gradient_boosting
  params: {n_estimators: 20, max_depth: 3}
  seed: 1
registry:
  promote: always
  metric: accuracy
"#;

/// 400 flights: 1 in 9 without a delay (filtered by etl), a carrier the
/// lookup table lacks, delays that depend on the distance.
fn flights(with_delay: bool) -> String {
    let mut text = String::from(if with_delay {
        "id,carrier,dist,delay\n"
    } else {
        "id,carrier,dist\n"
    });
    for i in 0..400u32 {
        let carrier = ["AA", "UA", "B6", "XX"][(i % 4) as usize];
        let dist = 100 + (i * 37) % 2500;
        let delay = if i % 9 == 0 {
            String::new()
        } else {
            format!("{}", (dist % 40) as f64 - 5.0)
        };
        if with_delay {
            text.push_str(&format!("{i},{carrier},{dist},{delay}\n"));
        } else {
            text.push_str(&format!("{i},{carrier},{dist}\n"));
        }
    }
    text
}

async fn trained(root: &Location) -> etl::Manifest {
    root.join("raw/flights.csv")
        .unwrap()
        .put(flights(true))
        .await
        .unwrap();
    root.join("ref/airlines.csv")
        .unwrap()
        .put(AIRLINES)
        .await
        .unwrap();
    let yaml = ETL.replace("ROOT", &root.to_string());
    let etl_config: etl::EtlConfig = common::config::from_str(&yaml, "etl.yaml".as_ref()).unwrap();
    let options = etl::RunOptions::new(
        root.join("raw/flights.csv").unwrap(),
        root.join("processed").unwrap(),
    );
    let manifest = etl::run(&etl_config, &options).await.unwrap().manifest;
    let config = trainer::TrainConfig::from_yaml(MODEL, "model.yaml".as_ref()).unwrap();
    let options = trainer::TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    );
    trainer::train(&config, &options).await.unwrap();
    manifest
}

fn run(root: &Location, input: &str, output: &str) -> inference::RunOptions {
    inference::RunOptions::new(
        Selection::parse(&format!("{root}/{input}")).unwrap(),
        root.join(output).unwrap(),
        root.join("models").unwrap(),
    )
}

fn predictions(rows: Vec<Vec<Option<String>>>) -> BTreeMap<i64, Option<String>> {
    rows.into_iter()
        .map(|r| (r[0].as_deref().unwrap().parse().unwrap(), r[1].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_rows_replayed_through_the_transform_predict_as_etls_output_does() {
    let store = TestStore::memory();
    let root = store.location();
    let manifest = trained(root).await;
    assert_eq!(manifest.rows.filtered, 45, "{:?}", manifest.rows);
    let (_, record) = inference::load_model("latest", &root.join("models").unwrap())
        .await
        .unwrap();
    let recorded = record
        .transform
        .as_ref()
        .expect("the card records the transform");
    assert_eq!(
        recorded.tables[0].sha256,
        common::checksum::sha256_hex(AIRLINES.as_bytes())
    );

    let mut config = shipped();
    config.passthrough = vec!["id".into()];
    let raw = inference::run(&config, &run(root, "raw/flights.csv", "from-raw"))
        .await
        .unwrap();
    assert_eq!(raw.manifest.rows.input, 400);
    assert_eq!(
        raw.manifest.rows.predicted, 400,
        "the filter is not applied at inference"
    );
    let applied = raw
        .manifest
        .transform
        .as_ref()
        .expect("the manifest records the replay");
    assert_eq!(applied.tables_check, "recorded");
    let mut required = applied.required_inputs.clone();
    required.sort();
    assert_eq!(
        required,
        ["carrier", "dist", "id"],
        "not the target's delay"
    );

    config.transform = TransformSource::None;
    let etl_output = inference::run(
        &config,
        &run(root, "processed/runs/*/{train,test}/*.parquet", "from-etl"),
    )
    .await
    .unwrap();
    assert!(etl_output.manifest.transform.is_none());
    let from_raw = predictions(rows(root, "from-raw", &raw.manifest).await);
    let from_etl = predictions(rows(root, "from-etl", &etl_output.manifest).await);
    assert_eq!(from_etl.len(), 355);
    for (id, prediction) in &from_etl {
        assert_eq!(from_raw.get(id), Some(prediction), "row {id}");
    }

    // New flights have no delay yet: the replay does not need it.
    config.transform = TransformSource::Model;
    root.join("new/flights.csv")
        .unwrap()
        .put(flights(false))
        .await
        .unwrap();
    let new = inference::run(&config, &run(root, "new/flights.csv", "from-new"))
        .await
        .unwrap();
    assert_eq!(new.manifest.rows.predicted, 400);
    assert_eq!(
        predictions(rows(root, "from-new", &new.manifest).await),
        from_raw
    );

    // Without a column the transform reads, the run says which and why.
    root.join("bad/flights.csv")
        .unwrap()
        .put("id,dist\n1,200\n")
        .await
        .unwrap();
    let err = inference::run(&config, &run(root, "bad/flights.csv", "bad-out"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'carrier'") && err.contains("inference.transform: none"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_table_changed_since_training_is_refused_unless_current() {
    let store = TestStore::memory();
    let root = store.location();
    trained(root).await;
    let edited = AIRLINES.replace("950", "990");
    root.join("ref/airlines.csv")
        .unwrap()
        .put(edited.clone())
        .await
        .unwrap();
    let mut config = shipped();
    config.passthrough = vec!["id".into()];
    let err = inference::run(&config, &run(root, "raw/flights.csv", "out"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("etl.transform.tables.airlines: "), "{err}");
    assert!(
        err.contains("changed since the model was trained")
            && err.contains("transform_tables: current"),
        "{err}"
    );
    assert!(
        root.join("out/_manifest.json")
            .unwrap()
            .get()
            .await
            .is_err(),
        "nothing published"
    );
    config.transform_tables = TransformTables::Current;
    let report = inference::run(&config, &run(root, "raw/flights.csv", "out"))
        .await
        .unwrap();
    let applied = report.manifest.transform.unwrap();
    assert_eq!(applied.tables_check, "current");
    assert_eq!(
        applied.tables[0].sha256,
        common::checksum::sha256_hex(edited.as_bytes())
    );
}
