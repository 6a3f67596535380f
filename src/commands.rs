//! What each subcommand does, once the configuration is valid.

use anyhow::{bail, Context};
use diesel::{Connection, PgConnection};

use crate::accounts;
use crate::cli::{OutboxCommand, SessionsCommand, UserCommand};
use crate::config::Config;
use crate::db;
use crate::models::session::Session;
use crate::models::{audit, report};
use crate::startup::{self, Application};
use devdb::DevDatabase;

/// The database to use: `DATABASE_URL`, or the development cluster started for this run.
pub struct Database {
    pub url: String,
    dev: Option<DevDatabase>,
}

impl Database {
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        match &config.database_url {
            Some(url) => Ok(Self { url: url.clone(), dev: None }),
            None => {
                let dev = DevDatabase::start()?;
                Ok(Self { url: dev.url().to_owned(), dev: Some(dev) })
            }
        }
    }

    pub fn close(self) -> anyhow::Result<()> {
        self.dev.map_or(Ok(()), DevDatabase::stop)
    }
}

/// `stampcard serve`: what is the command's own (the development database, the migrations),
/// then the [`Application`] until a signal stops it.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    startup::check(&config)?;
    let database = Database::open(&config)?;
    match bring_up_to_date(&database.url, &config)? {
        0 => tracing::info!("database schema up to date"),
        applied => tracing::info!("database schema up to date: applied {applied} migration(s)"),
    }
    let dev = config.is_dev();
    let app = Application::build(config, &database.url)?;
    tracing::info!(addr = %app.address(), dev, "serving");
    if let Some(addr) = app.metrics_address() {
        tracing::info!(%addr, "metrics on /metrics");
    }
    let served = app.run_until_stopped().await;
    database.close()?;
    served.context("server failed")
}

/// `stampcard migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<()> {
    let database = Database::open(config)?;
    let applied = bring_up_to_date(&database.url, config);
    database.close()?;
    println!("applied {} migration(s)", applied?);
    Ok(())
}

/// `stampcard sessions purge`.
pub fn sessions(config: &Config, command: SessionsCommand) -> anyhow::Result<()> {
    let SessionsCommand::Purge = command;
    with_connection(config, |conn| {
        let n = Session::purge_expired(conn).map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("purged {n} expired session(s)");
        Ok(())
    })
}

/// `stampcard outbox list|retry`.
pub fn outbox(config: &Config, command: OutboxCommand) -> anyhow::Result<()> {
    use crate::models::outbox;
    let api = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    with_connection(config, |conn| match command {
        OutboxCommand::List { state, limit } => {
            let messages = outbox::list(conn, state, limit).map_err(api)?;
            println!(
                "{:>6}  {:<15} {:<8} {:>8}  {:<20} {:<24} last error",
                "id", "kind", "state", "attempts", "created", "recipient"
            );
            for m in messages {
                println!(
                    "{:>6}  {:<15} {:<8} {:>8}  {:<20} {:<24} {}",
                    m.id,
                    m.kind,
                    m.state,
                    m.attempts,
                    m.created_at.format("%Y-%m-%d %H:%M:%S"),
                    m.recipient,
                    m.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        OutboxCommand::Retry { id } => {
            let n = outbox::retry(conn, id).map_err(api)?;
            println!("{n} failed message(s) queued again");
            Ok(())
        }
    })
}

/// `stampcard user create|set-role`.
pub fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { username, role, phone, email } => {
            let password = match std::env::var("STAMPCARD_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => prompt_password()?,
            };
            with_connection(config, |conn| {
                let account = accounts::NewAccount {
                    username: &username,
                    password: &password,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                    role,
                };
                let user = accounts::create_user_sync(conn, account, config)?;
                println!("created {} ({}) with id {}", user.username, user.role, user.id);
                Ok(())
            })
        }
        UserCommand::SetRole { username, role } => with_connection(config, |conn| {
            let user = accounts::set_standing_sync(conn, &username, Some(role), None)?;
            println!("{} is now {}", user.username, user.role);
            Ok(())
        }),
        UserCommand::SetActive { username, active } => with_connection(config, |conn| {
            let user = accounts::set_standing_sync(conn, &username, None, Some(active))?;
            let state = if user.is_active { "active" } else { "inactive; every session revoked" };
            println!("{} is now {state}", user.username);
            Ok(())
        }),
    }
}

/// Runs the pending migrations, then what they could not do in SQL (the keys of non-ASCII
/// addresses, `accounts::fold_stored_emails`), sets the audit log's retention, and checks that
/// PostgreSQL knows the time zone of the reports; how many migrations ran.
fn bring_up_to_date(url: &str, config: &Config) -> anyhow::Result<usize> {
    let applied = db::migrate(url)?;
    let mut conn = PgConnection::establish(url)?;
    let folded = accounts::fold_stored_emails(&mut conn)?;
    if folded > 0 {
        tracing::info!(folded, "email keys recomputed");
    }
    audit::apply_retention(&mut conn, config.audit_retention_days)?;
    report::check_time_zone(&mut conn, &config.timezone).map_err(|_| {
        anyhow::anyhow!("invalid STAMPCARD_TIMEZONE: PostgreSQL knows no time zone {:?}", config.timezone)
    })?;
    Ok(applied)
}

fn with_connection(config: &Config, f: impl FnOnce(&mut PgConnection) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let database = Database::open(config)?;
    let result = bring_up_to_date(&database.url, config).and_then(|_| {
        let mut conn = PgConnection::establish(&database.url)?;
        f(&mut conn)
    });
    database.close()?;
    result
}

/// Reads a password from the terminal without echo, or from standard input when there is no
/// terminal (a pipe).
fn prompt_password() -> anyhow::Result<String> {
    let password = rpassword::prompt_password("password: ").or_else(|_| {
        let piped = rpassword::ConfigBuilder::new().input_reader(std::io::stdin()).output_discard().build();
        rpassword::read_password_with_config(piped)
    })?;
    if password.is_empty() {
        bail!("no password given (set STAMPCARD_PASSWORD or type one at the prompt)");
    }
    Ok(password)
}
