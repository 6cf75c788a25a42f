//! `trainer`: fit, evaluate and register a model. See `trainer --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::config::SharedSections;
use common::logging::{self, Stage};
use common::terminal::print;
use trainer::{Promote, TrainConfig, TrainOptions};

/// Train a model from YAML, evaluate it, register it.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Model config.
    #[arg(long, default_value = "config/model_config.yaml")]
    config: PathBuf,
    /// Pipeline config for storage locations and logging (used if it exists).
    #[arg(long, default_value = "config/pipeline_config.yaml")]
    pipeline_config: PathBuf,
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
    json: bool,
}

fn main() -> ExitCode {
    common::terminal::exit("trainer", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), trainer::Error> {
    let shared = SharedSections::load_if_exists(&args.pipeline_config)?;
    let config = TrainConfig::load(&args.config)?;
    logging::init(Stage::Trainer, &shared.logging)?;
    let promote = match (&args.promote_if_better, args.promote) {
        (Some(_), _) => Some(Promote::IfBetter),
        (None, true) => Some(Promote::Always),
        (None, false) => None,
    };
    let options = TrainOptions {
        data: args.data.unwrap_or(shared.storage.processed),
        registry: args.registry.unwrap_or(shared.storage.models),
        register: !args.no_register,
        promote,
        metric: args.promote_if_better,
        force: args.force,
    };
    let report = trainer::train(&config, &options).await?;
    if args.json {
        print(&serde_json::to_string_pretty(&report).unwrap_or_default());
        return Ok(());
    }
    print(&report.summary());
    Ok(())
}
