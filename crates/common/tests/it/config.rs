//! Config loading from real files.

use std::path::PathBuf;

use common::Error;
use common::config::{LogLevel, LoggingConfig, StorageConfig, load};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineConfig {
    storage: StorageConfig,
    #[serde(default)]
    logging: LoggingConfig,
    trainer: Trainer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trainer {
    n_trees: usize,
    max_depth: usize,
}

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline_config.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn misspelled_key_reports_file_line_column_key_and_valid_keys() {
    let (_dir, path) =
        write("storage:\n  raw: data/raw\n\ntrainer:\n  n_trees: 10\n  max_dept: 3\n");
    let err = load::<PipelineConfig>(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:6:3: unknown field 'max_dept', expected 'n_trees' or 'max_depth' (key 'trainer.max_dept')",
            path.display()
        )
    );
}

#[test]
fn unknown_top_level_section_lists_sections() {
    let (_dir, path) = write("storage: {}\ntrainer: {n_trees: 1, max_depth: 2}\nlogs: {}\n");
    let err = load::<PipelineConfig>(&path).unwrap_err().to_string();
    assert!(
        err.contains(":3:1: unknown field 'logs', expected one of 'storage', 'logging', 'trainer'"),
        "{err}"
    );
}

#[test]
fn missing_file_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.yaml");
    let err = load::<PipelineConfig>(&path).unwrap_err();
    assert!(matches!(err, Error::ConfigNotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!("{}: config file not found", path.display())
    );
}

#[test]
fn environment_interpolation_with_defaults() {
    // CARGO_MANIFEST_DIR is set by cargo for every test process; the other is never set.
    let (_dir, path) = write(
        "storage:\n  raw: ${CARGO_MANIFEST_DIR}/raw\n  models: ${CAUCE_TEST_SURELY_UNSET:-s3://b/models}\n\
         logging:\n  level: ${CAUCE_TEST_SURELY_UNSET_LEVEL:-debug}\n\
         trainer: {n_trees: ${CAUCE_TEST_SURELY_UNSET_N:-100}, max_depth: 4}\n",
    );
    let config = load::<PipelineConfig>(&path).unwrap();
    assert_eq!(
        config.storage.raw,
        format!("{}/raw", env!("CARGO_MANIFEST_DIR"))
    );
    assert_eq!(config.storage.models, "s3://b/models");
    assert_eq!(config.storage.processed, "data/processed");
    assert_eq!(config.logging.level, LogLevel::Debug);
    assert_eq!(config.trainer.n_trees, 100);
    assert_eq!(config.trainer.max_depth, 4);
}

#[test]
fn unset_variable_without_default_is_an_error_naming_it() {
    let (_dir, path) = write("storage:\n  raw: ${CAUCE_TEST_SURELY_UNSET}\n");
    let err = load::<PipelineConfig>(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:2: environment variable 'CAUCE_TEST_SURELY_UNSET' is not set \
             (use '${{CAUCE_TEST_SURELY_UNSET:-default}}' to give a default)",
            path.display()
        )
    );
}

#[test]
fn yaml_syntax_error_has_position() {
    let (_dir, path) = write("storage:\n  raw: [unclosed\ntrainer: {}\n");
    let err = load::<PipelineConfig>(&path).unwrap_err();
    let Error::ConfigSyntax { line, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(*line >= 2, "{err}");
}

#[test]
fn shipped_pipeline_config_has_valid_shared_sections() {
    // Stage sections are checked by their own crates; this reads only the shared ones.
    #[derive(Deserialize)]
    struct Shared {
        storage: StorageConfig,
        logging: LoggingConfig,
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/pipeline_config.yaml");
    let shared: Shared = load(&path).unwrap();
    assert!(!shared.storage.raw.is_empty());
    assert_eq!(shared.logging.dir, PathBuf::from("logs"));
}
