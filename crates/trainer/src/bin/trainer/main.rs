//! `trainer`: fit, evaluate and register a model. See `trainer --help`.

use std::process::ExitCode;

use clap::Parser;
use common::config::SharedSections;
use common::logging::{self, Stage};
use common::terminal::print;

mod cli;

use cli::Args;

fn main() -> ExitCode {
    common::terminal::exit("trainer", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), trainer::Error> {
    if args.algorithms {
        print(&cli::algorithms());
        return Ok(());
    }
    let shared = SharedSections::load_if_exists(&args.pipeline_config)?;
    let config = args.model_config()?;
    logging::init(Stage::Trainer, &shared.logging)?;
    let report = trainer::train(&config, &args.options(shared)?).await?;
    if args.json {
        print(&serde_json::to_string_pretty(&report).unwrap_or_default());
        return Ok(());
    }
    print(&report.summary());
    Ok(())
}
