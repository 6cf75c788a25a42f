//! Cauce's trainer: reads the ETL output through its manifest, fits the
//! feature pipeline and estimator described by `model_config.yaml` on the
//! training split, evaluates on the test split beside a baseline, writes a
//! reproducible artifact with a model card, and registers (and optionally
//! promotes) it in the model registry.
//!
//! ```no_run
//! # async fn example() -> trainer::Result<()> {
//! use common::storage::Location;
//! use trainer::{TrainConfig, TrainOptions};
//!
//! let config = TrainConfig::load("config/model_config.yaml".as_ref())?;
//! let options = TrainOptions::new(Location::parse("data/processed")?, Location::parse("models")?)
//!     .with_promote_if_better("accuracy");
//! let report = trainer::train(&config, &options).await?;
//! println!("registered {:?}: {}", report.version, trainer::headline(&report.evaluation));
//! # Ok(()) }
//! ```

pub mod config;
pub mod data;
mod error;
pub mod evaluate;
mod features;
pub mod metrics;
mod register;
pub mod search;
mod train;

pub use config::{ARTIFACT_FILE, Promote, REPORT_FILE, TrainConfig, TrainOptions};
pub use error::{Error, Result};
pub use evaluate::{Evaluation, headline};
pub use metrics::default_metric;
pub use train::{TrainReport, train};
