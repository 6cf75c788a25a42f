//! Artifacts: round trips for every estimator, byte-identical refits
//! whatever the thread count, and clear errors for bad files.

use model::{Model, Output, Task};
use serde_json::json;

use crate::penguins::{load, params, split};

const ALL: &[(&str, Task)] = &[
    ("logistic_regression", Task::Classification),
    ("decision_tree", Task::Classification),
    ("random_forest", Task::Classification),
    ("knn", Task::Classification),
    ("gaussian_nb", Task::Classification),
    ("svm", Task::Classification),
    ("linear_regression", Task::Regression),
    ("ridge", Task::Regression),
    ("lasso", Task::Regression),
    ("elastic_net", Task::Regression),
    ("extra_trees", Task::Regression),
    ("gradient_boosting", Task::Regression),
    ("decision_tree", Task::Regression),
    ("random_forest", Task::Regression),
    ("knn", Task::Regression),
    ("svm", Task::Regression),
];

fn extra(algorithm: &str) -> serde_json::Value {
    if algorithm == "random_forest" {
        json!({"n_trees": 12})
    } else {
        json!(null)
    }
}

#[test]
fn every_estimator_round_trips_with_identical_predictions() {
    let data = load();
    for &(algorithm, task) in ALL {
        let (train, test) = split(&data, task == Task::Regression);
        let fitted = params(algorithm, task, extra(algorithm))
            .fit(&train)
            .unwrap();
        let bytes = fitted.to_bytes().unwrap();
        let loaded = Model::from_bytes(&bytes).unwrap();
        let rows = loaded.predict_batch(&test).unwrap();
        assert_eq!(
            fitted.predict_batch(&test).unwrap(),
            rows,
            "{algorithm} {task:?}"
        );
        // An empty batch has the same shape of output, with no rows.
        match loaded.predict_columns(&test.slice(0, 0)).unwrap().output {
            Output::Classes(labels, proba) => {
                assert!(labels.is_empty());
                let classes = proba.map(|p| (p.classes, p.values.len()));
                let expected = loaded
                    .has_probabilities()
                    .then_some((loaded.classes.len(), 0));
                assert_eq!(classes, expected, "{algorithm}");
            }
            Output::Values(values) => assert!(values.is_empty()),
        }
        // The columnar form says the same, row for row.
        let columns = loaded.predict_columns(&test).unwrap();
        for (i, row) in rows.iter().enumerate() {
            match (row, &columns.output) {
                (
                    model::Prediction::Class {
                        label,
                        probabilities,
                    },
                    Output::Classes(labels, proba),
                ) => {
                    assert_eq!(&loaded.classes[labels[i]], label, "{algorithm}");
                    assert_eq!(
                        probabilities.as_deref(),
                        proba.as_ref().map(|p| p.row(i)),
                        "{algorithm}"
                    );
                }
                (model::Prediction::Value(v), Output::Values(values)) => {
                    assert_eq!(*v, values[i], "{algorithm}");
                }
                (model::Prediction::Error(e), _) => {
                    assert_eq!(columns.errors[i].as_deref(), Some(e.as_str()));
                }
                other => panic!("{algorithm}: {other:?}"),
            }
        }
        assert_eq!(
            loaded.to_bytes().unwrap(),
            bytes,
            "{algorithm}: re-encoding changes bytes"
        );
    }
}

#[test]
fn same_seed_same_bytes_on_one_or_two_threads() {
    let data = load();
    for &(algorithm, task) in ALL {
        let (train, _) = split(&data, task == Task::Regression);
        let fit_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                params(algorithm, task, extra(algorithm))
                    .fit(&train)
                    .unwrap()
                    .to_bytes()
                    .unwrap()
            })
        };
        let one = fit_on(1);
        assert_eq!(one, fit_on(2), "{algorithm} {task:?}: 1 vs 2 threads");
        assert_eq!(one, fit_on(2), "{algorithm} {task:?}: two runs");
    }
}

#[test]
fn bad_artifacts_are_refused_with_the_reason() {
    let data = load();
    let (train, _) = split(&data, false);
    let bytes = params("decision_tree", Task::Classification, json!(null))
        .fit(&train)
        .unwrap()
        .to_bytes()
        .unwrap();
    let err = |b: &[u8]| Model::from_bytes(b).unwrap_err().to_string();

    assert_eq!(
        err(b"PK\x03\x04 a zip file"),
        "model artifact: not a Cauce model artifact (bad magic bytes)"
    );
    let mut other_version = bytes.clone();
    other_version[8] = 9;
    assert!(err(&other_version).starts_with(
        "model artifact: artifact format version 9; this build of Cauce reads version 3"
    ));
    assert!(
        err(&bytes[..bytes.len() - 10]).starts_with("model artifact: truncated: the model needs")
    );
    assert!(err(&bytes[..20]).starts_with("model artifact: truncated: the header needs"));
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    assert!(err(&flipped).starts_with("model artifact: altered: checksum"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(err(&longer).starts_with("model artifact: altered: 1 bytes follow"));
}

#[test]
fn smartcore_version_constant_matches_the_lock_file() {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let expected = format!(
        "name = \"smartcore\"\nversion = \"{}\"",
        model::artifact::SMARTCORE_VERSION
    );
    assert!(
        lock.contains(&expected),
        "update artifact::SMARTCORE_VERSION to the locked smartcore version"
    );
}
