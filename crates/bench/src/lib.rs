//! Tools behind `make bench`: a seeded generator of the benchmark's synthetic
//! data ([`generate`]) and the I/O floor of inference ([`io_floor`]): reading a
//! Parquet input and writing an output of the same shape with no model, through
//! the same crates and batch size that `inference` uses.
//!
//! The harness that runs Cauce and the Python peers side by side and writes
//! `BENCHMARKS.md` is `bench/run.py`.

pub mod floor;
pub mod generate;
mod rng;

pub use floor::{FloorReport, io_floor};
pub use generate::{GenerateOptions, GenerateReport, generate};

/// Errors of the bench tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage, format or config error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// Arrow failed building or encoding a batch.
    #[error("{context}: {source}")]
    Arrow {
        /// What was being done.
        context: String,
        /// The cause.
        source: arrow::error::ArrowError,
    },

    /// Writing the output object failed.
    #[error("{location}: {source}")]
    Write {
        /// The object being written.
        location: String,
        /// The cause.
        source: std::io::Error,
    },

    /// An argument is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
