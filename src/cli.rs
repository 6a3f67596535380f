//! The command line: the subcommands, with the settings of [`Config`] as global flags (flags
//! override the environment, which overrides `.env`).

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::models::outbox::State;
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
        #[arg(long, value_enum)]
        state: Option<State>,
        /// How many messages to list.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put failed messages (all, or one) back in the queue; the workers send them again.
    Retry {
        /// Only this message (its id in `outbox list`).
        #[arg(long)]
        id: Option<i64>,
    },
}

/// What `user create --help` says of passwords (`auth::password_rules` checks them).
const PASSWORD_RULES: &str = "\
The password (STAMPCARD_PASSWORD, or typed at the prompt) must be 8 to 72 bytes long, not only
digits, not one of 19,640 common passwords, and not similar to the username.

The server's settings (DATABASE_URL and the other STAMPCARD_* variables) apply here too:
`stampcard --help` lists them.";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from STAMPCARD_PASSWORD or a prompt.
    #[command(after_help = PASSWORD_RULES)]
    Create {
        /// The name to log in with: 3 to 150 letters, digits and @ . + - _.
        #[arg(long)]
        username: String,
        /// What the user may do: customers collect stamps, staff stamp cards, admins also
        /// manage users.
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
        /// The user's name.
        #[arg(long)]
        username: String,
        /// The new role.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Deactivate (revoking every session) or reactivate a user.
    SetActive {
        /// The user's name.
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

/// The command line, finished: every subcommand but `serve` shows only its own options in its
/// help. The server's settings are global (a command that touches the database needs
/// `DATABASE_URL` as much as `serve` does), but listing twenty of them under `user create
/// --help` hides the four that matter there.
pub fn command() -> clap::Command {
    let mut command = crate::config::unset_empty_variables(<Cli as clap::CommandFactory>::command());
    // Propagates the global settings into the subcommands, where they can then be hidden.
    command.build();
    hide_settings(command, true)
}

fn hide_settings(command: clap::Command, top: bool) -> clap::Command {
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    let command = if top || command.get_name() == "serve" {
        // `[env: NAME=]` with nothing after the `=` reads like a bug; the name is what matters.
        command.mut_args(|arg| arg.hide_env_values(true))
    } else {
        command.mut_args(|arg| if arg.is_global_set() { arg.hide(true) } else { arg })
    };
    names.iter().fold(command, |command, name| command.mut_subcommand(name, |sub| hide_settings(sub, false)))
}
