//! stampcard: a cafe loyalty stamp card as a JSON API, with accounts and server-side sessions.
//!
//! The binary calls [`run`]: parse the command line, then hand over to [`commands`]. The HTTP
//! app is assembled in [`startup`], so integration tests serve exactly what the binary serves.
//! `docs/architecture.md` draws the modules and the way their imports run.

pub mod accounts;
pub mod auth;
mod cli;
pub mod codes;
mod commands;
pub mod config;
pub mod db;
pub mod error;
mod extract;
mod fields;
mod idempotency;
mod logging;
mod messages;
pub mod metrics;
mod middleware;
pub mod models;
pub mod outbox;
mod preferences;
pub mod problem;
pub mod routes;
mod schema;
mod session;
pub mod startup;
mod stream;
mod time_format;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::FromArgMatches;

use crate::cli::{Cli, Command};

/// The `stampcard` command: parses the command line (and `.env`), runs the subcommand, and
/// says what went wrong in one line.
pub fn run() -> ExitCode {
    // A missing .env is normal; a broken one is not worth stopping for, clap reports the rest.
    let _ = dotenvy::dotenv();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let _flush_on_exit = logging::start(cli.config.log_format);
    let config = cli.config;
    let result = match cli.command {
        Command::Serve => actix_web::rt::System::new().block_on(commands::serve(config)),
        Command::Migrate => commands::migrate(&config),
        Command::User(command) => commands::user(&config, command),
        Command::Sessions(command) => commands::sessions(&config, command),
        Command::Outbox(command) => commands::outbox(&config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("stampcard: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, or the exit code after clap (or we) said why not. A bad setting is one
/// line naming its variable, with the reason but never a secret's value; exit code 2.
fn parse() -> Result<Cli, ExitCode> {
    let command = cli::command();
    let err = match command.try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => return Ok(cli),
        Err(err) => err,
    };
    if matches!(err.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        let arg = match err.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(arg)) => arg.clone(),
            _ => String::new(),
        };
        // Every setting's value name is its variable: `--bcrypt-cost <STAMPCARD_BCRYPT_COST>`.
        let variable = arg.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map_or(arg.as_str(), |v| v.0);
        let reason = std::error::Error::source(&err).map_or_else(
            || match err.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(valid)) => format!("must be one of {}", valid.join(", ")),
                _ => "not a valid value".to_owned(),
            },
            ToString::to_string,
        );
        eprintln!("stampcard: invalid {variable}: {reason}");
        return Err(ExitCode::from(2));
    }
    let _ = err.print();
    Err(ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)))
}
