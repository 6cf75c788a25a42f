//! Column types of cleaned data ([`ColumnType`], as declared in config and
//! written to Parquet), their inference for undeclared text columns from a
//! sample of values (the narrowest of int64, float64, bool, date, timestamp
//! that every non-null value parses as; string otherwise), and the cast of
//! text to a type that reports the rows that do not cast.

use arrow::array::{Array, ArrayRef};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::DataType;

use crate::error::Result;

pub use records::cleaning::ColumnType;

/// Casts a cleaned text column to `target` (any other column is cast the
/// same way): Arrow's cast, the one etl and inference both use, where a
/// value that is present before and null after did not cast. Returns the
/// cast column and the rows that did not cast.
pub fn cast_reporting(column: &ArrayRef, target: &DataType) -> Result<(ArrayRef, Vec<usize>)> {
    if column.data_type() == target {
        return Ok((column.clone(), Vec::new()));
    }
    // Arrow's null type (pyarrow's all-None column) has no validity bitmap:
    // its cells read as valid and every cast "fails". It is all null.
    if column.data_type() == &DataType::Null {
        return Ok((
            arrow::array::new_null_array(target, column.len()),
            Vec::new(),
        ));
    }
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    let typed = cast_with_options(column, target, &options)?;
    let failed = match typed.null_count() > column.null_count() {
        true => (0..column.len())
            .filter(|&i| column.is_valid(i) && typed.is_null(i))
            .collect(),
        false => Vec::new(),
    };
    Ok((typed, failed))
}

/// Infers a column's type from its (already trimmed, non-null) sample values.
pub fn infer<'a>(values: impl Iterator<Item = &'a str> + Clone) -> ColumnType {
    let mut values = values.peekable();
    if values.peek().is_none() {
        return ColumnType::String;
    }
    let all = |f: fn(&str) -> bool| values.clone().all(f);
    if all(|v| v.parse::<i64>().is_ok()) {
        ColumnType::Int64
    } else if all(|v| v.parse::<f64>().is_ok()) {
        ColumnType::Float64
    } else if all(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "false")) {
        ColumnType::Bool
    } else if all(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
        ColumnType::Date
    } else if all(is_timestamp) {
        ColumnType::Timestamp
    } else {
        ColumnType::String
    }
}

fn is_timestamp(v: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(v).is_ok()
        || chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").is_ok()
        || chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[&str]) -> ColumnType {
        infer(values.iter().copied())
    }

    #[test]
    fn casts_report_the_rows_that_do_not_cast() {
        let text: ArrayRef = std::sync::Arc::new(arrow::array::StringArray::from(vec![
            Some("1.5"),
            None,
            Some("abc"),
            Some("inf"),
            Some("7"),
        ]));
        let (typed, failed) = cast_reporting(&text, &DataType::Float64).unwrap();
        assert_eq!(failed, [2]);
        assert_eq!(typed.null_count(), 2);
        let (_, failed) = cast_reporting(&text, &DataType::Int64).unwrap();
        assert_eq!(failed, [0, 2, 3]);
    }

    #[test]
    fn narrowest_type_wins() {
        assert_eq!(of(&["1", "-2", "300"]), ColumnType::Int64);
        assert_eq!(of(&["1", "2.5"]), ColumnType::Float64);
        assert_eq!(of(&["TRUE", "false"]), ColumnType::Bool);
        assert_eq!(of(&["2026-01-31", "2007-11-09"]), ColumnType::Date);
        assert_eq!(
            of(&["2026-01-31T10:00:00Z", "2026-01-31 10:00:00"]),
            ColumnType::Timestamp
        );
        assert_eq!(of(&["1", "x"]), ColumnType::String);
        assert_eq!(of(&[]), ColumnType::String);
    }
}
