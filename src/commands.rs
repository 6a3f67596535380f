//! What each subcommand does, once the configuration is valid.

use std::net::TcpListener;

use actix_web::dev::Server;
use std::time::Duration;

use anyhow::{bail, Context};
use diesel::{Connection, PgConnection};
use rand::RngCore;

use crate::auth::password::Passwords;
use crate::cli::{SessionsCommand, UserCommand};
use crate::config::Config;
use crate::db::{self, Db};
use crate::metrics::Metrics;
use crate::models::{session::Session, throttle};
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
    let parts = startup::ServerParts { config, db, passwords, metrics, key, extra_routes: None };
    let server = startup::build(listener, parts)?;
    // actix-server handles SIGTERM/SIGINT: it stops accepting, lets in-flight requests finish
    // (up to the shutdown timeout), then this future resolves.
    let served = server.await;
    if let Some(handle) = metrics_handle {
        handle.stop(true).await;
    }
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
                let other = throttle::purge(conn)? + crate::models::idempotency::purge(conn)?;
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

/// `stampcard user create|set-role`.
pub fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { username, role, phone, email } => {
            let password = match std::env::var("STAMPCARD_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => prompt_password()?,
            };
            let cost = config.bcrypt_cost;
            with_connection(config, |conn| {
                let user = accounts::create_user_sync(
                    conn,
                    &username,
                    &password,
                    email.as_deref(),
                    phone.as_deref(),
                    role,
                    cost,
                )?;
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
