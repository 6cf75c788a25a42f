//! The feature pipeline as ONNX nodes: each numeric input imputed
//! (non-finite values are missing, as in [`super::FittedFeatures::transform`])
//! and scaled, each categorical input mapped to its category's position
//! (rare ones to the "other" column, unseen ones to none, the empty string
//! to the fill value) and one-hot encoded, all concatenated in the matrix's
//! column order.

use super::FittedFeatures;
use crate::error::Result;
use crate::onnx::{Attr, Elem, Graph};

impl FittedFeatures {
    /// Declares the graph's inputs and builds the `[N, width]` feature
    /// matrix from them; its name.
    pub(crate) fn onnx(&self, graph: &mut Graph) -> Result<String> {
        let mut parts = Vec::new();
        for column in &self.numeric {
            graph.input(&column.name, Elem::Double, 1);
            let nan = graph.op("IsNaN", &[&column.name], vec![]);
            let inf = graph.op("IsInf", &[&column.name], vec![]);
            let missing = graph.op("Or", &[&nan, &inf], vec![]);
            let fill = graph.doubles("fill", &[], vec![column.fill]);
            let mut value = graph.op("Where", &[&missing, &fill, &column.name], vec![]);
            if column.center != 0.0 {
                let center = graph.doubles("center", &[], vec![column.center]);
                value = graph.op("Sub", &[&value, &center], vec![]);
            }
            if column.scale != 1.0 {
                let scale = graph.doubles("scale", &[], vec![column.scale]);
                value = graph.op("Div", &[&value, &scale], vec![]);
            }
            parts.push(value);
        }
        for column in &self.categorical {
            graph.input(&column.name, Elem::Text, 1);
            let other = column.categories.len() as i64;
            let mut keys: Vec<String> = column.categories.clone();
            let mut positions: Vec<i64> = (0..other).collect();
            for rare in &column.rare {
                keys.push(rare.clone());
                positions.push(other);
            }
            if !keys.iter().any(String::is_empty) {
                let fill = keys.iter().position(|k| *k == column.fill);
                keys.push(String::new());
                positions.push(fill.map_or(-1, |i| positions[i]));
            }
            let index = graph.ml(
                "LabelEncoder",
                &[&column.name],
                vec![
                    ("keys_strings", Attr::Texts(keys)),
                    ("values_int64s", Attr::Ints(positions)),
                    ("default_int64", Attr::Int(-1)),
                ],
            );
            let width = column.width() as i64;
            let range = graph.ints("positions", &[1, width], (0..width).collect());
            let hot = graph.op("Equal", &[&index, &range], vec![]);
            parts.push(graph.op("Cast", &[&hot], vec![("to", Attr::Int(11))]));
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Ok(graph.op("Concat", &refs, vec![("axis", Attr::Int(1))]))
    }
}
