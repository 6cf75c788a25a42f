//! `inference`: batch predictions with a registered model. See `inference --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::logging::{self, Stage};
use inference::{PipelineConfig, RunOptions, Shard};

/// Score data with the latest (or a pinned) model and write predictions.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Pipeline config.
    #[arg(long, default_value = "config/pipeline_config.yaml")]
    config: PathBuf,
    /// latest, vN, an alias, or a path to a model.bin.
    #[arg(long)]
    model: Option<String>,
    /// Model registry (default: storage.models).
    #[arg(long)]
    registry: Option<String>,
    /// Input file, glob or prefix (default: inference.input, then storage.raw).
    #[arg(long)]
    input: Option<String>,
    /// Output location (default: inference.output, then storage.predictions).
    #[arg(long)]
    output: Option<String>,
    /// Score shard I of N (also CAUCE_SHARD, or JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX with CAUCE_SHARD_COUNT).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Print the manifest as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    common::terminal::exit("inference", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), inference::Error> {
    let config = PipelineConfig::load(&args.config)?;
    logging::init(Stage::Inference, &config.logging)?;
    let shard = match &args.shard {
        Some(spec) => Some(Shard::parse(spec)?),
        None => Shard::from_env(|k| std::env::var(k).ok())?,
    };
    let options = RunOptions::resolve(
        &config,
        args.input,
        args.output,
        args.registry,
        args.model,
        shard,
    );
    let report = inference::run(&config.inference, &options).await?;
    common::terminal::print(&if args.json {
        serde_json::to_string_pretty(&report.manifest).unwrap_or_default()
    } else {
        report.summary()
    });
    Ok(())
}
