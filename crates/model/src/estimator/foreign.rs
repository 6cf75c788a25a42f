//! Structural checks of smartcore's fitted models, whose fields are
//! private: read through their serde form, as `svm` reads its solvers.
//! A decoded artifact must not be able to make prediction index out of
//! bounds or loop forever.

use serde_json::Value;

/// Finds smartcore node lists (`nodes: [{split_feature, true_child,
/// false_child, …}]`) anywhere in `value` and checks each.
pub(super) fn check_node_lists(
    value: &serde_json::Value,
    features: usize,
    lists: &mut usize,
) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(nodes)) = map.get("nodes") {
                *lists += 1;
                if nodes.is_empty() {
                    return Err("a tree has no nodes".into());
                }
                for (i, node) in nodes.iter().enumerate() {
                    let index = |key: &str| node.get(key).and_then(Value::as_u64);
                    let children = [index("true_child"), index("false_child")];
                    if children.iter().all(Option::is_none) {
                        continue;
                    }
                    let inside = |c: Option<u64>| {
                        c.is_some_and(|c| c as usize > i && (c as usize) < nodes.len())
                    };
                    if !children.into_iter().all(inside) {
                        return Err(format!("node {i} has children outside the tree"));
                    }
                    if index("split_feature").is_none_or(|f| f as usize >= features) {
                        return Err(format!("node {i} splits a feature outside the {features}"));
                    }
                }
            }
            map.values()
                .try_for_each(|v| check_node_lists(v, features, lists))
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_node_lists(v, features, lists)),
        _ => Ok(()),
    }
}
