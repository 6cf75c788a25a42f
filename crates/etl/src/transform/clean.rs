//! Cell-level cleaning of text before casting: trim whitespace, turn null
//! tokens (`""`, `NA`, `null`, …) into nulls.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::Result;

/// How text cells are cleaned.
#[derive(Debug, Clone)]
pub struct Cleaner {
    /// Trim whitespace.
    pub trim: bool,
    /// Values that mean null (compared after trimming).
    pub null_tokens: Vec<String>,
}

impl Cleaner {
    /// Cleans a string column; other types pass through unchanged.
    pub fn clean(&self, column: &ArrayRef) -> Result<ArrayRef> {
        let column = match column.data_type() {
            DataType::Utf8 => Arc::clone(column),
            DataType::LargeUtf8 | DataType::Utf8View => cast(column, &DataType::Utf8)?,
            _ => return Ok(Arc::clone(column)),
        };
        let strings = column.as_string::<i32>();
        let cleaned: StringArray = strings
            .iter()
            .map(|value| {
                let value = value?;
                let value = if self.trim { value.trim() } else { value };
                (!self.null_tokens.iter().any(|t| t == value)).then_some(value)
            })
            .collect();
        Ok(Arc::new(cleaned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_nulls_tokens() {
        let cleaner = Cleaner {
            trim: true,
            null_tokens: vec![String::new(), "NA".into()],
        };
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some(" a "),
            Some("NA"),
            Some("  "),
            None,
            Some("b"),
        ]));
        let out = cleaner.clean(&input).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            [Some("a"), None, None, None, Some("b")]
        );
    }
}
