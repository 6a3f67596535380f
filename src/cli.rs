//! The command line: the subcommands, with the settings of [`Config`] as global flags (flags
//! override the environment, which overrides `.env`).

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::models::user::Role;

/// stampcard: a cafe loyalty stamp card API with server-side sessions.
///
/// Every setting comes from an environment variable (a `.env` file in the working directory is
/// read if present) or the matching flag, which wins.
#[derive(Debug, Parser)]
#[command(name = "stampcard", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve the API (starts a local development database when
    /// DATABASE_URL is unset).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage server-side sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Look at and retry outbound messages (password reset mails, phone codes).
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the latest messages, newest first.
    List {
        /// Only messages in this state.
        #[arg(long, value_parser = ["pending", "sent", "skipped", "failed"])]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put failed messages (all, or one) back in the queue; the workers send them again.
    Retry {
        #[arg(long)]
        id: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from STAMPCARD_PASSWORD or a prompt.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum, default_value = "customer")]
        role: Role,
        /// Phone number (any format; default region KR).
        #[arg(long)]
        phone: Option<String>,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Change a user's role.
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Deactivate (revoking every session) or reactivate a user.
    SetActive {
        #[arg(long)]
        username: String,
        /// true or false.
        #[arg(long, action = clap::ArgAction::Set)]
        active: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Delete expired sessions (the server also does this periodically).
    Purge,
}
