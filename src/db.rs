//! The connection pool, the embedded migrations, and the one way handlers reach the database.
//!
//! I chose synchronous Diesel with an r2d2 pool: every query runs inside `web::block` on
//! actix's blocking thread pool, so no async worker ever waits on PostgreSQL. Checking a
//! connection out of the pool can block too (it waits up to `db_timeout` when all are busy),
//! which is why the checkout happens inside the blocking closure as well.

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::Config;
use crate::error::ApiError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The pool of PostgreSQL connections, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
}

impl Db {
    /// Builds the pool without connecting: the server starts (and `/readyz` says 503) even
    /// while the database is still down.
    pub fn new(url: &str, config: &Config) -> Self {
        let pool = Pool::builder()
            .max_size(config.db_pool_size)
            .min_idle(Some(1))
            .connection_timeout(config.db_timeout)
            // r2d2 would run `SELECT 1` before handing out each connection: a round trip per
            // request. A connection that broke is noticed by Diesel on its first failing query
            // (that request gets a 503) and dropped from the pool instead.
            .test_on_check_out(false)
            .build_unchecked(ConnectionManager::new(url));
        Self { pool }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.run_here(f)).await?
    }

    /// Runs `f` with a pooled connection on the calling thread, which must be one that may
    /// block (never an async worker).
    pub fn run_here<T>(&self, f: impl FnOnce(&mut PgConnection) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }

    /// Like [`Db::run`], inside one transaction that commits when `f` returns `Ok`.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.run(move |conn| conn.transaction(f)).await
    }

    /// `SELECT 1` within `timeout`: the readiness probe.
    pub async fn ping(&self, timeout: std::time::Duration) -> Result<(), ApiError> {
        use diesel::RunQueryDsl;
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get_timeout(timeout)?;
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            Ok(())
        })
        .await?
    }
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(url: &str) -> anyhow::Result<usize> {
    use diesel::Connection;
    let mut conn = PgConnection::establish(url)?;
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.len())
}
