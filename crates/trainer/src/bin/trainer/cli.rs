//! The `trainer` command line (part of the binary, not the library): its
//! flags and what each invocation runs through the library.

use std::path::PathBuf;

use clap::Parser;
use common::config::SharedSections;
use common::storage::Location;
use trainer::{Promote, TrainConfig, TrainOptions};

/// Train a model from YAML, evaluate it, register it.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// Model config.
    #[arg(long, default_value = "config/model_config.yaml")]
    pub config: PathBuf,
    /// Pipeline config for storage locations and logging (used if it exists).
    #[arg(long, default_value = "config/pipeline_config.yaml")]
    pub pipeline_config: PathBuf,
    /// ETL output to train on (default: storage.processed).
    #[arg(long)]
    data: Option<String>,
    /// Model registry (default: storage.models).
    #[arg(long)]
    registry: Option<String>,
    /// Do not register the model.
    #[arg(long)]
    no_register: bool,
    /// Promote the new version (to registry.alias, default latest).
    #[arg(long, conflicts_with = "promote_if_better")]
    promote: bool,
    /// Promote only if it beats the current version on METRIC.
    #[arg(long, value_name = "METRIC")]
    promote_if_better: Option<String>,
    /// Promote even when the alias serves another model (name or task).
    #[arg(long)]
    force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// List the algorithms and the tasks each does, then exit.
    #[arg(long)]
    pub algorithms: bool,
}

impl Args {
    /// The options `trainer::train` takes, the storage defaulting to the
    /// pipeline config's.
    pub fn options(&self, shared: SharedSections) -> Result<TrainOptions, trainer::Error> {
        let promote = match (&self.promote_if_better, self.promote) {
            (Some(_), _) => Some(Promote::IfBetter),
            (None, true) => Some(Promote::Always),
            (None, false) => None,
        };
        let data = self.data.clone().unwrap_or(shared.storage.processed);
        let registry = self.registry.clone().unwrap_or(shared.storage.models);
        Ok(TrainOptions {
            register: !self.no_register,
            promote,
            metric: self.promote_if_better.clone(),
            force: self.force,
            ..TrainOptions::new(Location::parse(&data)?, Location::parse(&registry)?)
        })
    }

    /// The model config.
    pub fn model_config(&self) -> Result<TrainConfig, trainer::Error> {
        TrainConfig::load(&self.config)
    }
}

/// `algorithm: task, task` per line, as `--algorithms` prints them.
pub fn algorithms() -> String {
    model::estimator::ESTIMATORS
        .iter()
        .map(|(name, tasks)| {
            let tasks: Vec<&str> = tasks.iter().map(|t| t.name()).collect();
            format!("{name}: {}", tasks.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
