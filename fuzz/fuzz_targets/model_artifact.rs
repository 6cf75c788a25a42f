//! Loading a crafted model body never panics, even with a valid header and
//! checksum around it: it is refused in one error, or it is a model whose
//! predictions (on values it never saw, nulls, NaN and extremes) and
//! importances are computed without a panic. What a loaded model does must
//! also be right: it re-encodes to bytes that load to the same bytes again,
//! it gives one prediction per input row, and a class's probabilities are
//! finite, in [0, 1] and sum to 1 (or the row is an error).
#![no_main]

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use libfuzzer_sys::fuzz_target;
use model::Model;
use model::artifact::{FORMAT_VERSION, Header, MAGIC, SMARTCORE_VERSION};

/// `body` behind a header that matches it (right length and SHA-256).
fn artifact(body: &[u8]) -> Vec<u8> {
    let header = Header {
        format_version: FORMAT_VERSION,
        cauce_version: "0.1.0".into(),
        smartcore_version: SMARTCORE_VERSION.into(),
        body_bytes: body.len() as u64,
        body_sha256: common::checksum::sha256_hex(body),
    };
    let header = serde_json::to_vec(&header).expect("a header serializes");
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(body);
    bytes
}

/// Five rows for the model's input columns: seen values, unseen ones,
/// nulls, NaN and extremes.
fn probe(model: &Model) -> Option<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for input in model.inputs() {
        if input.kind == "categorical" {
            let seen = input.categories.first().cloned();
            let last = input.categories.last().cloned();
            fields.push(Field::new(&input.name, DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(vec![
                seen,
                Some("never seen".into()),
                None,
                Some(String::new()),
                last,
            ])));
        } else {
            fields.push(Field::new(&input.name, DataType::Float64, true));
            columns.push(Arc::new(Float64Array::from(vec![
                Some(0.5),
                Some(f64::NAN),
                None,
                Some(-1e308),
                Some(f64::INFINITY),
            ])));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).ok()
}

fuzz_target!(|body: &[u8]| {
    let Ok(model) = Model::load(&artifact(body)) else {
        return;
    };
    let _ = model.feature_importances();
    if let Ok(bytes) = model.to_bytes() {
        let again = Model::load(&bytes).expect("a model's own bytes load");
        assert_eq!(again.to_bytes().ok(), Some(bytes), "re-encoding is stable");
    }
    let Some(batch) = probe(&model) else {
        return;
    };
    if let Ok(predictions) = model.predict_batch(&batch) {
        assert_eq!(predictions.len(), batch.num_rows(), "one prediction per row");
        for prediction in &predictions {
            if let model::Prediction::Class {
                probabilities: Some(p),
                ..
            } = prediction
            {
                let sum: f64 = p.iter().sum();
                assert!(
                    p.iter().all(|v| v.is_finite() && (-1e-9..=1.0 + 1e-9).contains(v))
                        && (sum - 1.0).abs() < 1e-6,
                    "probabilities {p:?} of {}", model.params.name()
                );
            }
        }
    }
    if let Ok(columns) = model.predict_columns(&batch) {
        assert_eq!(columns.errors.len(), batch.num_rows());
    }
});
