//! What can go wrong planning or running a transform, each as one line
//! naming the config key, the table or the column.

/// A transform error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQL does not parse or plan (syntax, an unknown column or table,
    /// a type error), or is not a row-local query.
    #[error("etl.transform.sql: {0}")]
    Sql(String),
    /// A reference table that cannot be read or used.
    #[error("etl.transform.tables.{name}: {location}: {message}")]
    Table {
        /// The name the SQL uses.
        name: String,
        /// Where it was read from.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A lookup whose key is not unique in its reference table.
    #[error("etl.transform.sql: {0}")]
    Lookup(String),
    /// Reading storage failed.
    #[error(transparent)]
    Storage(#[from] common::Error),
    /// DataFusion failed for a reason that is not one row's (out of memory,
    /// an internal error).
    #[error("transform: {0}")]
    Execution(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
