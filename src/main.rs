//! The `stampcard` binary: parse the command line, validate the configuration, run.

use std::process::ExitCode;

use clap::Parser;
use stampcard::cli::{Cli, Command};
use stampcard::commands;
use stampcard::config::Config;

fn main() -> ExitCode {
    // A missing .env is normal; a broken one is not worth stopping for, clap reports the rest.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_raw(cli.settings.into()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("stampcard: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve => actix_web::rt::System::new().block_on(commands::serve(config)),
        Command::Migrate => commands::migrate(&config),
        Command::User(command) => commands::user(&config, command),
        Command::Sessions(command) => commands::sessions(&config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("stampcard: {err:#}");
            ExitCode::FAILURE
        }
    }
}
