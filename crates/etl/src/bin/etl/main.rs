//! `etl`: raw data → validated, cleaned, split Parquet. See `etl --help`.

use std::process::ExitCode;

use clap::Parser;
use common::logging::{self, Stage};
use etl::PipelineConfig;

mod cli;

use cli::Args;

fn main() -> ExitCode {
    common::terminal::exit("etl", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), etl::Error> {
    let config = PipelineConfig::load(&args.config)?;
    logging::init(Stage::Etl, &config.logging)?;
    let text = cli::execute(args, &config).await?;
    common::terminal::print(&text);
    Ok(())
}
