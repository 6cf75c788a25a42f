//! Side-by-side comparison of two versions: metrics with deltas, parameters
//! flattened to dotted keys.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::card::ModelCard;

/// One metric in both versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    /// Metric name.
    pub metric: String,
    /// Value in the first version.
    pub a: Option<f64>,
    /// Value in the second version.
    pub b: Option<f64>,
    /// `b - a` when both exist.
    pub delta: Option<f64>,
}

/// One parameter in both versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamRow {
    /// Dotted key, e.g. `estimator.n_trees`.
    pub param: String,
    /// Value in the first version.
    pub a: Option<Value>,
    /// Value in the second version.
    pub b: Option<Value>,
    /// Whether they differ.
    pub changed: bool,
}

/// The comparison of two cards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// First version.
    pub a: String,
    /// Second version.
    pub b: String,
    /// Metrics of either version.
    pub metrics: Vec<MetricRow>,
    /// Parameters of either version.
    pub params: Vec<ParamRow>,
}

/// Compares two cards.
pub fn compare(a: &ModelCard, b: &ModelCard) -> Comparison {
    let names: BTreeSet<&String> = a.metrics.keys().chain(b.metrics.keys()).collect();
    let metrics = names
        .into_iter()
        .map(|name| {
            let (x, y) = (a.metrics.get(name).copied(), b.metrics.get(name).copied());
            MetricRow {
                metric: name.clone(),
                a: x,
                b: y,
                delta: x.zip(y).map(|(x, y)| y - x),
            }
        })
        .collect();
    let (mut pa, mut pb) = (Vec::new(), Vec::new());
    flatten("", &a.params, &mut pa);
    flatten("", &b.params, &mut pb);
    let keys: BTreeSet<&String> = pa.iter().chain(pb.iter()).map(|(k, _)| k).collect();
    let find = |list: &[(String, Value)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let params = keys
        .into_iter()
        .map(|key| {
            let (x, y) = (find(&pa, key), find(&pb, key));
            ParamRow {
                param: key.clone(),
                changed: x != y,
                a: x,
                b: y,
            }
        })
        .collect();
    Comparison {
        a: a.version.to_string(),
        b: b.version.to_string(),
        metrics,
        params,
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, value, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        other => out.push((prefix.to_string(), other.clone())),
    }
}
