//! Cell-level cleaning of text before casting ([`Cleaner`]: trim whitespace,
//! turn null tokens (`""`, `NA`, `null`, …) into nulls), and the record of
//! all the cleaning that produced a dataset ([`Cleaning`]): etl writes it in
//! its manifest, the trainer copies the part its model reads into the model
//! card, and inference applies it again to raw files, so that a raw row
//! becomes the same features in training and in serving.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::Result;

pub use records::cleaning::Cleaning;

/// The cell cleaner of `cleaning`.
pub fn cleaner(cleaning: &Cleaning) -> Cleaner {
    Cleaner {
        trim: cleaning.trim,
        null_tokens: cleaning.null_tokens.clone(),
    }
}

/// `column` (cleaned text of output column `name`) with its nulls replaced
/// by `cleaning`'s `fill_null` constant, if it has one.
pub fn fill(cleaning: &Cleaning, name: &str, column: ArrayRef) -> ArrayRef {
    match cleaning.fill_null.get(name) {
        Some(value) => fill_nulls(column, value),
        None => column,
    }
}

/// `column` (cleaned text) with its nulls replaced by `value`.
pub fn fill_nulls(column: ArrayRef, value: &str) -> ArrayRef {
    if column.null_count() == 0 {
        return column;
    }
    let text = column.as_string::<i32>();
    let filled: StringArray = text.iter().map(|v| Some(v.unwrap_or(value))).collect();
    Arc::new(filled)
}

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
        let needs_trim = |v: &str| v.trim().len() != v.len();
        if self.trim && strings.iter().flatten().any(needs_trim) {
            let cleaned: StringArray = strings
                .iter()
                .map(|value| {
                    let value = value?.trim();
                    (!self.null_tokens.iter().any(|t| t == value)).then_some(value)
                })
                .collect();
            return Ok(Arc::new(cleaned));
        }
        // Nothing to trim: the values stay where they are and only the
        // null tokens become nulls.
        if self.null_tokens.is_empty() {
            return Ok(column);
        }
        let valid: NullBuffer = strings
            .iter()
            .map(|value| value.is_some_and(|v| !self.null_tokens.iter().any(|t| t == v)))
            .collect();
        let (offsets, values, _) = strings.clone().into_parts();
        let nulls = (valid.null_count() > 0).then_some(valid);
        Ok(Arc::new(StringArray::try_new(offsets, values, nulls)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ColumnType;

    #[test]
    fn a_cleaning_keeps_what_its_columns_need() {
        let cleaning = Cleaning {
            rename: [("Bill".into(), "bill".into()), ("ID".into(), "id".into())].into(),
            drop: vec!["secret".into()],
            types: [
                ("bill".into(), ColumnType::Float64),
                ("id".into(), ColumnType::Int64),
            ]
            .into(),
            fill_null: [("bill".into(), "0".into())].into(),
            ..Cleaning::default()
        };
        assert_eq!(cleaning.output_name("Bill"), Some("bill"));
        assert_eq!(cleaning.output_name("other"), Some("other"));
        assert_eq!(cleaning.output_name("secret"), None);
        let part = cleaning.for_columns(&["bill".into()]);
        assert_eq!(part.rename.len(), 2);
        assert_eq!(part.types.keys().collect::<Vec<_>>(), ["bill"]);
        let column: ArrayRef = Arc::new(StringArray::from(vec![Some("1"), None]));
        let filled = fill(&part, "bill", column);
        assert_eq!(filled.as_string::<i32>().value(1), "0");
    }

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
        // Nothing to trim: tokens still become nulls, values keep their text.
        let plain: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some(""),
            None,
            Some("NA"),
            Some("é"),
        ]));
        let out = cleaner.clean(&plain).unwrap();
        assert_eq!(
            out.as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some("a"), None, None, None, Some("é")]
        );
        // Unicode whitespace at an end is trimmed too.
        let wide: ArrayRef = Arc::new(StringArray::from(vec![Some("\u{a0}x\u{2003}"), Some("y")]));
        let out = cleaner.clean(&wide).unwrap();
        assert_eq!(
            out.as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some("x"), Some("y")]
        );
        let keep = Cleaner {
            trim: false,
            null_tokens: vec![String::new()],
        };
        let out = keep.clean(&input).unwrap();
        assert_eq!(
            out.as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some(" a "), Some("NA"), Some("  "), None, Some("b")]
        );
    }
}
