//! The `stampcard` binary: parse the command line, validate the configuration, run.

use std::io::{stderr, BufWriter, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use stampcard::cli::{Cli, Command};
use stampcard::commands;
use stampcard::config::Config;

fn main() -> ExitCode {
    // A missing .env is normal; a broken one is not worth stopping for, clap reports the rest.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // Log lines are written by a thread of their own, in batches: a write to stderr per line on
    // the async workers cost ~5% of a request's CPU (docs/performance.md). Never lossy: when
    // the queue is full, requests wait rather than vanish from the log. Dropping the guard at
    // the end of `main` flushes what is queued.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8192)
        .finish(BufWriter::new(stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(writer)
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
