//! Config checks that need no data: ranges, rule/type combinations, regexes.
//! Column names are checked against the data's schema in the plan step.

use std::path::Path;

use super::{ColumnType, EtlConfig};
use crate::error::{Error, Result};

pub(super) fn validate(config: &EtlConfig, path: &Path) -> Result<()> {
    let err = |key: &str, message: String| Error::Config {
        path: path.to_path_buf(),
        key: format!("etl.{key}"),
        message,
    };
    let split = &config.split;
    for (key, value) in [
        ("split.test", split.test),
        ("split.validation", split.validation),
    ] {
        if !(0.0..1.0).contains(&value) {
            return Err(err(key, format!("{value} is not a fraction in [0, 1)")));
        }
    }
    if split.test + split.validation >= 1.0 {
        return Err(err(
            "split",
            format!(
                "test ({}) + validation ({}) leaves no training rows; their sum must be below 1",
                split.test, split.validation
            ),
        ));
    }
    if let Some(transform) = &config.transform {
        if transform.sql.trim().is_empty() {
            return Err(err(
                "transform.sql",
                "is empty; write a SELECT over input".into(),
            ));
        }
        for name in transform.tables.keys() {
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid || name == "input" {
                return Err(err(
                    &format!("transform.tables.{name}"),
                    "a table name is lower-case letters, digits and '_', starting with a letter, and not 'input'".into(),
                ));
            }
        }
    }
    if split.stratify.is_some() && !split.key.is_empty() {
        return Err(err(
            "split.stratify",
            "cannot be used with split.key: a keyed split decides each row by its key alone".into(),
        ));
    }
    for (key, value) in [
        ("batch_size", config.batch_size),
        ("max_rows_per_file", config.max_rows_per_file),
        ("keep_runs", config.keep_runs),
        ("parquet.row_group_size", config.parquet.row_group_size),
    ] {
        if value == 0 {
            return Err(err(key, "must be at least 1".into()));
        }
    }
    if !(0.0..=1.0).contains(&config.max_quarantined) {
        return Err(err(
            "max_quarantined",
            format!(
                "{} is not a share in [0, 1] (0.05: at most 5% of the rows may be invalid)",
                config.max_quarantined
            ),
        ));
    }
    if let Some((key, problem)) = config.csv.problem() {
        return Err(err(&key, problem));
    }
    for (name, spec) in &config.columns {
        let key = |rule: &str| format!("columns.{name}.{rule}");
        let t = spec.column_type;
        if (spec.min.is_some() || spec.max.is_some()) && !t.is_numeric() {
            return Err(err(
                &key("min"),
                format!(
                    "min/max apply to int64 and float64 columns, not {}",
                    t.name()
                ),
            ));
        }
        if let (Some(min), Some(max)) = (spec.min, spec.max)
            && min > max
        {
            return Err(err(
                &key("min"),
                format!("min ({min}) is greater than max ({max})"),
            ));
        }
        if t != ColumnType::String && (spec.pattern.is_some() || spec.max_length.is_some()) {
            return Err(err(
                &key("pattern"),
                format!(
                    "pattern/max_length apply to string columns, not {}",
                    t.name()
                ),
            ));
        }
        if let Some(pattern) = &spec.pattern {
            regex::Regex::new(pattern)
                .map_err(|e| err(&key("pattern"), format!("invalid regex: {e}")))?;
        }
        if let Some(allowed) = &spec.allowed
            && allowed.is_empty()
        {
            return Err(err(
                &key("allowed"),
                "an empty list would reject every value".into(),
            ));
        }
    }
    for (old, new) in &config.rename {
        if config.rename.values().filter(|v| *v == new).count() > 1 {
            return Err(err(
                &format!("rename.{old}"),
                format!("two columns renamed to '{new}'"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ColumnSpec, Scalar};

    fn spec(t: ColumnType) -> ColumnSpec {
        ColumnSpec {
            column_type: t,
            required: false,
            min: None,
            max: None,
            allowed: None,
            pattern: None,
            max_length: None,
            fill_null: None,
        }
    }

    fn check(config: &EtlConfig) -> String {
        validate(config, Path::new("p.yaml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn split_fractions_must_leave_training_rows() {
        let mut config = EtlConfig::default();
        config.split.test = 0.6;
        config.split.validation = 0.4;
        assert!(check(&config).starts_with("p.yaml: etl.split: test (0.6) + validation (0.4)"));
        config.split.test = 1.5;
        assert_eq!(
            check(&config),
            "p.yaml: etl.split.test: 1.5 is not a fraction in [0, 1)"
        );
        let mut config = EtlConfig::default();
        config.split.key = vec!["id".into()];
        config.split.stratify = Some("label".into());
        assert!(check(&config).starts_with("p.yaml: etl.split.stratify: cannot be used with"));
    }

    #[test]
    fn rules_must_fit_the_column_type() {
        let mut config = EtlConfig::default();
        let mut s = spec(ColumnType::String);
        s.min = Some(1.0);
        config.columns.insert("name".into(), s);
        assert!(
            check(&config).contains("etl.columns.name.min: min/max apply to int64 and float64")
        );

        let mut config = EtlConfig::default();
        let mut s = spec(ColumnType::Int64);
        s.pattern = Some("x".into());
        config.columns.insert("n".into(), s);
        assert!(check(&config).contains("pattern/max_length apply to string columns, not int64"));
    }

    #[test]
    fn bad_regex_and_empty_allowed_are_rejected() {
        let mut config = EtlConfig::default();
        let mut s = spec(ColumnType::String);
        s.pattern = Some("([a-z".into());
        config.columns.insert("code".into(), s);
        assert!(check(&config).contains("etl.columns.code.pattern: invalid regex"));

        let mut config = EtlConfig::default();
        let mut s = spec(ColumnType::String);
        s.allowed = Some(Vec::<Scalar>::new());
        config.columns.insert("code".into(), s);
        assert!(check(&config).contains("empty list"));
    }

    #[test]
    fn min_above_max_is_rejected() {
        let mut config = EtlConfig::default();
        let mut s = spec(ColumnType::Float64);
        s.min = Some(5.0);
        s.max = Some(1.0);
        config.columns.insert("x".into(), s);
        assert!(check(&config).contains("min (5) is greater than max (1)"));
    }

    /// Found by fuzzing the CSV chunker: a line end as the delimiter (or one
    /// character in two roles) cannot be read unambiguously; it is refused
    /// up front instead of splitting records where csv-core does not.
    #[test]
    fn ambiguous_csv_dialects_are_rejected() {
        let mut config = EtlConfig::default();
        config.csv.delimiter = '\n';
        assert!(check(&config).contains("etl.csv: the delimiter cannot be a line end"));
        let mut config = EtlConfig::default();
        config.csv.comment = Some('"');
        assert!(check(&config).contains("the quote and the comment are both '\"'"));
    }

    #[test]
    fn defaults_are_valid() {
        validate(&EtlConfig::default(), Path::new("p.yaml")).unwrap();
    }
}
