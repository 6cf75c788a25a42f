//! Config errors are caught before any data is read, naming file, key and valid choices.

use trainer::TrainConfig;

fn parse(yaml: &str) -> String {
    TrainConfig::from_yaml(yaml, "model_config.yaml".as_ref())
        .unwrap_err()
        .to_string()
}

const BASE: &str = "model:\n  name: m\n  task: classification\n  target: species\n";

#[test]
fn unknown_hyperparameter_names_the_valid_ones() {
    let err = parse(&format!(
        "{BASE}  algorithm: random_forest\n  params: {{n_tree: 10}}\n"
    ));
    assert!(
        err.starts_with("model_config.yaml: model.params: unknown field 'n_tree', expected one of 'n_trees', 'max_depth'"),
        "{err}"
    );
}

#[test]
fn unknown_algorithm_and_wrong_task() {
    let err = parse(&format!("{BASE}  algorithm: xgboost\n"));
    assert!(
        err.contains(
            "model.algorithm: unknown algorithm 'xgboost', expected one of logistic_regression"
        ),
        "{err}"
    );
    let err = parse(&format!("{BASE}  algorithm: ridge\n"));
    assert_eq!(
        err,
        "model_config.yaml: model.algorithm: ridge does not do classification"
    );
}

#[test]
fn misspelled_section_key_has_a_position() {
    let err = parse(&format!("{BASE}  algorithm: knn\n  preprocesing: {{}}\n"));
    assert!(
        err.starts_with("model_config.yaml:6:3: unknown field 'preprocesing'"),
        "{err}"
    );
    let err = parse(&format!(
        "{BASE}  algorithm: knn\n  preprocessing: {{scaler: robust}}\n"
    ));
    assert!(
        err.contains("unknown variant 'robust', expected one of 'standard', 'minmax', 'none'"),
        "{err}"
    );
}

#[test]
fn shipped_model_config_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/model_config.yaml");
    let config = TrainConfig::load(&path).unwrap();
    assert_eq!(config.model.algorithm, "random_forest");
}
