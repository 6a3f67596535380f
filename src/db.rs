//! The connection pool, the embedded migrations, and the one way handlers reach the database.
//!
//! I chose synchronous Diesel with an r2d2 pool: every query runs on a blocking thread
//! (`web::block`, or the session loader's), so no async worker ever waits on PostgreSQL.
//! Checking a connection out of the pool can block too (it waits up to `db_timeout` when all
//! are busy), which is why the checkout happens on that thread as well.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The pool of PostgreSQL connections, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// How long a request waits for a connection before it is a 503.
    timeout: Duration,
    /// Where waits and timeouts are counted, once the server has attached its metrics.
    metrics: Arc<OnceLock<Metrics>>,
}

/// A pooled connection, and whether a query found it gone (the server closed it, or the
/// network did).
struct PooledPg {
    conn: PgConnection,
    lost: bool,
}

/// Diesel's r2d2 manager, but one that also retires connections that a query found lost.
/// Diesel marks a connection broken when a query on it fails, but not when preparing a
/// statement fails; a connection cut before it had prepared the statement stayed in the pool
/// and failed every request given it, long after the database was back.
struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = PooledPg;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledPg, r2d2::Error> {
        let conn = PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
        Ok(PooledPg { conn, lost: false })
    }

    fn is_valid(&self, pooled: &mut PooledPg) -> Result<(), r2d2::Error> {
        pooled.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut PooledPg) -> bool {
        pooled.lost || pooled.conn.is_broken()
    }
}

impl Db {
    /// Builds the pool without connecting: the server starts (and `/readyz` says 503) even
    /// while the database is still down.
    pub fn new(url: &str, config: &Config) -> Self {
        Self::with_size(url, config.db_pool_size, config)
    }

    /// [`Db::new`] with `size` connections at most.
    fn with_size(url: &str, size: u32, config: &Config) -> Self {
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(config.db_timeout())
            // r2d2 would run `SELECT 1` before handing out each connection: a round trip per
            // request. A connection that broke is noticed on its first failing query (that
            // request gets a 503) and dropped from the pool instead (see `Manager`).
            .test_on_check_out(false)
            .build_unchecked(Manager { url: url.to_owned() });
        Self { pool, timeout: config.db_timeout(), metrics: Arc::default() }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (db, asked) = (self.clone(), Instant::now());
        self.on_blocking_thread(move || db.run_here(asked, f), self.timeout).await
    }

    /// Runs `job` on a blocking thread, unless it cannot start within `limit`: then 503 at
    /// once. There are only as many blocking threads as connections (see `startup.rs`), so a
    /// job that waits for a thread is waiting for a connection, and the pool's timeout bounds
    /// that wait too. A job that has started is always waited for: its effect may commit.
    async fn on_blocking_thread<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
        limit: Duration,
    ) -> Result<T, ApiError> {
        const QUEUED: u8 = 0;
        const STARTED: u8 = 1;
        const GIVEN_UP: u8 = 2;
        let state = Arc::new(AtomicU8::new(QUEUED));
        let job_state = Arc::clone(&state);
        let running = actix_web::web::block(move || {
            if job_state.compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire).is_err() {
                return Err(ApiError::Unavailable("no connection within the pool's timeout".into()));
            }
            job()
        });
        let mut running = std::pin::pin!(running);
        match actix_web::rt::time::timeout(limit, &mut running).await {
            Ok(done) => done?,
            Err(_) if state.compare_exchange(QUEUED, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire).is_ok() => {
                if let Some(metrics) = self.metrics.get() {
                    metrics.db_timeouts.inc();
                }
                Err(ApiError::Unavailable("no connection within the pool's timeout".into()))
            }
            Err(_) => running.await?,
        }
    }

    /// Runs `f` with a pooled connection on the calling thread, which must be one that may
    /// block (never an async worker). `asked` is when the request began to wait: it waits for
    /// a connection at most the configured timeout from then.
    pub fn run_here<T>(
        &self,
        asked: Instant,
        f: impl FnOnce(&mut PgConnection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        with_connection(self.checkout(asked, self.timeout)?, f)
    }

    /// Like [`Db::run`], inside one transaction that commits when `f` returns `Ok`.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction(f)).await
    }

    /// `SELECT 1` within `timeout`: the readiness probe.
    pub async fn ping(&self, timeout: Duration) -> Result<(), ApiError> {
        use diesel::RunQueryDsl;
        let (db, asked) = (self.clone(), Instant::now());
        let ping = move || {
            with_connection(db.checkout(asked, timeout)?, |conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                Ok(())
            })
        };
        self.on_blocking_thread(ping, timeout).await
    }

    /// A connection, waiting for one until `limit` after `asked`. The time a job spent queued
    /// for a blocking thread counts against the wait: once it is used up, the answer is 503,
    /// even if a connection has just come free (the request has waited longer than promised).
    fn checkout(&self, asked: Instant, limit: Duration) -> Result<PooledConnection<Manager>, ApiError> {
        let left = limit.saturating_sub(asked.elapsed());
        let got = if left.is_zero() {
            Err(ApiError::Unavailable("no connection within the pool's timeout".into()))
        } else {
            self.pool.get_timeout(left).map_err(ApiError::from)
        };
        if let Some(metrics) = self.metrics.get() {
            metrics.db_wait.observe(asked.elapsed().as_secs_f64());
            if got.is_err() {
                metrics.db_timeouts.inc();
            }
        }
        got
    }

    /// Counts this pool's waits and timeouts in `metrics` (every clone shares them).
    pub fn attach_metrics(&self, metrics: Metrics) {
        let _ = self.metrics.set(metrics);
    }

    /// The server's metrics, once attached.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.get()
    }

    /// Connections in use, and idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections - state.idle_connections, state.idle_connections)
    }
}

/// Where the owner's reports and the export read: a streaming replica when
/// `STAMPCARD_REPLICA_URL` names one (so a year-long export never competes with the counter),
/// else the primary's pool. Nothing that writes, and nothing that must see the latest write,
/// reads here: a replica may lag a few seconds. Its work runs on threads of its own, so that a
/// long report or a slow client's export never holds one of the threads of the requests.
#[derive(Clone)]
pub struct ReportDb {
    db: Db,
}

/// Connections to the replica: reports are few (admins), an export holds one while it streams.
const REPLICA_POOL_SIZE: u32 = 4;

impl ReportDb {
    pub fn new(primary: &Db, config: &Config) -> Self {
        let db = match &config.replica_url {
            Some(url) => Db::with_size(url, REPLICA_POOL_SIZE, config),
            None => primary.clone(),
        };
        Self { db }
    }

    /// Runs `f` with a connection on a thread of its own; its result.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.spawn(move |db, asked| {
            let _ = done.send(db.run_here(asked, f));
        })?;
        result.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("a report's thread ended without a result")))?
    }

    /// Starts `f` with a connection on a thread of its own, and resolves once it has the
    /// connection (503 when none comes within the pool's timeout); `f` then runs to its end
    /// and its failure is logged: for an export, whose response has begun by then.
    pub async fn start<F>(&self, what: &'static str, f: F) -> Result<(), ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<(), ApiError> + Send + 'static,
    {
        let (connected, started) = tokio::sync::oneshot::channel();
        self.spawn(move |db, asked| match db.checkout(asked, db.timeout) {
            Err(err) => {
                let _ = connected.send(Err(err));
            }
            Ok(pooled) => {
                let _ = connected.send(Ok(()));
                if let Err(err) = with_connection(pooled, f) {
                    tracing::warn!(error = %err, "{what} ended early");
                }
            }
        })?;
        started.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("{what}: its thread ended at once")))?
    }

    fn spawn(&self, job: impl FnOnce(&Db, Instant) + Send + 'static) -> Result<(), ApiError> {
        let (db, asked) = (self.db.clone(), Instant::now());
        std::thread::Builder::new()
            .name("report".into())
            .spawn(move || job(&db, asked))
            .map(drop)
            .map_err(|err| ApiError::Internal(err.into()))
    }
}

/// Runs `f` on a checked-out connection, which goes back to the pool when this returns,
/// unless `f` found it lost.
fn with_connection<T>(
    mut pooled: PooledConnection<Manager>,
    f: impl FnOnce(&mut PgConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = f(&mut pooled.conn);
    // Unavailable is what a closed connection or a failed send becomes (see `error.rs`).
    pooled.lost = matches!(result, Err(ApiError::Unavailable(_)));
    result
}

/// Holds a lock on `name` (among the names of `scope`) until the caller's transaction ends:
/// for rules that span rows which may not exist yet (a phone number's holders, the mails sent
/// to an address), where a row lock has nothing to lock.
pub fn lock_name_for_transaction(conn: &mut PgConnection, scope: &str, name: &str) -> Result<(), ApiError> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))")
        .bind::<diesel::sql_types::Text, _>(scope)
        .bind::<diesel::sql_types::Text, _>(name)
        .execute(conn)?;
    Ok(())
}

/// Applies pending migrations; returns how many ran. Safe for several instances starting at
/// the same moment: one migrates while the others wait on a session lock, then find nothing
/// left to do (unguarded, two of them creating the same table, the second dies).
pub fn migrate(url: &str) -> anyhow::Result<usize> {
    use diesel::RunQueryDsl;
    let mut conn = PgConnection::establish(url)?;
    // Checked first by reading alone: a service running as a role that owns nothing (see
    // docs/operations.md) may not run diesel's own set-up (`CREATE TABLE IF NOT EXISTS`), and
    // needs not when the owner has migrated.
    if all_applied(&mut conn) {
        return Ok(0);
    }
    // The lock is the connection's: it goes with it, even if this process dies meanwhile.
    diesel::sql_query("SELECT pg_advisory_lock(hashtextextended('stampcard migrations', 0))").execute(&mut conn)?;
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.len())
}

/// Whether every embedded migration is recorded as applied (false when that cannot be read).
fn all_applied(conn: &mut PgConnection) -> bool {
    use diesel::migration::MigrationSource;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let Ok(applied) = diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Applied>(conn) else {
        return false;
    };
    let applied: std::collections::HashSet<String> = applied.into_iter().map(|a| a.version).collect();
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .is_ok_and(|all| all.iter().all(|m| applied.contains(&m.name().version().to_string())))
}
