//! Cauce's reports. A run's typed record ([`training::TrainingRecord`], the
//! numbers behind its plots in [`curves`]) is what the model card holds;
//! this crate renders it as text, JSON (serde) and one self-contained HTML
//! file per report: inline SVG charts and CSS, no script and no request to
//! any network, so a report opens offline, from a laptop or straight from
//! S3, and prints.

pub mod curves;
pub mod data_quality;
pub mod drift;
mod html;
pub mod merge;
pub mod model;
mod plot;
pub mod prediction;
pub mod profile;
pub mod registry;
pub mod training;

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

impl Error {
    fn plot(e: impl std::fmt::Display) -> Self {
        Self::Plot(e.to_string())
    }
}
