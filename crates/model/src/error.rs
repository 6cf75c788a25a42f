//! Model errors: bad parameters (named, with the valid choices), data that
//! does not fit the model's schema, and unreadable artifacts.

/// Everything fitting, predicting or loading can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter or preprocessing setting is invalid.
    #[error("{key}: {message}")]
    InvalidParams {
        /// Dotted key, e.g. `params.n_trees`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// Feature columns the model needs are not in the data.
    #[error("missing feature column(s) {}", .columns.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "))]
    MissingColumns {
        /// Every missing column.
        columns: Vec<String>,
    },

    /// A column has a type that cannot be used as the model expects.
    #[error("column '{column}' has type {found}, expected {expected}")]
    ColumnType {
        /// The column.
        column: String,
        /// Its Arrow type.
        found: String,
        /// What the model needs.
        expected: String,
    },

    /// The training data cannot be fitted (no rows, one class, …).
    #[error("cannot fit: {0}")]
    Data(String),

    /// smartcore failed while fitting or predicting.
    #[error("{algorithm}: {message}")]
    Estimator {
        /// The algorithm.
        algorithm: &'static str,
        /// smartcore's message.
        message: String,
    },

    /// The artifact is not a Cauce model, is of another format version,
    /// truncated or altered.
    #[error("model artifact: {0}")]
    Artifact(String),

    /// Arrow failed on a cast the schema check allowed.
    #[error("internal Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn params(key: &str, message: impl Into<String>) -> Error {
    Error::InvalidParams {
        key: key.to_string(),
        message: message.into(),
    }
}
