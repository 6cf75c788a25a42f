//! Issue 13: no training / serving skew. etl cleans a raw file (null token
//! `*`, padded text, renamed columns, a declared date, a `fill_null`); the
//! trainer records that cleaning in the model card; inference applies it to
//! the same raw file. For every row, the features inference computes equal
//! the ones the trainer saw after etl, and so do the predictions.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use common::storage::{FileFormat, Selection, select_inputs};
use common::testing::TestStore;
use futures::{StreamExt, TryStreamExt};
use inference::CleaningSource;

use crate::pipeline::{rows, shipped};

const ETL: &str = r#"
null_tokens: ["*", ""]
rename: {"Bill Length": bill, "ID": id}
columns:
  id: {type: int64}
  bill: {type: float64}
  flipper: {type: float64, fill_null: 200}
  island: {type: string}
  when: {type: date}
  label: {type: string}
split: {test: 0.3, seed: 7}
"#;

const MODEL: &str = r#"
model:
  name: skew
  task: classification
  target: label
  features:
    numeric: [bill, flipper]
    categorical: [island, when]
  algorithm: decision_tree
  params: {max_depth: 5}
  seed: 1
registry:
  promote: always
  metric: accuracy
"#;

/// 300 raw rows: nulls written `*` or empty, padded islands, three dates.
fn raw_csv() -> String {
    let mut text = String::from("ID,Bill Length,flipper,island,when,label\n");
    for i in 0..300u32 {
        let bill = match i % 11 {
            0 => "*".to_string(),
            _ => format!("{:.1}", 30.0 + f64::from(i % 50) / 2.0),
        };
        let flipper = match i % 13 {
            0 => String::new(),
            _ => (180 + i % 30).to_string(),
        };
        let island = ["  Biscoe ", "Dream", "*", " Torgersen"][(i % 4) as usize];
        let when = format!("2026-01-0{}", 1 + i % 3);
        let label = if (i % 50) > 20 { "A" } else { "B" };
        text.push_str(&format!("{i},{bill},{flipper},{island},{when},{label}\n"));
    }
    text
}

/// Each id's values of `columns` in `batches`, as text.
fn by_id(batches: &[RecordBatch], columns: &[&str]) -> BTreeMap<i64, Vec<Option<String>>> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let id = batch
            .column_by_name("id")
            .unwrap_or_else(|| panic!("no id in {:?}", batch.schema()));
        let ids = cast(id, &DataType::Int64).unwrap();
        let ids = ids.as_primitive::<arrow::datatypes::Int64Type>();
        let text: Vec<_> = columns
            .iter()
            .map(|c| cast(batch.column_by_name(c).unwrap(), &DataType::Utf8).unwrap())
            .collect();
        for i in 0..batch.num_rows() {
            let values = text
                .iter()
                .map(|c| {
                    let c = c.as_string::<i32>();
                    c.is_valid(i).then(|| c.value(i).to_string())
                })
                .collect();
            out.insert(ids.value(i), values);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_rows_become_the_features_and_predictions_training_saw() {
    let store = TestStore::memory();
    let root = store.location();
    root.join("raw/in.csv")
        .unwrap()
        .put(raw_csv())
        .await
        .unwrap();
    let etl_config: etl::EtlConfig = common::config::from_str(ETL, "etl.yaml".as_ref()).unwrap();
    let etl_options = etl::RunOptions::new(
        root.join("raw/in.csv").unwrap(),
        root.join("processed").unwrap(),
    );
    let report = etl::run(&etl_config, &etl_options).await.unwrap();
    assert_eq!(report.manifest.rows.quarantined, 0);
    let config = trainer::TrainConfig::from_yaml(MODEL, "model.yaml".as_ref()).unwrap();
    let train_options = trainer::TrainOptions::new(
        root.join("processed").unwrap(),
        root.join("models").unwrap(),
    );
    trainer::train(&config, &train_options).await.unwrap();

    // The features: what etl wrote, and what inference makes of the raw file.
    let (model, record) = inference::load_model("latest", &root.join("models").unwrap())
        .await
        .unwrap();
    let cleaning = record
        .cleaning
        .clone()
        .expect("the card records the cleaning");
    assert_eq!(cleaning.null_tokens, ["*", ""]);
    let features = ["bill", "flipper", "island", "when"];
    let mut processed = Vec::new();
    for split in ["train", "test"] {
        for file in report.manifest.files(split) {
            let location = root.join("processed").unwrap().join(&file.path).unwrap();
            let source = common::storage::ParquetSource::open(&location)
                .await
                .unwrap();
            let batches: Vec<RecordBatch> = source
                .stream(64, None)
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            processed.extend(batches);
        }
    }
    let trained_on = by_id(&processed, &features);
    assert_eq!(trained_on.len(), 300);
    let file = select_inputs(&format!("{root}/raw/in.csv"))
        .await
        .unwrap()
        .remove(0);
    let source = ingest::read::SourceFile {
        index: 0,
        file,
        format: FileFormat::Csv,
        compression: common::storage::Compression::None,
        row_groups: None,
    };
    let passthrough = ["id".to_string()];
    let (_, pending) = inference::input::open(
        &source,
        None,
        64,
        &cleaning,
        &passthrough,
        &inference::input::model_columns(&model, &cleaning),
    )
    .await
    .unwrap();
    let prepared: Vec<_> = pending
        .map(|p| p.unwrap().prepare().unwrap())
        .collect()
        .await;
    assert!(
        prepared.iter().all(|p| p.errors.is_empty()),
        "no row errors"
    );
    let typed: Vec<RecordBatch> = prepared.into_iter().map(|p| p.typed).collect();
    let served = by_id(&typed, &features);
    for (id, values) in &trained_on {
        let numbers = |v: &Vec<Option<String>>| -> Vec<Option<f64>> {
            v[..2]
                .iter()
                .map(|x| x.as_ref().map(|x| x.parse().unwrap()))
                .collect()
        };
        assert_eq!(
            numbers(&served[id]),
            numbers(values),
            "row {id}: numeric features"
        );
        assert_eq!(
            served[id][2..],
            values[2..],
            "row {id}: categorical features"
        );
    }

    // The predictions: the raw file scored as it is, and etl's output scored.
    let mut config = shipped();
    config.passthrough = passthrough.to_vec();
    let run = |input: String, output: &str| {
        inference::RunOptions::new(
            Selection::parse(&input).unwrap(),
            root.join(output).unwrap(),
            root.join("models").unwrap(),
        )
    };
    let raw = inference::run(&config, &run(format!("{root}/raw/in.csv"), "from-raw"))
        .await
        .unwrap();
    assert_eq!(raw.manifest.rows.errored, 0);
    let glob = format!("{root}/processed/runs/*/{{train,test}}/*.parquet");
    let clean = inference::run(&config, &run(glob, "from-etl"))
        .await
        .unwrap();
    let predictions = |rows: Vec<Vec<Option<String>>>| -> BTreeMap<String, Option<String>> {
        rows.into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone()))
            .collect()
    };
    let from_raw = predictions(rows(root, "from-raw", &raw.manifest).await);
    let from_etl = predictions(rows(root, "from-etl", &clean.manifest).await);
    assert_eq!(from_raw.len(), 300);
    assert_eq!(from_raw, from_etl, "the same prediction for every row");

    // Without the recorded cleaning, the raw file's own names do not fit
    // the model (renames are part of the cleaning): the skew it prevents is
    // refused, not scored.
    config.cleaning = CleaningSource::Config;
    let err = inference::run(&config, &run(format!("{root}/raw/in.csv"), "skewed"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("missing column(s) 'bill', 'id' that the model (or passthrough) needs"),
        "{err}"
    );
    assert_eq!(raw.manifest.cleaning.unwrap().source, "model card");
}
