//! `model-registry`: versions, aliases and promotion history. See `model-registry --help`.

use std::process::ExitCode;

use clap::Parser;
use common::config::SharedSections;
use common::logging::{self, Stage};

mod cli;

use cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(outcome) => {
            if !outcome.output.is_empty() {
                common::terminal::print(&outcome.output);
            }
            ExitCode::from(outcome.code)
        }
        Err(e) => common::terminal::fail("model-registry", &e),
    }
}

#[tokio::main]
async fn run(cli: &Cli) -> Result<cli::Outcome, model_registry::Error> {
    let config = SharedSections::load_if_exists(&cli.config)?;
    logging::init(Stage::Registry, &config.logging)?;
    let location = cli.registry.clone().unwrap_or(config.storage.models);
    let registry = model_registry::Registry::open(&location)?;
    cli::execute(&registry, &cli.command, cli.json).await
}
