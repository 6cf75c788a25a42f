//! Inference errors, each naming the file, column, model version or shard.

/// Everything that can stop a scoring run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model's SQL transform cannot be replayed (a reference table
    /// changed or is unreadable, the query no longer plans).
    #[cfg(feature = "sql")]
    #[error(transparent)]
    Transform(#[from] sql::Error),

    /// Config, storage or format error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// An input file could not be read at all (row-level problems are
    /// `_error` rows instead).
    #[error(transparent)]
    Read(#[from] ingest::Error),

    /// The model could not be loaded or refused the data.
    #[error(transparent)]
    Model(#[from] model::Error),

    /// A model artifact could not be read (not a Cauce model, another
    /// format version, truncated or altered).
    #[error("{location}: {source}")]
    Artifact {
        /// Where the artifact was read from.
        location: String,
        /// What is wrong with it.
        source: model::Error,
    },

    /// The registry refused (unknown version, tampered artifact, …).
    #[error(transparent)]
    Registry(#[from] model_registry::Error),

    /// The input does not match the model's schema.
    #[error("{file}: {message}")]
    Schema {
        /// The input file.
        file: String,
        /// What does not match.
        message: String,
    },

    /// A setting is invalid (`--shard`, `passthrough`, …).
    #[error("{key}: {message}")]
    Config {
        /// Flag or config key.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// The inputs drifted past `inference.drift.fail`: nothing was
    /// published.
    #[error(
        "input drift above inference.drift.fail ({fail}) in {}: nothing published (the training data's profile is in the model card; raise or remove drift.fail to score anyway)",
        columns.join(", ")
    )]
    Drift {
        /// The threshold.
        fail: f64,
        /// The columns past it, with their PSI.
        columns: Vec<String>,
    },

    /// Arrow failed while building the output.
    #[error("internal Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A worker thread died.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
