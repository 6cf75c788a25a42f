//! `cauce-bench`: the data generator and I/O floor behind `make bench`.

use std::process::ExitCode;

use bench::{GenerateOptions, generate, io_floor};
use clap::{Parser, Subcommand};
use common::storage::{FileFormat, Location};

/// Benchmark tools (the harness is bench/run.py).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write seeded synthetic data (.csv or .parquet by extension).
    Generate {
        /// Output file, local or s3://.
        output: String,
        /// Rows, duplicates included.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// A numeric target (10 × the signal plus noise) instead of 0/1.
        #[arg(long)]
        regression: bool,
    },
    /// Read a Parquet input and write an inference-shaped output with no model.
    IoFloor {
        /// Input Parquet file.
        input: String,
        /// Output Parquet file.
        output: String,
        /// Rows per batch (inference's default).
        #[arg(long, default_value_t = 8192)]
        batch_size: usize,
    },
}

fn main() -> ExitCode {
    common::terminal::exit("cauce-bench", run(Args::parse()))
}

#[tokio::main]
async fn run(args: Args) -> Result<(), bench::Error> {
    let report = match args.command {
        Command::Generate {
            output,
            rows,
            seed,
            regression,
        } => {
            let location = Location::parse(&output)?;
            let format = FileFormat::from_name(&output).map_or(FileFormat::Csv, |(f, _)| f);
            let options = GenerateOptions {
                rows,
                seed,
                regression,
                ..GenerateOptions::default()
            };
            serde_json::to_string(&generate(&location, format, &options).await?)
        }
        Command::IoFloor {
            input,
            output,
            batch_size,
        } => {
            let (input, output) = (Location::parse(&input)?, Location::parse(&output)?);
            serde_json::to_string(&io_floor(&input, &output, batch_size).await?)
        }
    };
    common::terminal::print(&report.unwrap_or_default());
    Ok(())
}
