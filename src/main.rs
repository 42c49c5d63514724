use std::process::ExitCode;

use clap::Parser;
use recon::cli::{Cli, Command};
use recon::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::CheckConfig { file } => commands::check_config::run(file),
        Command::Rules { id, config } => commands::rules::run(id.as_deref(), config.as_deref()),
    };
    let status = match outcome {
        Ok(status) => status,
        Err(failure) => {
            eprintln!("error: {}", failure.message());
            failure.exit_status()
        }
    };
    ExitCode::from(status as u8)
}
