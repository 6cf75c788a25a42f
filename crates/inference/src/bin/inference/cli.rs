//! The `inference` command line: its flags and what each invocation runs
//! (the binary only parses, sets up logging and prints).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use inference::{PipelineConfig, Result, RunOptions, Shard};

/// Score data with the latest (or a pinned) model and write predictions.
#[derive(Debug, Parser)]
#[command(name = "inference", version, about)]
pub struct Args {
    /// `merge`, or none to score (a shard of) the input.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Pipeline config.
    #[arg(long, global = true, default_value = "config/pipeline_config.yaml")]
    pub config: PathBuf,
    /// latest, vN, an alias, or a path to a model.bin.
    #[arg(long)]
    pub model: Option<String>,
    /// Model registry (default: storage.models).
    #[arg(long)]
    pub registry: Option<String>,
    /// Input file, glob or prefix (default: inference.input, then storage.raw).
    #[arg(long)]
    pub input: Option<String>,
    /// Output location (default: inference.output, then storage.predictions).
    #[arg(long, global = true)]
    pub output: Option<String>,
    /// Score shard I of N into _manifest.shard-I-of-N.json (also CAUCE_SHARD=I/N, or SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX with CAUCE_SHARD_COUNT).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Merge again even if the shards are unchanged.
    #[arg(long, global = true)]
    pub force: bool,
    /// Print the manifest as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish the one _manifest.json over the shards of a sharded run.
    Merge {
        /// The shard count, when manifests of several counts are there.
        #[arg(long)]
        shards: Option<usize>,
    },
}

/// Runs what `args` ask for with `config`; returns the text to print.
pub async fn execute(args: Args, config: &PipelineConfig) -> Result<String> {
    let shard = match args.command {
        Some(_) => None,
        None => Some(Shard::resolve(args.shard.as_deref())?),
    };
    let options = RunOptions::resolve(
        config,
        args.input,
        args.output,
        args.registry,
        args.model,
        shard,
    )?;
    let report = match args.command {
        Some(Command::Merge { shards }) => {
            inference::merge(&config.inference, &options.output, shards, args.force).await?
        }
        None => inference::run(&config.inference, &options).await?,
    };
    Ok(if args.json {
        serde_json::to_string_pretty(&report.manifest).unwrap_or_default()
    } else {
        report.summary()
    })
}
