//! ETL errors: each names the file, column, key or row it is about.

use std::path::PathBuf;

/// Everything that can stop an ETL run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Config, storage or format error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// The SQL transform cannot be planned or run.
    #[cfg(feature = "sql")]
    #[error(transparent)]
    Transform(#[from] sql::Error),

    /// The config parsed but is inconsistent or out of range.
    #[error("{}: {key}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// Dotted key, e.g. `etl.columns.species.pattern`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// Declared columns absent from an input file.
    #[error(
        "{file}: missing declared column(s) {}; the file has {}{note}",
        quoted(columns),
        quoted(present)
    )]
    MissingColumns {
        /// The input file.
        file: String,
        /// Every declared column it lacks.
        columns: Vec<String>,
        /// The columns it does have.
        present: Vec<String>,
        /// How the file's columns were found, where that explains it.
        note: String,
    },

    /// A file's columns differ from the first file's.
    #[error(
        "{file}: columns differ from {reference}: missing {}, extra {} \
         (set etl.missing_columns: fill_null to fill missing ones with nulls)",
        quoted(missing),
        quoted(extra)
    )]
    ColumnMismatch {
        /// The input file.
        file: String,
        /// The file that fixed the column set.
        reference: String,
        /// Columns of the reference it lacks.
        missing: Vec<String>,
        /// Columns it has that the reference does not.
        extra: Vec<String>,
    },

    /// A rule's value in the config does not fit its column (e.g. `allowed: [x]` on an int64 column).
    #[error("{key}: {message}")]
    Rule {
        /// The config key, e.g. `etl.columns.year.allowed`.
        key: String,
        /// What is wrong.
        message: String,
    },

    /// A config key names columns the data does not have.
    #[error(
        "{key}: unknown column(s) {}; the output columns are {}",
        quoted(unknown),
        quoted(available)
    )]
    UnknownColumns {
        /// The config key, e.g. `etl.unique`.
        key: String,
        /// The names not found.
        unknown: Vec<String>,
        /// The output columns.
        available: Vec<String>,
    },

    /// A file could not be parsed at all (not a row-level problem).
    #[error("{file}: {message}")]
    File {
        /// The input file.
        file: String,
        /// What is wrong.
        message: String,
    },

    /// The run would publish an empty training split.
    #[error(
        "{output}: not publishing an empty training split ({input} row(s) read, {quarantined} invalid, {duplicates} duplicate(s)); the previous output is kept (set etl.allow_empty: true to publish it anyway)"
    )]
    EmptyTraining {
        /// The output root.
        output: String,
        /// Rows read.
        input: u64,
        /// Invalid rows.
        quarantined: u64,
        /// Duplicates dropped.
        duplicates: u64,
    },

    /// More rows were invalid than `etl.max_quarantined` allows.
    #[error(
        "{output}: not publishing: {quarantined} of {input} rows ({share:.1}%) are invalid, above etl.max_quarantined ({max:.1}%): {top}; the previous output is kept (fix the declared columns or rules, or raise etl.max_quarantined)"
    )]
    TooManyInvalid {
        /// The output root.
        output: String,
        /// Invalid rows.
        quarantined: u64,
        /// Rows read.
        input: u64,
        /// Their share, in percent.
        share: f64,
        /// The limit, in percent.
        max: f64,
        /// The top reasons with counts and an example each.
        top: String,
    },

    /// `on_invalid: fail` and a row is invalid.
    #[error("{source_row}: invalid row: {reason} (etl.on_invalid is 'fail')")]
    InvalidRow {
        /// `file:line` of the row.
        source_row: String,
        /// Why it is invalid.
        reason: String,
    },

    /// Arrow failed on data that passed validation (a bug, or out of memory).
    #[error("internal Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A worker thread died.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<ingest::Error> for Error {
    fn from(e: ingest::Error) -> Self {
        match e {
            ingest::Error::Common(e) => Error::Common(e),
            ingest::Error::File { file, message } => Error::File { file, message },
            ingest::Error::Arrow(e) => Error::Arrow(e),
            other => Error::Internal(other.to_string()),
        }
    }
}
