//! ONNX export of a fitted model: one ONNX graph with the feature pipeline
//! (imputation, scaling, one-hot encoding) followed by the estimator, in
//! double precision end to end, for ONNX Runtime ≥ 1.20 (IR version 10,
//! opset 21, `ai.onnx.ml` opset 5).
//!
//! - **Inputs**: one per model input column, named as the column, shape
//!   `[N, 1]`: numeric columns `double` (a missing value is NaN), categorical
//!   columns `string` (a missing value is the empty string, which Cauce's
//!   cleaning never leaves as a category).
//! - **Outputs**: `prediction` (`[N]`: the class label as text for a
//!   classifier, the value for a regressor) and, for classifiers with
//!   probabilities (all but `svm`), `probabilities` (`[N, classes]`, classes
//!   in [`crate::Model::classes`]'s order).
//! - A category not seen in training gets all-zero indicators (the
//!   `unknown_category: ignore` behaviour; ONNX has no per-row error, so a
//!   model set to `error` scores such rows instead of refusing them).
//! - The cleaning (casts from text, null tokens) and a SQL transform are not
//!   part of the graph: it takes the columns as etl writes them.

mod graph;
mod proto;
mod trees;

use prost::Message;

pub use graph::{Attr, Elem, Graph, tensor_f64, tensor_u8};
pub use trees::{Branch, Ensemble};

use crate::error::{Error, Result};
use crate::{Model, Task};

/// What an estimator's part of the graph ends in.
#[derive(Debug, Clone)]
pub enum Head {
    /// Class probabilities, `[N, classes]`.
    Probabilities(String),
    /// Predicted values, `[N, 1]`.
    Values(String),
    /// Class scores whose largest is the predicted class (first on a tie),
    /// `[N, classes]`, for a classifier without probabilities.
    Scores(String),
}

/// The error an estimator that cannot be exported returns.
pub fn unsupported(algorithm: &str, reason: &str) -> Error {
    Error::Estimator {
        algorithm: "onnx export",
        message: format!("{algorithm} cannot be exported to ONNX: {reason}"),
    }
}

/// The `prediction` output: the class whose score in `scores` is largest
/// (the first on a tie, as Cauce's argmax), as its label.
fn label(graph: &mut Graph, scores: &str, classes: &[String]) {
    let index = graph.op(
        "ArgMax",
        &[scores],
        vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))],
    );
    let labels = graph.texts("classes", &[classes.len() as i64], classes);
    graph.named(
        "prediction",
        "Gather",
        &[&labels, &index],
        vec![("axis", Attr::Int(0))],
    );
    graph.output("prediction", Elem::Text, None);
}

/// The ONNX model of `model`, serialized.
pub fn export(model: &Model) -> Result<Vec<u8>> {
    let mut graph = Graph::default();
    let x = model.features.onnx(&mut graph)?;
    let head = model.estimator.model().onnx(&mut graph, &x)?;
    match (model.task, head) {
        (Task::Classification, Head::Probabilities(proba)) => {
            label(&mut graph, &proba, &model.classes);
            graph.named("probabilities", "Identity", &[&proba], vec![]);
            let classes = Some(model.classes.len() as i64);
            graph.output("probabilities", Elem::Double, classes);
        }
        (Task::Classification, Head::Scores(scores)) => label(&mut graph, &scores, &model.classes),
        (Task::Regression, Head::Values(values)) => {
            let flat = graph.ints("flat", &[1], vec![-1]);
            graph.named("prediction", "Reshape", &[&values, &flat], vec![]);
            graph.output("prediction", Elem::Double, None);
        }
        (task, _) => {
            return Err(Error::Artifact(format!(
                "the estimator's ONNX output does not match its task ({task:?})"
            )));
        }
    }
    let doc = format!(
        "Cauce model '{}' ({:?}): inputs {}",
        model.name,
        model.task,
        model
            .inputs()
            .iter()
            .map(|c| format!("{} ({})", c.name, c.kind))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(graph.model(&model.name, doc).encode_to_vec())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::proto::ModelProto;
    use super::*;
    use crate::{EstimatorParams, FeatureParams, ModelParams};

    fn fitted(algorithm: &str) -> Model {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("c", DataType::Utf8, true),
            Field::new("label", DataType::Utf8, false),
        ]));
        let x: Vec<f64> = (0..60).map(f64::from).collect();
        let c: Vec<&str> = x.iter().map(|v| ["a", "b", "c"][*v as usize % 3]).collect();
        let labels: Vec<&str> = x
            .iter()
            .map(|v| if *v < 30.0 { "low" } else { "high" })
            .collect();
        let train = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(x)),
                Arc::new(StringArray::from(c)),
                Arc::new(StringArray::from(labels)),
            ],
        )
        .unwrap();
        let params = ModelParams {
            name: "demo".into(),
            task: Task::Classification,
            target: "label".into(),
            features: FeatureParams {
                numeric: vec!["x".into()],
                categorical: vec!["c".into()],
                ..FeatureParams::default()
            },
            estimator: EstimatorParams::new(
                algorithm,
                Task::Classification,
                &serde_json::Value::Null,
            )
            .unwrap(),
            seed: 42,
        };
        let bytes = params.fit(&train).unwrap().to_bytes().unwrap();
        Model::load(&bytes).unwrap()
    }

    /// The exported graph takes one input per column (a number as double,
    /// a category as text), ends in `prediction` and `probabilities`, and
    /// declares the opsets it uses; a tree is one `TreeEnsemble` written
    /// once per class.
    #[test]
    fn a_tree_exports_with_its_inputs_outputs_and_opsets() {
        let exported = export(&fitted("decision_tree")).unwrap();
        let onnx = ModelProto::decode(exported.as_slice()).unwrap();
        let graph = onnx.graph.unwrap();
        let inputs: Vec<_> = graph
            .input
            .iter()
            .map(|i| i.name.clone().unwrap())
            .collect();
        assert_eq!(inputs, ["x", "c"]);
        let outputs: Vec<_> = graph
            .output
            .iter()
            .map(|o| o.name.clone().unwrap())
            .collect();
        assert_eq!(outputs, ["prediction", "probabilities"]);
        let opsets: Vec<_> = onnx
            .opset_import
            .iter()
            .map(|o| (o.domain.clone().unwrap(), o.version.unwrap()))
            .collect();
        assert_eq!(
            opsets,
            [("".to_string(), 21), ("ai.onnx.ml".to_string(), 5)]
        );
        let trees: Vec<_> = graph
            .node
            .iter()
            .filter(|n| n.op_type.as_deref() == Some("TreeEnsemble"))
            .collect();
        assert_eq!(trees.len(), 1);
        let roots = trees[0]
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some("tree_roots"))
            .unwrap();
        assert_eq!(roots.ints.len(), 2, "one copy of the tree per class");
        assert_eq!(onnx.ir_version, Some(graph::IR_VERSION));
    }

    /// A classifier without probabilities (svm) exports its label only.
    #[test]
    fn a_classifier_without_probabilities_exports_its_label_only() {
        let exported = export(&fitted("svm")).unwrap();
        let graph = ModelProto::decode(exported.as_slice())
            .unwrap()
            .graph
            .unwrap();
        let outputs: Vec<_> = graph
            .output
            .iter()
            .map(|o| o.name.clone().unwrap())
            .collect();
        assert_eq!(outputs, ["prediction"]);
    }
}
