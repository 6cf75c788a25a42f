//! Golden files: records as Cauce wrote them (the penguins demo) read back to
//! the same JSON, records from before a field was added still read, and a
//! record of a layout this build does not know is refused naming its
//! version. A change to a record's fields that would break reading what is
//! already on storage fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use records::etl::Manifest;
use records::prediction::Manifest as Predictions;
use records::training::TrainingRecord;
use serde_json::Value;

fn golden(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn an_etl_manifest_reads_back_to_the_same_json() {
    let bytes = golden("etl_manifest_v1.json");
    let manifest = Manifest::decode(&bytes).unwrap();
    assert!(manifest.rows.balanced());
    assert!(manifest.cleaning.is_some() && manifest.profile.is_some());
    assert_eq!(serde_json::to_value(&manifest).unwrap(), value(&bytes));
}

#[test]
fn an_etl_manifest_from_before_the_cleaning_was_recorded_still_reads() {
    let manifest = Manifest::decode(&golden("etl_manifest_v1_before_cleaning.json")).unwrap();
    assert!(manifest.cleaning.is_none() && manifest.profile.is_none() && manifest.report.is_none());
    let again = serde_json::to_vec(&manifest).unwrap();
    assert_eq!(Manifest::decode(&again).unwrap(), manifest);
}

#[test]
fn an_etl_manifest_of_a_newer_layout_is_refused_naming_its_version() {
    let err = Manifest::decode(&golden("etl_manifest_v2.json"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ETL manifest format_version 2 is not supported (expected 1)"
    );
    let err = Manifest::decode(b"{\"format_version\": 1}")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("not a readable ETL manifest: missing field"),
        "{err}"
    );
}

#[test]
fn a_training_record_reads_back_to_the_same_json() {
    let bytes = golden("training_record.json");
    let record: TrainingRecord = serde_json::from_slice(&bytes).unwrap();
    assert!(record.evaluate_seconds > 0.0);
    assert_eq!(serde_json::to_value(&record).unwrap(), value(&bytes));
}

#[test]
fn a_training_record_from_before_evaluation_was_timed_still_reads() {
    let record: TrainingRecord =
        serde_json::from_slice(&golden("training_record_before_evaluate_seconds.json")).unwrap();
    assert_eq!(record.evaluate_seconds, 0.0);
}

#[test]
fn a_prediction_manifest_reads_back_to_the_same_json() {
    let bytes = golden("prediction_manifest_v1.json");
    let manifest = Predictions::decode(&bytes).unwrap();
    let rows = manifest.rows;
    assert_eq!(rows.input, rows.predicted + rows.errored + rows.quarantined);
    assert!(manifest.drift.is_some() && manifest.cleaning.is_some());
    assert_eq!(serde_json::to_value(&manifest).unwrap(), value(&bytes));
    let mut newer = value(&bytes);
    newer["format_version"] = 7.into();
    let err = Predictions::decode(&serde_json::to_vec(&newer).unwrap())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "prediction manifest format_version 7 is not supported (expected 1)"
    );
}
