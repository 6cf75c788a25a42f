//! Reader errors: a file that cannot be read at all (row-level problems are
//! rejected rows, not errors), named by the file.

/// Everything that stops reading a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage or format error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// A file could not be parsed at all (not a row-level problem).
    #[error("{file}: {message}")]
    File {
        /// The input file.
        file: String,
        /// What is wrong.
        message: String,
    },

    /// Arrow failed on data that was read (a bug, or out of memory).
    #[error("internal Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A reader thread died or broke an invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Fills in the file name of an [`Error::File`] raised where it was not known.
    pub fn in_file(self, name: &str) -> Self {
        match self {
            Error::File { file, message } if file.is_empty() => Error::File {
                file: name.to_string(),
                message,
            },
            other => other,
        }
    }
}
