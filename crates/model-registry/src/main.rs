//! `model-registry`: versions, aliases and promotion history. See `model-registry --help`.

// Printing results is this binary's job; libraries must not print.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::Parser;
use common::logging::{self, Stage};
use model_registry::RegistryConfig;
use model_registry::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(outcome) => {
            if !outcome.output.is_empty() {
                println!("{}", outcome.output);
            }
            ExitCode::from(outcome.code)
        }
        Err(e) => {
            logging::record_failure(&e);
            eprintln!("model-registry: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(cli: &Cli) -> Result<cli::Outcome, model_registry::Error> {
    let config: RegistryConfig = if cli.config.exists() {
        common::config::load(&cli.config)?
    } else {
        RegistryConfig::default()
    };
    logging::init(Stage::Registry, &config.logging)?;
    let location = cli.registry.clone().unwrap_or(config.storage.models);
    let registry = model_registry::Registry::open(&location)?;
    cli::execute(&registry, &cli.command, cli.json).await
}
