//! Trainer errors, each naming the config key, data location or version.

use std::path::PathBuf;

/// Everything that can stop a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Config, storage or JSON error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// The model rejected its parameters or data.
    #[error(transparent)]
    Model(#[from] model::Error),

    /// The registry refused or failed.
    #[error(transparent)]
    Registry(#[from] model_registry::Error),

    /// The promotion asked for cannot happen; found before anything is
    /// published.
    #[error("{registry}: not training into this promotion: {message}")]
    Promotion {
        /// The registry.
        registry: String,
        /// Why, naming the alias, the versions and the fix.
        message: String,
    },

    /// A config value is invalid.
    #[error("{}: {key}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// Dotted key.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// The training data is unusable (no manifest, missing split, wrong columns).
    #[error("{location}: {message}")]
    Data {
        /// The data location or file.
        location: String,
        /// What is wrong.
        message: String,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
