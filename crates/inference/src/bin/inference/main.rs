//! `inference`: batch predictions with a registered model. See `inference --help`.

use std::process::ExitCode;

use clap::Parser;
use common::logging::{self, Stage};
use inference::PipelineConfig;

mod cli;

use cli::Args;

fn main() -> ExitCode {
    common::terminal::exit("inference", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), inference::Error> {
    let config = PipelineConfig::load(&args.config)?;
    logging::init(Stage::Inference, &config.logging)?;
    let text = cli::execute(args, &config).await?;
    common::terminal::print(&text);
    Ok(())
}
