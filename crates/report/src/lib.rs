//! Cauce's reports: the typed records of the `records` crate (a run's
//! training record, curves, profile, drift) rendered as text and as one
//! self-contained HTML file per report: inline SVG charts and CSS, no script
//! and no request to any network, so a report opens offline, from a laptop
//! or straight from S3, and prints.

pub mod data_quality;
mod html;
pub mod model;
mod plot;
pub mod prediction;
pub mod registry;

// The records this crate renders, under the paths its modules use.
use records::{curves, drift, profile, training};

/// What can go wrong rendering a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A chart could not be drawn.
    #[error("drawing a chart: {0}")]
    Plot(String),
    /// Data that cannot be profiled or compared.
    #[error("{0}")]
    Data(String),
}

impl From<records::Error> for Error {
    fn from(e: records::Error) -> Self {
        match e {
            records::Error::Data(message) => Self::Data(message),
            other => Self::Data(other.to_string()),
        }
    }
}

impl Error {
    fn plot(e: impl std::fmt::Display) -> Self {
        Self::Plot(e.to_string())
    }
}
