//! Type inference for undeclared text columns from a sample of values: the
//! narrowest of int64, float64, bool, date, timestamp that every non-null
//! value parses as; string otherwise.

use crate::config::ColumnType;

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
