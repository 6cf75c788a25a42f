//! The `etl` command line (part of the binary, not the library): its flags
//! and what each invocation runs through the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use common::shard::Shard;

use etl::{EtlReport, PipelineConfig, Result, RunOptions};

/// Validate, clean and split raw CSV / Parquet / NDJSON into Parquet.
#[derive(Debug, Parser)]
#[command(name = "etl", version, about)]
pub struct Args {
    /// `merge`, or none to run (a shard of) the ETL.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Pipeline config file.
    #[arg(long, global = true, default_value = "config/pipeline_config.yaml")]
    pub config: PathBuf,
    /// Input file, glob or prefix (overrides etl.input and storage.raw).
    #[arg(long, global = true)]
    pub input: Option<String>,
    /// Output location (overrides etl.output and storage.processed).
    #[arg(long, global = true)]
    pub output: Option<String>,
    /// Rerun even if inputs and config (or the shards) are unchanged.
    #[arg(long, global = true)]
    pub force: bool,
    /// Clean shard I of N of the input files (or of one Parquet file's row groups) into _manifest.shard-I-of-N.json (also CAUCE_SHARD=I/N, or SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX with CAUCE_SHARD_COUNT).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Check config and input schema, print the plan, write nothing.
    #[arg(long)]
    pub dry_run: bool,
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
    let mut options = RunOptions::resolve(config, args.input, args.output)?.with_force(args.force);
    let report: EtlReport = match args.command {
        Some(Command::Merge { shards }) => etl::merge(&config.etl, &options, shards).await?,
        None if args.dry_run => {
            let plan = etl::plan(&config.etl, &options).await?.to_string();
            return Ok(plan.trim_end().to_string());
        }
        None => {
            options.shard = Shard::resolve(args.shard.as_deref())?;
            etl::run(&config.etl, &options).await?
        }
    };
    Ok(if args.json {
        serde_json::to_string_pretty(&report.manifest).unwrap_or_default()
    } else {
        report.summary()
    })
}
