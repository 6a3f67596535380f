//! What each subcommand does, once the configuration is valid.

use std::net::TcpListener;

use actix_web::dev::Server;
use std::time::Duration;

use anyhow::{bail, Context};
use diesel::{Connection, PgConnection};
use rand::RngCore;

use crate::auth::password::Passwords;
use crate::cli::{OutboxCommand, SessionsCommand, UserCommand};
use crate::config::Config;
use crate::db::{self, Db};
use crate::metrics::Metrics;
use crate::models::user::PhoneHolders;
use crate::models::{session::Session, throttle};
use crate::outbox::{Outbox, Worker};
use crate::{accounts, startup};
use devdb::DevDatabase;

/// How often the server deletes expired sessions and stale throttling rows.
const PURGE_EVERY: Duration = Duration::from_secs(600);

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

/// `stampcard serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let key = match (&config.secret_key, config.is_dev()) {
        (Some(key), _) => key.0.clone(),
        (None, true) => {
            tracing::warn!(
                "STAMPCARD_SECRET_KEY is unset: using a random key (dev mode); sessions end with the process"
            );
            let mut key = vec![0u8; 64];
            rand::thread_rng().fill_bytes(&mut key);
            key
        }
        (None, false) => bail!("invalid STAMPCARD_SECRET_KEY: required unless STAMPCARD_DEV=1"),
    };
    let outbox = Outbox::new(&config)?;
    let listener = TcpListener::bind(config.addr.as_str())
        .with_context(|| format!("cannot listen on {} (STAMPCARD_ADDR)", config.addr))?;
    let database = Database::open(&config)?;
    let applied = db::migrate(&database.url)?;
    tracing::info!(applied, "migrations up to date");
    let db = Db::new(&database.url, &config);
    actix_web::rt::spawn(purge_periodically(db.clone()));
    tracing::info!(addr = %listener.local_addr()?, dev = config.is_dev(), "serving");
    let passwords = Passwords::start(config.bcrypt_cost, std::thread::available_parallelism().map_or(2, |n| n.get()));
    let metrics = Metrics::new();
    let metrics_server = match &config.metrics_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr.as_str())
                .with_context(|| format!("cannot listen on {addr} (STAMPCARD_METRICS_ADDR)"))?;
            tracing::info!(addr = %listener.local_addr()?, "metrics on /metrics");
            Some(startup::metrics_server(listener, metrics.clone(), db.clone(), passwords.clone())?)
        }
        None => None,
    };
    let metrics_handle = metrics_server.as_ref().map(Server::handle);
    if let Some(server) = metrics_server {
        actix_web::rt::spawn(server);
    }
    // Delivers what this and every other instance put in the outbox.
    let deliveries = Worker::start(outbox.clone(), database.url.clone());
    let parts = startup::ServerParts { config, db, passwords, metrics, outbox, key, extra_routes: None };
    let server = startup::build(listener, parts)?;
    // actix-server handles SIGTERM/SIGINT: it stops accepting, lets in-flight requests finish
    // (up to the shutdown timeout), then this future resolves.
    let served = server.await;
    if let Some(handle) = metrics_handle {
        handle.stop(true).await;
    }
    drop(deliveries);
    database.close()?;
    served.context("server failed")
}

async fn purge_periodically(db: Db) {
    let mut tick = actix_web::rt::time::interval(PURGE_EVERY);
    loop {
        tick.tick().await;
        let purged = db
            .run(|conn| {
                let sessions = Session::purge_expired(conn)?;
                let other = throttle::purge(conn)?
                    + crate::models::idempotency::purge(conn)?
                    + crate::models::reset::purge(conn)?
                    + crate::models::outbox::purge(conn)?;
                Ok((sessions, other))
            })
            .await;
        match purged {
            Ok((sessions, other)) => tracing::info!(sessions, other, "purged expired rows"),
            Err(err) => tracing::warn!(error = %err, "purge failed; will retry"),
        }
    }
}

/// `stampcard migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<()> {
    let database = Database::open(config)?;
    let applied = db::migrate(&database.url);
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
            let messages = outbox::list(conn, state.as_deref(), limit).map_err(api)?;
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
            let (cost, holders) = (config.bcrypt_cost, PhoneHolders::from_setting(config.require_verified_phone));
            with_connection(config, |conn| {
                let account = accounts::NewAccount {
                    username: &username,
                    password: &password,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                    role,
                };
                let user = accounts::create_user_sync(conn, account, cost, holders)?;
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

fn with_connection(config: &Config, f: impl FnOnce(&mut PgConnection) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let database = Database::open(config)?;
    let result = db::migrate(&database.url).and_then(|_| {
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
