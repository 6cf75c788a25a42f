//! `etl`: raw data → validated, cleaned, split Parquet. See `etl --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::logging::{self, Stage};
use etl::{PipelineConfig, RunOptions};

/// Validate, clean and split raw CSV / Parquet / NDJSON into Parquet.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Pipeline config file.
    #[arg(long, default_value = "config/pipeline_config.yaml")]
    config: PathBuf,
    /// Input file, glob or prefix (overrides etl.input and storage.raw).
    #[arg(long)]
    input: Option<String>,
    /// Output location (overrides etl.output and storage.processed).
    #[arg(long)]
    output: Option<String>,
    /// Rerun even if inputs and config are unchanged.
    #[arg(long)]
    force: bool,
    /// Check config and input schema, print the plan, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the manifest as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    common::terminal::exit("etl", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), etl::Error> {
    let config = PipelineConfig::load(&args.config)?;
    logging::init(Stage::Etl, &config.logging)?;
    let mut options = RunOptions::resolve(&config, args.input, args.output);
    options.force = args.force;
    if args.dry_run {
        let plan = etl::plan(&config.etl, &options).await?.to_string();
        common::terminal::print(plan.trim_end());
        return Ok(());
    }
    let report = etl::run(&config.etl, &options).await?;
    common::terminal::print(&if args.json {
        serde_json::to_string_pretty(&report.manifest).unwrap_or_default()
    } else {
        report.summary()
    });
    Ok(())
}
