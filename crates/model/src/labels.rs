//! The data type of a classification target, kept in the model so that
//! predictions come back in it: integer labels stay integers, booleans stay
//! booleans (the classes themselves are held as text).

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a classification target's labels are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelType {
    /// Text (and anything else): predictions are `Utf8`.
    #[default]
    Text,
    /// Any integer type: predictions are `Int64`.
    Integer,
    /// Floating point: predictions are `Float64`.
    Float,
    /// Boolean.
    Boolean,
}

impl LabelType {
    /// The label type of a target column of type `data_type`.
    pub fn of(data_type: &DataType) -> Self {
        match data_type {
            t if t.is_integer() => Self::Integer,
            t if t.is_floating() => Self::Float,
            DataType::Boolean => Self::Boolean,
            DataType::Dictionary(_, value) => Self::of(value),
            _ => Self::Text,
        }
    }

    /// The Arrow type of the predictions.
    pub fn data_type(self) -> DataType {
        match self {
            Self::Text => DataType::Utf8,
            Self::Integer => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Boolean => DataType::Boolean,
        }
    }

    /// Turns predicted labels (text, as the classes are held) into this type.
    /// A label that does not parse is an error, never a silent null: the
    /// classes came from a column of this type.
    pub fn column(self, labels: StringArray) -> Result<ArrayRef> {
        if self == Self::Text {
            return Ok(Arc::new(labels));
        }
        let options = arrow::compute::CastOptions {
            safe: false,
            ..Default::default()
        };
        arrow::compute::cast_with_options(&labels, &self.data_type(), &options).map_err(|e| {
            Error::Data(format!(
                "a predicted label is not a valid {:?}: {e}",
                self.data_type()
            ))
        })
    }
}

/// Checks that every class parses as `label_type` (so serving cannot fail later).
pub(crate) fn check_classes(label_type: LabelType, classes: &[String]) -> Result<()> {
    let text = StringArray::from_iter_values(classes);
    label_type.column(text).map(|_| ())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn labels_come_back_in_the_target_type() {
        assert_eq!(LabelType::of(&DataType::Int32), LabelType::Integer);
        assert_eq!(LabelType::of(&DataType::UInt8), LabelType::Integer);
        assert_eq!(LabelType::of(&DataType::Float32), LabelType::Float);
        assert_eq!(LabelType::of(&DataType::Boolean), LabelType::Boolean);
        assert_eq!(LabelType::of(&DataType::LargeUtf8), LabelType::Text);
        let labels = StringArray::from(vec![Some("0"), None, Some("12")]);
        let ints = LabelType::Integer.column(labels).unwrap();
        let ints = ints.as_primitive::<Int64Type>();
        assert_eq!(
            (ints.value(0), ints.is_null(1), ints.value(2)),
            (0, true, 12)
        );
        let bools = LabelType::Boolean
            .column(StringArray::from(vec!["true", "false"]))
            .unwrap();
        assert!(bools.as_boolean().value(0) && !bools.as_boolean().value(1));
        assert!(
            LabelType::Integer
                .column(StringArray::from(vec!["a"]))
                .is_err()
        );
    }
}
