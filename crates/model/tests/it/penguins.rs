//! The shipped penguins sample as Arrow batches, split deterministically.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use model::{EstimatorParams, FeatureParams, ModelParams, Task};

pub fn load() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("species", DataType::Utf8, true),
        Field::new("island", DataType::Utf8, true),
        Field::new("bill_length_mm", DataType::Float64, true),
        Field::new("bill_depth_mm", DataType::Float64, true),
        Field::new("flipper_length_mm", DataType::Int64, true),
        Field::new("body_mass_g", DataType::Int64, true),
        Field::new("sex", DataType::Utf8, true),
        Field::new("year", DataType::Int64, true),
    ]));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/raw/penguins.csv");
    let file = std::fs::File::open(path).unwrap();
    let reader = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_header(true)
        .with_null_regex(regex::Regex::new("^(NA|)$").unwrap())
        .build(file)
        .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    concat_batches(&schema, &batches).unwrap()
}

/// Every 4th row to test, the rest to train; rows without body mass are
/// dropped for the regression target.
pub fn split(data: &RecordBatch, regression: bool) -> (RecordBatch, RecordBatch) {
    let keep: Vec<bool> = (0..data.num_rows())
        .map(|i| !regression || data.column_by_name("body_mass_g").unwrap().is_valid(i))
        .collect();
    let train: arrow::array::BooleanArray = (0..data.num_rows())
        .map(|i| Some(keep[i] && i % 4 != 0))
        .collect();
    let test: arrow::array::BooleanArray = (0..data.num_rows())
        .map(|i| Some(keep[i] && i % 4 == 0))
        .collect();
    (
        filter_record_batch(data, &train).unwrap(),
        filter_record_batch(data, &test).unwrap(),
    )
}

pub fn params(algorithm: &str, task: Task, extra: serde_json::Value) -> ModelParams {
    let (target, numeric) = match task {
        Task::Classification => (
            "species",
            vec![
                "bill_length_mm",
                "bill_depth_mm",
                "flipper_length_mm",
                "body_mass_g",
            ],
        ),
        Task::Regression => (
            "body_mass_g",
            vec!["bill_length_mm", "bill_depth_mm", "flipper_length_mm"],
        ),
    };
    let categorical = match task {
        Task::Classification => vec!["island", "sex"],
        Task::Regression => vec!["species", "island", "sex"],
    };
    ModelParams {
        name: format!("penguins-{algorithm}"),
        task,
        target: target.into(),
        features: FeatureParams {
            numeric: numeric.into_iter().map(String::from).collect(),
            categorical: categorical.into_iter().map(String::from).collect(),
            ..FeatureParams::default()
        },
        estimator: EstimatorParams::new(algorithm, task, &extra).unwrap(),
        seed: 7,
    }
}
