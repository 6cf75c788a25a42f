//! Why a row was quarantined: the rule, the column, the offending value. The
//! short [`Reason::key`] (`min(bill_length_mm)`) is what the manifest counts by.

use std::fmt;

/// One failed rule for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// `ragged`, `utf8`, `json`, `unknown_field`, `cast`, `required`, `min`,
    /// `max`, `allowed`, `pattern`, `max_length`, `unique` or `transform`.
    pub rule: &'static str,
    /// The column it concerns, if one.
    pub column: Option<String>,
    /// The human-readable rest.
    pub detail: String,
}

/// Longest value quoted in a reason.
const MAX_QUOTED: usize = 80;

fn quote(value: &str) -> String {
    if value.chars().count() <= MAX_QUOTED {
        format!("'{value}'")
    } else {
        let cut: String = value.chars().take(MAX_QUOTED).collect();
        format!("'{cut}…'")
    }
}

impl Reason {
    fn new(rule: &'static str, column: Option<&str>, detail: String) -> Self {
        Self {
            rule,
            column: column.map(str::to_string),
            detail,
        }
    }

    /// The row has a different number of fields than the header.
    /// `lines` > 1: the record ran over that many lines inside a quoted
    /// field, which is said, since an unclosed quote swallows the lines
    /// after it into one record.
    pub fn ragged(expected: usize, found: usize, lines: u64) -> Self {
        let span = if lines > 1 {
            format!("; the record spans {lines} lines inside a quoted field (an unclosed quote?)")
        } else {
            String::new()
        };
        Self::new(
            "ragged",
            None,
            format!("expected {expected} fields, found {found}{span}"),
        )
    }

    /// A field is not valid UTF-8.
    pub fn invalid_utf8(column: &str) -> Self {
        Self::new("utf8", Some(column), "value is not valid UTF-8".into())
    }

    /// An NDJSON line is not a JSON object.
    pub fn json(message: String) -> Self {
        Self::new("json", None, message)
    }

    /// An NDJSON object has a key outside the columns.
    pub fn unknown_field(name: &str) -> Self {
        Self::new(
            "unknown_field",
            Some(name),
            "field is not one of the dataset's columns".into(),
        )
    }

    /// A value does not convert to the column's type.
    pub fn cast(column: &str, value: &str, type_name: &str) -> Self {
        Self::new(
            "cast",
            Some(column),
            format!("{} is not a valid {type_name}", quote(value)),
        )
    }

    /// A required value is null.
    pub fn required(column: &str) -> Self {
        Self::new("required", Some(column), "value is missing".into())
    }

    /// Below `min`.
    pub fn min(column: &str, value: f64, min: f64) -> Self {
        Self::new(
            "min",
            Some(column),
            format!("{value} is below the minimum {min}"),
        )
    }

    /// NaN or ±inf in a column with a range rule (reported under `min` when
    /// the column has one, else `max`).
    pub fn not_finite(column: &str, value: f64, min: Option<f64>, max: Option<f64>) -> Self {
        let range = match (min, max) {
            (Some(lo), Some(hi)) => format!("[{lo}, {hi}]"),
            (Some(lo), None) => format!("≥ {lo}"),
            (None, Some(hi)) => format!("≤ {hi}"),
            (None, None) => "a range".into(),
        };
        Self::new(
            if min.is_some() { "min" } else { "max" },
            Some(column),
            format!("{value} is not a finite number in {range}"),
        )
    }

    /// Above `max`.
    pub fn max(column: &str, value: f64, max: f64) -> Self {
        Self::new(
            "max",
            Some(column),
            format!("{value} is above the maximum {max}"),
        )
    }

    /// Not among `allowed`.
    pub fn allowed(column: &str, value: &str) -> Self {
        Self::new(
            "allowed",
            Some(column),
            format!("{} is not an allowed value", quote(value)),
        )
    }

    /// Does not match `pattern`.
    pub fn pattern(column: &str, value: &str, pattern: &str) -> Self {
        Self::new(
            "pattern",
            Some(column),
            format!("{} does not match /{pattern}/", quote(value)),
        )
    }

    /// Longer than `max_length`.
    pub fn max_length(column: &str, value: &str, max: usize) -> Self {
        Self::new(
            "max_length",
            Some(column),
            format!("{} is longer than {max} characters", quote(value)),
        )
    }

    /// Repeats a key of `unique` columns.
    pub fn unique(columns: &[String], first_source: &str) -> Self {
        Self::new(
            "unique",
            Some(&columns.join(",")),
            format!("key already seen at {first_source}"),
        )
    }

    /// The SQL transform failed on this row (a cast, a division by zero);
    /// `message` is DataFusion's, one line.
    pub fn transform(message: &str) -> Self {
        let cut: String = message.chars().take(300).collect();
        Self::new("transform", None, cut)
    }

    /// The short form counted in the manifest: `rule` or `rule(column)`.
    pub fn key(&self) -> String {
        match &self.column {
            Some(column) => format!("{}({column})", self.rule),
            None => self.rule.to_string(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "{}: column '{column}': {}", self.rule, self.detail),
            None => write!(f, "{}: {}", self.rule, self.detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_key() {
        let r = Reason::min("bill_length_mm", 3.5, 25.0);
        assert_eq!(
            r.to_string(),
            "min: column 'bill_length_mm': 3.5 is below the minimum 25"
        );
        assert_eq!(r.key(), "min(bill_length_mm)");
        assert_eq!(Reason::ragged(8, 9, 1).key(), "ragged");
    }

    #[test]
    fn long_values_are_cut() {
        let r = Reason::allowed("c", &"x".repeat(200));
        assert!(r.detail.contains("…'"));
        assert!(r.detail.len() < 120);
    }
}
