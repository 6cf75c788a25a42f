//! Every estimator fits the penguins sample and beats its baseline: the
//! majority class for species (Adelie, 152 of 344) and the mean for body mass.

use arrow::array::AsArray;
use arrow::compute::cast;
use arrow::datatypes::DataType;
use model::{Model, Prediction, Task};
use serde_json::json;

use crate::penguins::{load, params, split};

fn accuracy(model: &Model, test: &arrow::array::RecordBatch) -> f64 {
    let truth = test
        .column_by_name("species")
        .unwrap()
        .as_string::<i32>()
        .clone();
    let predictions = model.predict_batch(test).unwrap();
    let correct = predictions
        .iter()
        .enumerate()
        .filter(|(i, p)| matches!(p, Prediction::Class { label, .. } if label == truth.value(*i)))
        .count();
    correct as f64 / predictions.len() as f64
}

fn rmse(model: &Model, test: &arrow::array::RecordBatch, baseline: Option<f64>) -> f64 {
    let truth = cast(
        test.column_by_name("body_mass_g").unwrap(),
        &DataType::Float64,
    )
    .unwrap();
    let truth = truth.as_primitive::<arrow::datatypes::Float64Type>();
    let predictions = model.predict_batch(test).unwrap();
    let squared: f64 = predictions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let value = match (baseline, p) {
                (Some(b), _) => b,
                (None, Prediction::Value(v)) => *v,
                (None, other) => panic!("{other:?}"),
            };
            (value - truth.value(i)).powi(2)
        })
        .sum();
    (squared / predictions.len() as f64).sqrt()
}

/// Each classifier with the settings it is tested with and the accuracy it
/// must reach on penguins.
fn classifiers() -> Vec<(&'static str, serde_json::Value, f64)> {
    vec![
        ("logistic_regression", json!({"alpha": 0.1}), 0.95),
        ("decision_tree", json!({"max_depth": 6}), 0.90),
        ("random_forest", json!({"n_trees": 30}), 0.95),
        ("extra_trees", json!({"n_trees": 30}), 0.95),
        ("knn", json!({"k": 5}), 0.95),
        ("gradient_boosting", json!(null), 0.95),
        ("svm", json!(null), 0.95),
        ("svm", json!({"kernel": "linear", "c": 0.5}), 0.95),
        (
            "svm",
            json!({"kernel": "poly", "degree": 2, "coef0": 1}),
            0.90,
        ),
        // Naive Bayes treats the one-hot island/sex features as Gaussians with
        // near-zero within-class variance, which makes it overconfident; it
        // still beats the baseline by a wide margin.
        ("gaussian_nb", json!(null), 0.70),
    ]
}

/// Each regressor with the settings it is tested with.
fn regressors() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("linear_regression", json!(null)),
        ("ridge", json!({"alpha": 1.0})),
        ("lasso", json!({"alpha": 1.0})),
        ("elastic_net", json!({"alpha": 0.1, "l1_ratio": 0.5})),
        ("extra_trees", json!({"n_trees": 30, "min_samples_leaf": 2})),
        ("gradient_boosting", json!({"min_samples_leaf": 5})),
        (
            "decision_tree",
            json!({"max_depth": 5, "min_samples_leaf": 3}),
        ),
        (
            "random_forest",
            json!({"n_trees": 30, "min_samples_leaf": 2}),
        ),
        ("knn", json!({"k": 7, "weights": "distance"})),
        // Body mass is in grams (sd ≈ 800): the penalty must be large enough
        // for margin violations of that size to matter.
        ("svm", json!({"c": 5000, "epsilon": 50})),
        ("svm", json!({"kernel": "linear", "c": 100, "epsilon": 50})),
    ]
}

/// The lists above cover every estimator × task of the estimator registry,
/// so a new estimator fails here until it is given its settings.
#[test]
fn every_estimator_is_tested_on_each_task_it_does() {
    for &(name, tasks) in model::estimator::ESTIMATORS {
        for task in tasks {
            let listed = match task {
                Task::Classification => classifiers().iter().any(|c| c.0 == name),
                Task::Regression => regressors().iter().any(|r| r.0 == name),
            };
            assert!(listed, "{name} is not tested for {}", task.name());
        }
    }
}

#[test]
fn every_classifier_beats_the_majority_class() {
    let data = load();
    let (train, test) = split(&data, false);
    let adelie = test
        .column_by_name("species")
        .unwrap()
        .as_string::<i32>()
        .iter()
        .filter(|s| *s == Some("Adelie"))
        .count();
    let baseline = adelie as f64 / test.num_rows() as f64;
    for (algorithm, extra, floor) in classifiers() {
        let model = params(algorithm, Task::Classification, extra)
            .fit(&train)
            .unwrap();
        let acc = accuracy(&model, &test);
        assert!(
            acc > baseline && acc >= floor,
            "{algorithm}: accuracy {acc:.3}, baseline {baseline:.3}"
        );
        let first = &model.predict_batch(&test).unwrap()[0];
        if model.has_probabilities() {
            let Prediction::Class {
                probabilities: Some(p),
                ..
            } = first
            else {
                panic!("{algorithm}: {first:?}")
            };
            assert_eq!(p.len(), 3);
            assert!(
                (p.iter().sum::<f64>() - 1.0).abs() < 1e-9,
                "{algorithm}: {p:?}"
            );
        }
    }
}

#[test]
fn every_regressor_beats_the_mean() {
    let data = load();
    let (train, test) = split(&data, true);
    let mass = cast(
        train.column_by_name("body_mass_g").unwrap(),
        &DataType::Float64,
    )
    .unwrap();
    let mass = mass.as_primitive::<arrow::datatypes::Float64Type>();
    let mean = mass.iter().flatten().sum::<f64>() / mass.len() as f64;
    for (algorithm, extra) in regressors() {
        let model = params(algorithm, Task::Regression, extra)
            .fit(&train)
            .unwrap();
        let baseline = rmse(&model, &test, Some(mean));
        let error = rmse(&model, &test, None);
        assert!(
            error < 0.7 * baseline,
            "{algorithm}: rmse {error:.1} vs baseline {baseline:.1}"
        );
    }
}

#[test]
fn unseen_categories_and_missing_columns() {
    let data = load();
    let (train, test) = split(&data, false);
    let mut p = params("logistic_regression", Task::Classification, json!(null));
    p.features.unknown_category = model::features::UnknownCategory::Error;
    let model = p.fit(&train).unwrap();
    let renamed = arrow::array::StringArray::from(vec!["Atlantis"; test.num_rows()]);
    let index = test.schema().index_of("island").unwrap();
    let mut columns = test.columns().to_vec();
    columns[index] = std::sync::Arc::new(renamed);
    let odd = arrow::array::RecordBatch::try_new(test.schema(), columns).unwrap();
    let predictions = model.predict_batch(&odd).unwrap();
    assert_eq!(
        predictions[0],
        Prediction::Error("column 'island': category 'Atlantis' was not seen in training".into())
    );

    let narrow = test.project(&[0, 1, 2]).unwrap();
    let err = model.predict_batch(&narrow).unwrap_err().to_string();
    assert_eq!(
        err,
        "missing feature column(s) 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex'"
    );
}

#[test]
fn bad_parameters_name_the_valid_ones() {
    let err = model::EstimatorParams::new(
        "random_forest",
        Task::Classification,
        &json!({"n_tree": 10}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("params: unknown field 'n_tree', expected one of 'n_trees', 'max_depth'"),
        "{err}"
    );
    let err = model::EstimatorParams::new("svm_magic", Task::Classification, &json!(null))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected one of logistic_regression"), "{err}");
    let err = model::EstimatorParams::new("linear_regression", Task::Classification, &json!(null))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "algorithm: linear_regression does not do classification"
    );
    let err = model::EstimatorParams::new("knn", Task::Regression, &json!({"k": 0}))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "params.k: must be at least 1");
    let err = model::EstimatorParams::new(
        "logistic_regression",
        Task::Classification,
        &json!({"tol": 0}),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "params: max_iter must be at least 1 and tol > 0");
    let err = model::EstimatorParams::new("svm", Task::Classification, &json!({"c": 0}))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "params.c: must be > 0");
    let err = model::EstimatorParams::new("svm", Task::Regression, &json!({"gamma": "median"}))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "params: invalid value: string \"median\", expected a number > 0, 'scale' or 'auto'"
        ),
        "{err}"
    );
    let err = model::EstimatorParams::new("svm", Task::Regression, &json!({"kernel": "cubic"}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected one of 'linear', 'rbf', 'poly', 'sigmoid'"),
        "{err}"
    );
}

#[test]
fn tree_models_report_feature_importances() {
    let data = load();
    let (train, _) = split(&data, true);
    for algorithm in ["decision_tree", "random_forest", "extra_trees"] {
        let extra = if algorithm == "decision_tree" {
            json!(null)
        } else {
            json!({"n_trees": 10})
        };
        let model = params(algorithm, Task::Regression, extra)
            .fit(&train)
            .unwrap();
        let importances = model.feature_importances().unwrap();
        assert_eq!(importances.len(), model.features.feature_names().len());
        let total: f64 = importances.iter().map(|(_, v)| v).sum();
        assert!((total - 1.0).abs() < 1e-9, "{algorithm}: {importances:?}");
        assert!(importances.windows(2).all(|w| w[0].1 >= w[1].1), "sorted");
    }
    let linear = params("ridge", Task::Regression, json!(null))
        .fit(&train)
        .unwrap();
    assert!(linear.feature_importances().is_none());

    // Species: flipper length and bill measurements separate the three.
    let (train, _) = split(&data, false);
    for algorithm in ["decision_tree", "random_forest", "extra_trees"] {
        let model = params(algorithm, Task::Classification, json!(null))
            .fit(&train)
            .unwrap();
        let importances = model.feature_importances().unwrap();
        let total: f64 = importances.iter().map(|(_, v)| v).sum();
        assert!((total - 1.0).abs() < 1e-9, "{algorithm}: {importances:?}");
        assert!(
            importances[0].0.starts_with("bill_") || importances[0].0.starts_with("flipper_"),
            "{algorithm}: {importances:?}"
        );
    }
}

/// `numeric_imputer: none` leaves nulls missing for gradient boosting,
/// which learns where they go; any other estimator refuses it by name.
#[test]
fn gradient_boosting_takes_missing_values_unimputed() {
    let data = load();
    let (train, test) = split(&data, false);
    let mut p = params("gradient_boosting", Task::Classification, json!(null));
    p.features.numeric_imputer = model::features::NumericImputer::None;
    let model = p.fit(&train).unwrap();
    let acc = accuracy(&model, &test);
    assert!(acc >= 0.95, "accuracy {acc}");
    // A row with every numeric feature null is still scored.
    let nulls = arrow::compute::filter_record_batch(
        &data,
        &(0..data.num_rows())
            .map(|i| Some(data.column_by_name("bill_length_mm").unwrap().is_null(i)))
            .collect(),
    )
    .unwrap();
    assert!(nulls.num_rows() > 0);
    let predictions = model.predict_batch(&nulls).unwrap();
    assert!(
        predictions
            .iter()
            .all(|p| matches!(p, Prediction::Class { .. })),
        "{predictions:?}"
    );
    let mut tree = params("decision_tree", Task::Classification, json!(null));
    tree.features.numeric_imputer = model::features::NumericImputer::None;
    let err = tree.fit(&train).unwrap_err().to_string();
    assert!(
        err.contains("preprocessing.numeric_imputer") && err.contains("decision_tree"),
        "{err}"
    );
}
