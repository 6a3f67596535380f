//! The command line: subcommands, and one flag per configuration variable (flags override the
//! environment, which overrides `.env`). Values stay text here; `config.rs` validates them.

use clap::{Args, Parser, Subcommand};

use crate::config::RawConfig;

/// stampcard: a cafe loyalty stamp card API with server-side sessions.
///
/// Every setting comes from an environment variable (a `.env` file in the working directory is
/// read if present) or the matching flag, which wins.
#[derive(Debug, Parser)]
#[command(name = "stampcard", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
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
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from STAMPCARD_PASSWORD or a prompt.
    Create {
        #[arg(long)]
        username: String,
        /// customer, staff or admin.
        #[arg(long, default_value = "customer")]
        role: String,
        /// Phone number (any format; default region KR).
        #[arg(long)]
        phone: Option<String>,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Change a user's role (customer, staff or admin).
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
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

/// One flag per variable of the configuration table.
#[derive(Debug, Args)]
pub struct Settings {
    /// PostgreSQL URL; unset: a local development cluster under ./.data/ is started and used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Listen address [default: 127.0.0.1:8080].
    #[arg(long, env = "STAMPCARD_ADDR", global = true)]
    pub addr: Option<String>,
    /// Cookie encryption key: at least 64 bytes, as 128+ hex characters or base64. Required
    /// unless dev mode is on, where a random key is generated.
    #[arg(long, env = "STAMPCARD_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Dev mode (1/true or 0/false): cookies without Secure, random key allowed [default: off;
    /// on with the local development cluster].
    #[arg(long, env = "STAMPCARD_DEV", global = true)]
    pub dev: Option<String>,
    /// Comma-separated origins allowed for CORS with credentials and unsafe cross-origin requests.
    #[arg(long, env = "STAMPCARD_ALLOWED_ORIGINS", global = true)]
    pub allowed_origins: Option<String>,
    /// bcrypt cost, 4..=31 [default: 12].
    #[arg(long, env = "STAMPCARD_BCRYPT_COST", global = true)]
    pub bcrypt_cost: Option<String>,
    /// Stamps for one free coffee [default: 10].
    #[arg(long, env = "STAMPCARD_STAMPS_PER_REWARD", global = true)]
    pub stamps_per_reward: Option<String>,
    /// Absolute session lifetime in seconds [default: 1209600, 14 days].
    #[arg(long, env = "STAMPCARD_SESSION_TTL", global = true)]
    pub session_ttl: Option<String>,
    /// Comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For is believed
    /// [default: none].
    #[arg(long, env = "STAMPCARD_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// SameSite attribute of the session cookie: lax, strict or none [default: lax].
    #[arg(long, env = "STAMPCARD_COOKIE_SAMESITE", global = true)]
    pub cookie_same_site: Option<String>,
    /// Database connections in the pool [default: 16].
    #[arg(long, env = "STAMPCARD_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<String>,
    /// Milliseconds a request waits for a database connection before answering 503 [default: 3000].
    #[arg(long, env = "STAMPCARD_DB_TIMEOUT_MS", global = true)]
    pub db_timeout_ms: Option<String>,
    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "STAMPCARD_WORKERS", global = true)]
    pub workers: Option<String>,
}

impl From<Settings> for RawConfig {
    fn from(s: Settings) -> Self {
        RawConfig {
            database_url: s.database_url,
            addr: s.addr,
            secret_key: s.secret_key,
            dev: s.dev,
            allowed_origins: s.allowed_origins,
            bcrypt_cost: s.bcrypt_cost,
            stamps_per_reward: s.stamps_per_reward,
            session_ttl: s.session_ttl,
            trusted_proxies: s.trusted_proxies,
            cookie_same_site: s.cookie_same_site,
            db_pool_size: s.db_pool_size,
            db_timeout_ms: s.db_timeout_ms,
            workers: s.workers,
        }
    }
}
