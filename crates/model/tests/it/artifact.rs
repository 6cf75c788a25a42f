//! Artifacts: round trips for every estimator, byte-identical refits
//! whatever the thread count, and clear errors for bad files.

use model::{Model, Output, Task};
use serde_json::json;

use crate::penguins::{load, params, split};

/// Every estimator × task it does, from the estimator registry.
fn all() -> Vec<(&'static str, Task)> {
    model::estimator::ESTIMATORS
        .iter()
        .flat_map(|&(name, tasks)| tasks.iter().map(move |&task| (name, task)))
        .collect()
}

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
    for (algorithm, task) in all() {
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

/// The artifact bytes of `algorithm` fitted on `train` in a pool of `threads`.
fn artifact_on(
    threads: usize,
    algorithm: &str,
    task: Task,
    extra: serde_json::Value,
    train: &arrow::array::RecordBatch,
) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        params(algorithm, task, extra)
            .fit(train)
            .unwrap()
            .to_bytes()
            .unwrap()
    })
}

#[test]
fn same_seed_same_bytes_on_one_or_two_threads() {
    let data = load();
    for (algorithm, task) in all() {
        let (train, _) = split(&data, task == Task::Regression);
        let fit_on = |threads| artifact_on(threads, algorithm, task, extra(algorithm), &train);
        let one = fit_on(1);
        assert_eq!(one, fit_on(2), "{algorithm} {task:?}: 1 vs 2 threads");
        assert_eq!(one, fit_on(2), "{algorithm} {task:?}: two runs");
    }
}

/// The penguins, each row 100 times with its bill length moved a little
/// (34,400 rows): more than 3 chunks of the 8,192 rows parallel sums and
/// histograms are cut into, which the 258 training rows above never reach.
fn penguins_times_100() -> arrow::array::RecordBatch {
    use arrow::array::{ArrayRef, Float64Array};
    let data = load();
    let copies: Vec<_> = (0..100).map(|_| data.clone()).collect();
    let all = arrow::compute::concat_batches(&data.schema(), &copies).unwrap();
    let index = all.schema().index_of("bill_length_mm").unwrap();
    let bills = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(
        all.column(index).as_ref(),
    );
    let moved: Float64Array = bills
        .iter()
        .enumerate()
        .map(|(i, v)| v.map(|v| v + (i % 97) as f64 * 0.01))
        .collect();
    let mut columns: Vec<ArrayRef> = all.columns().to_vec();
    columns[index] = std::sync::Arc::new(moved);
    arrow::array::RecordBatch::try_new(all.schema(), columns).unwrap()
}

/// Issue 28.9: "byte-identical on 1 or 2 threads" held on 258 rows, below
/// the chunk sizes; every estimator whose fit is parallel is compared on
/// data spanning more than 3 chunks (SVM, quadratic in the rows and fitted
/// by smartcore on one thread, stays on the small set above).
#[test]
fn same_bytes_on_one_or_two_threads_over_many_chunks() {
    let data = penguins_times_100();
    assert!(data.num_rows() > 3 * 8192);
    let small = |algorithm: &str| match algorithm {
        "random_forest" | "extra_trees" => json!({"n_trees": 4, "max_depth": 6}),
        "gradient_boosting" => json!({"n_estimators": 5}),
        _ => json!(null),
    };
    for (algorithm, task) in all().into_iter().filter(|(a, _)| *a != "svm") {
        let (train, _) = split(&data, task == Task::Regression);
        let fit_on = |threads| artifact_on(threads, algorithm, task, small(algorithm), &train);
        assert_eq!(fit_on(1), fit_on(2), "{algorithm} {task:?}: 1 vs 2 threads");
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
        "model artifact: artifact format version 9; this build of Cauce reads versions 3 to 5"
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

/// `bytes` relabelled as format `version` (header and prefix), checksum valid.
fn as_format(bytes: &[u8], version: u32, craft: impl FnOnce(&mut rmpv::Value)) -> Vec<u8> {
    let mut out = crafted(bytes, craft);
    let (header, start) = model::artifact::header(&out).unwrap();
    let body = out.split_off(start);
    let header = model::artifact::Header {
        format_version: version,
        ..header
    };
    let header = serde_json::to_vec(&header).unwrap();
    let mut relabelled = out[..8].to_vec();
    relabelled.extend_from_slice(&version.to_le_bytes());
    relabelled.extend_from_slice(&(header.len() as u32).to_le_bytes());
    relabelled.extend_from_slice(&header);
    relabelled.extend_from_slice(&body);
    relabelled
}

/// Format 4 changed only `gradient_boosting` and 5 only `extra_trees`: a
/// format 3 or 4 artifact of any other estimator still loads, and an old
/// booster or extra trees (smartcore's) is refused with what to do.
#[test]
fn format_3_artifacts_load_except_smartcores_booster() {
    let (forest, test) = fitted("random_forest", Task::Classification);
    for version in [3, 4] {
        let old = as_format(&forest, version, |_| {});
        assert_eq!(
            Model::from_bytes(&old)
                .unwrap()
                .predict_batch(&test)
                .unwrap(),
            Model::from_bytes(&forest)
                .unwrap()
                .predict_batch(&test)
                .unwrap()
        );
    }
    let (booster, _) = fitted("gradient_boosting", Task::Regression);
    let smartcore = as_format(&booster, 3, |body| {
        let estimator = at(body, &["estimator"]);
        *estimator = rmpv::Value::Map(vec![(
            "GradientBoosting".into(),
            rmpv::Value::Map(vec![("regressors".into(), rmpv::Value::Array(vec![]))]),
        )]);
    });
    let err = Model::from_bytes(&smartcore).unwrap_err().to_string();
    assert!(
        err.contains("unknown variant")
            && err.ends_with("booster, which this build no longer has: retrain it)"),
        "{err}"
    );
    let (extra, _) = fitted("extra_trees", Task::Regression);
    for version in [3, 4] {
        let smartcore = as_format(&extra, version, |body| {
            let estimator = at(body, &["estimator"]);
            *estimator = rmpv::Value::Map(vec![(
                "ExtraTrees".into(),
                rmpv::Value::Map(vec![("trees".into(), rmpv::Value::Array(vec![]))]),
            )]);
        });
        let err = Model::from_bytes(&smartcore).unwrap_err().to_string();
        assert!(
            err.ends_with(&format!(
                "(a format {version} extra_trees model is smartcore's extra trees, which this build no longer has: retrain it)"
            )),
            "{err}"
        );
    }
    // The same variant in a current artifact is just malformed.
    let current = crafted(&extra, |body| {
        *at(body, &["estimator"]) = rmpv::Value::Map(vec![("ExtraTrees".into(), rmpv::Value::Nil)]);
    });
    let err = Model::from_bytes(&current).unwrap_err().to_string();
    assert!(
        err.contains("unknown variant") && !err.contains("retrain"),
        "{err}"
    );
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

/// An artifact whose body is `model` after `craft` changed it, with a header
/// that matches (size and checksum valid, as an attacker would make it).
fn crafted(bytes: &[u8], craft: impl FnOnce(&mut rmpv::Value)) -> Vec<u8> {
    let (_, start) = model::artifact::header(bytes).unwrap();
    let mut body: rmpv::Value = rmp_serde::from_slice(&bytes[start..]).unwrap();
    craft(&mut body);
    with_body(bytes, &rmp_serde::to_vec(&body).unwrap())
}

/// The artifact `bytes` with its body replaced by `body`, behind a header
/// that matches it.
fn with_body(bytes: &[u8], body: &[u8]) -> Vec<u8> {
    let (header, _) = model::artifact::header(bytes).unwrap();
    let header = model::artifact::Header {
        body_bytes: body.len() as u64,
        body_sha256: common::checksum::sha256_hex(body),
        ..header
    };
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = bytes[..8].to_vec();
    out.extend_from_slice(&model::artifact::FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    out
}

/// The value under `keys` (map keys, or indexes into arrays as numbers).
fn at<'a>(value: &'a mut rmpv::Value, keys: &[&str]) -> &'a mut rmpv::Value {
    keys.iter().fold(value, |v, key| match v {
        rmpv::Value::Map(entries) => {
            &mut entries
                .iter_mut()
                .find(|(k, _)| k.as_str() == Some(key))
                .unwrap()
                .1
        }
        rmpv::Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => panic!("no '{key}' in {other}"),
    })
}

fn fitted(algorithm: &str, task: Task) -> (Vec<u8>, arrow::array::RecordBatch) {
    let data = load();
    let (train, test) = split(&data, task == Task::Regression);
    let model = params(algorithm, task, extra(algorithm))
        .fit(&train)
        .unwrap();
    (model.to_bytes().unwrap(), test)
}

/// Regression (issue 12.5): a crafted model.bin with a valid checksum
/// panicked inference (index out of bounds in the compiled forest), and a
/// forest with zero trees predicted one class with probability 0.
#[test]
fn crafted_artifacts_with_valid_checksums_are_refused_in_one_line() {
    let (forest, _) = fitted("random_forest", Task::Classification);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "node 0 tests feature 999",
            crafted(&forest, |m| {
                *at(
                    m,
                    &[
                        "estimator",
                        "ForestClassifier",
                        "trees",
                        "0",
                        "nodes",
                        "0",
                        "feature",
                    ],
                ) = 999.into();
            }),
        ),
        (
            "the forest has no trees",
            crafted(&forest, |m| {
                *at(m, &["estimator", "ForestClassifier", "trees"]) = rmpv::Value::Array(vec![]);
            }),
        ),
        (
            "split 0 has children outside the tree",
            crafted(&forest, |m| {
                *at(
                    m,
                    &[
                        "estimator",
                        "ForestClassifier",
                        "trees",
                        "0",
                        "nodes",
                        "0",
                        "next",
                    ],
                ) = 100_000.into();
            }),
        ),
        (
            "classes, the model has",
            crafted(&forest, |m| {
                *at(m, &["estimator", "ForestClassifier", "classes"]) = 7.into();
            }),
        ),
        (
            // Found by the model_artifact fuzz oracle: leaves whose values
            // are not a distribution gave probabilities summing to 0.979.
            "not class probabilities",
            crafted(&forest, |m| {
                let values = at(
                    m,
                    &["estimator", "ForestClassifier", "trees", "0", "values"],
                );
                if let rmpv::Value::Array(values) = values {
                    values[0] = 0.5.into();
                }
            }),
        ),
        (
            "holds NaN",
            crafted(&forest, |m| {
                let values = at(
                    m,
                    &["estimator", "ForestClassifier", "trees", "0", "values"],
                );
                if let rmpv::Value::Array(values) = values {
                    values[1] = f64::NAN.into();
                }
            }),
        ),
        (
            "a classifier with 1 class(es)",
            crafted(&forest, |m| {
                if let rmpv::Value::Array(classes) = at(m, &["classes"]) {
                    classes.truncate(1);
                }
            }),
        ),
    ];
    for (expected, bytes) in cases {
        let err = Model::load(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("malformed model") && err.contains(expected),
            "{expected}: {err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }
    let (booster, _) = fitted("gradient_boosting", Task::Classification);
    for (value, expected) in [(f64::NAN, "holds NaN"), (1e307, "holds 1e307")] {
        let huge = crafted(&booster, |m| {
            let values = at(m, &["estimator", "Boosted", "trees", "0", "values"]);
            if let rmpv::Value::Array(values) = values {
                values.iter_mut().for_each(|v| *v = value.into());
            }
        });
        let err = Model::load(&huge).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
    let (knn, _) = fitted("knn", Task::Classification);
    let zero_k = crafted(&knn, |m| {
        *at(m, &["estimator", "KnnClassifier", "k"]) = 0.into()
    });
    assert!(
        Model::load(&zero_k)
            .unwrap_err()
            .to_string()
            .contains("k 0")
    );
    let (logistic, _) = fitted("logistic_regression", Task::Classification);
    let short = crafted(&logistic, |m| {
        if let rmpv::Value::Array(c) = at(m, &["estimator", "Logistic", "coefficients"]) {
            c.pop();
        }
    });
    assert!(
        Model::load(&short)
            .unwrap_err()
            .to_string()
            .contains("coefficients, expected")
    );
}

/// Every integer in every estimator's artifact set, one at a time, to values
/// that break indexes (seeded, a few hundred artifacts): loading and
/// predicting either work or fail with an error, never a panic.
#[test]
fn no_crafted_integer_makes_loading_or_prediction_panic() {
    fn integers(value: &rmpv::Value, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        match value {
            rmpv::Value::Integer(_) => out.push(path.clone()),
            rmpv::Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
                path.push(i);
                integers(v, path, out);
                path.pop();
            }),
            rmpv::Value::Map(entries) => entries.iter().enumerate().for_each(|(i, (_, v))| {
                path.push(i);
                integers(v, path, out);
                path.pop();
            }),
            _ => {}
        }
    }
    fn slot<'a>(value: &'a mut rmpv::Value, path: &[usize]) -> &'a mut rmpv::Value {
        path.iter().fold(value, |v, &i| match v {
            rmpv::Value::Array(items) => &mut items[i],
            rmpv::Value::Map(entries) => &mut entries[i].1,
            _ => unreachable!(),
        })
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (algorithm, task) in all() {
        let (bytes, test) = fitted(algorithm, task);
        let (_, start) = model::artifact::header(&bytes).unwrap();
        let body: rmpv::Value = rmp_serde::from_slice(&bytes[start..]).unwrap();
        let mut paths = Vec::new();
        integers(&body, &mut Vec::new(), &mut paths);
        for _ in 0..40.min(paths.len()) {
            let path = &paths[next() as usize % paths.len()];
            let value: u64 = match next() % 4 {
                0 => 0,
                1 => 1,
                2 => u64::from(u32::MAX),
                _ => next() % 1000,
            };
            let bytes = crafted(&bytes, |m| *slot(m, path) = value.into());
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Ok(model) = Model::load(&bytes) {
                    let _ = model.predict_columns(&test);
                }
            }));
            assert!(
                outcome.is_ok(),
                "{algorithm} {task:?}: setting {path:?} to {value} panicked"
            );
        }
    }
}

/// Found by the model_artifact fuzz oracle: a value near −1e308 overflowed a
/// logistic model's scores to ±∞ and its probabilities came out NaN, written
/// as a prediction. Such a row is now an error naming why; the others are
/// scored as before. (A trained model's own coefficients overflow the same
/// way on ±1e308; crafting them large only makes every class overflow.)
#[test]
fn an_input_that_overflows_the_arithmetic_is_a_row_error_not_nan() {
    use arrow::array::{Array, Float64Array, RecordBatch};
    let (logistic, test) = fitted("logistic_regression", Task::Classification);
    let huge = crafted(&logistic, |m| {
        if let rmpv::Value::Array(c) = at(m, &["estimator", "Logistic", "coefficients"]) {
            c.iter_mut().for_each(|v| *v = (-7.5e8).into());
        }
    });
    let model = Model::load(&huge).unwrap();
    let column = test.schema().index_of("bill_length_mm").unwrap();
    let lengths: Float64Array = (0..test.num_rows())
        .map(|i| Some(if i == 1 { -1e308 } else { 40.0 }))
        .collect();
    let mut columns = test.columns().to_vec();
    columns[column] = std::sync::Arc::new(lengths);
    let batch = RecordBatch::try_new(test.schema(), columns).unwrap();
    let predictions = model.predict_batch(&batch).unwrap();
    match &predictions[1] {
        model::Prediction::Error(message) => {
            assert!(message.contains("not a finite number"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let columns = model.predict_columns(&batch).unwrap();
    assert!(columns.errors[1].is_some() && columns.errors.len() == batch.num_rows());
    assert!(predictions.iter().enumerate().all(|(i, p)| i == 1
        || matches!(p, model::Prediction::Class { probabilities: Some(p), .. }
            if p.iter().all(|v| v.is_finite()))));
    assert!(batch.column(column).len() > 2);
}

/// Every estimator × task has a real model body among the model_artifact
/// fuzz seeds, named `<algorithm>_<task>`, which loads. A new estimator
/// fails here until its seed is written:
/// `CAUCE_WRITE_SEEDS=1 cargo test -p model --test it fuzz_seed`.
#[test]
fn every_estimator_has_a_fuzz_seed() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/model_artifact");
    let write = std::env::var_os("CAUCE_WRITE_SEEDS").is_some();
    let mut missing = Vec::new();
    for (algorithm, task) in all() {
        let name = format!("{algorithm}_{}", task.name());
        let path = dir.join(&name);
        if write {
            let (bytes, _) = fitted(algorithm, task);
            let (_, start) = model::artifact::header(&bytes).unwrap();
            std::fs::write(&path, &bytes[start..]).unwrap();
        }
        match std::fs::read(&path) {
            Ok(body) => {
                let (bytes, _) = fitted(algorithm, task);
                let model = Model::load(&with_body(&bytes, &body))
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(model.params.name(), algorithm, "{name}");
            }
            Err(_) => missing.push(name),
        }
    }
    assert!(
        missing.is_empty(),
        "no fuzz seed for {missing:?}: write them with \
         `CAUCE_WRITE_SEEDS=1 cargo test -p model --test it fuzz_seed`"
    );
}
