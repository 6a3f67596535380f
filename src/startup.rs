//! The service, assembled: [`Application`] wires every part (the pool, the bcrypt threads, the
//! outbox worker, the metrics and their listener, the cookie key, middleware and routes) from
//! the configuration, and binds its listeners. `serve` and every test suite build it the same
//! way, so a test serves exactly what the binary serves. Nothing imports this module but the
//! commands, and the tests.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::cookie::Key;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context};
use futures_util::FutureExt;
use rand::RngCore;

use crate::auth::attempts::Attempts;
use crate::auth::password::Passwords;
use crate::config::{cores, Config};
use crate::db::{Db, ReportDb};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::middleware::{cors, problems::problems, request_guard::request_guard, request_log::request_log};
use crate::outbox::{Outbox, Worker};
use crate::stream::Hub;
use crate::{extract, models, routes, session};

/// How often the service deletes expired sessions and stale rows of the limits.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// The service, built and listening, not yet serving: [`Application::run_until_stopped`].
pub struct Application {
    server: Server,
    metrics_server: Option<Server>,
    address: SocketAddr,
    metrics_address: Option<SocketAddr>,
    db: Db,
    passwords: Passwords,
    deliveries: Option<Worker>,
    hub: Hub,
}

/// What the configuration does not say: for tests that need a part of their own making.
#[derive(Default)]
pub struct Options {
    /// bcrypt threads with another queue bound (default: one per core, at the configured cost).
    pub passwords: Option<Passwords>,
    /// Routes the product does not have, for tests of the machinery around handlers.
    pub extra_routes: Option<fn(&mut web::ServiceConfig)>,
}

impl Application {
    /// Builds the service on the (migrated) database at `database_url`, listening on
    /// `config.addr` (port 0: a free one) and, if set, `config.metrics_addr`.
    pub fn build(config: Config, database_url: &str) -> anyhow::Result<Self> {
        Self::build_with(config, database_url, Options::default())
    }

    pub fn build_with(config: Config, database_url: &str, options: Options) -> anyhow::Result<Self> {
        let key = cookie_key(&config)?;
        let outbox = Outbox::new(&config)?;
        let listener = TcpListener::bind(config.addr.as_str())
            .with_context(|| format!("cannot listen on {} (STAMPCARD_ADDR)", config.addr))?;
        let address = listener.local_addr()?;
        let db = Db::new(database_url, &config);
        let passwords = options.passwords.unwrap_or_else(|| Passwords::start(config.bcrypt_cost, cores()));
        let metrics = Metrics::new();
        db.attach_metrics(metrics.clone());
        let (metrics_server, metrics_address) = match &config.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr.as_str())
                    .with_context(|| format!("cannot listen on {addr} (STAMPCARD_METRICS_ADDR)"))?;
                let address = listener.local_addr()?;
                (Some(metrics_server(listener, &config, &metrics, &db, &passwords)?), Some(address))
            }
            None => (None, None),
        };
        // Delivers what this and every other instance put in the outbox.
        let deliveries = Some(Worker::start(outbox.clone(), database_url.to_owned()));
        let hub = Hub::start(database_url.to_owned(), config.stamps_per_reward, metrics.clone());
        let parts =
            Parts { config, db: db.clone(), passwords: passwords.clone(), metrics, outbox, hub: hub.clone(), key };
        let server = api_server(listener, parts, options.extra_routes)?;
        Ok(Self { server, metrics_server, address, metrics_address, db, passwords, deliveries, hub })
    }

    /// Where the API answers.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `GET /metrics` answers, if anywhere.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// The bcrypt threads (tests count the passwords they compared).
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// Stops the service when called (gracefully when `graceful`).
    pub fn handle(&self) -> Handle {
        let servers = std::iter::once(&self.server).chain(&self.metrics_server).map(Server::handle).collect();
        Handle { servers, hub: self.hub.clone() }
    }

    /// Takes the outbox worker out of the service: it stops when the caller drops it (tests
    /// that count statements stop it, since its polling adds to them).
    pub fn take_outbox_worker(&mut self) -> Option<Worker> {
        self.deliveries.take()
    }

    /// Serves until stopped: by SIGTERM or SIGINT (in-flight requests finish, up to the
    /// shutdown timeout), or through [`Application::handle`]. Must run in an actix system.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.handle();
        let Self { server, metrics_server, db, deliveries, .. } = self;
        let purge = actix_web::rt::spawn(purge_periodically(db));
        let signals = actix_web::rt::spawn(stop_on_signal(handle.clone()));
        if let Some(metrics_server) = metrics_server {
            actix_web::rt::spawn(metrics_server);
        }
        let served = server.await;
        // The metrics listener outlives the API server's graceful stop, then goes too.
        handle.stop(true).await;
        signals.abort();
        purge.abort();
        drop(deliveries);
        served
    }
}

/// Stops the servers gracefully on SIGTERM or SIGINT alike. actix-server would treat SIGINT
/// (Ctrl-C) as a forced stop, cutting in-flight requests short; the contract wants both
/// graceful, hence our own handler and `disable_signals` on the servers.
async fn stop_on_signal(handle: Handle) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot listen for SIGTERM and SIGINT; stop the server with SIGKILL");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "stopping: in-flight requests finish first");
    handle.stop(true).await;
}

/// Stops a running [`Application`].
#[derive(Clone)]
pub struct Handle {
    servers: Vec<ServerHandle>,
    hub: Hub,
}

impl Handle {
    /// Ends the live streams (they would hold a graceful stop up until its timeout), then sends
    /// the stop command to every server at once; the future resolves when they stopped.
    pub fn stop(&self, graceful: bool) -> impl std::future::Future<Output = ()> {
        self.hub.close();
        let stopping: Vec<_> = self.servers.iter().map(|server| server.stop(graceful)).collect();
        futures_util::future::join_all(stopping).map(drop)
    }
}

/// Refuses a configuration the service cannot start with, before anything is started for it
/// (the development database, the migrations).
pub fn check(config: &Config) -> anyhow::Result<()> {
    if config.secret_key.is_none() && !config.is_dev() {
        bail!("invalid STAMPCARD_SECRET_KEY: required unless STAMPCARD_DEV=1");
    }
    Ok(())
}

/// The cookie key: `STAMPCARD_SECRET_KEY`, or in dev mode a random one.
fn cookie_key(config: &Config) -> anyhow::Result<Key> {
    check(config)?;
    if let Some(key) = &config.secret_key {
        return Ok(Key::from(&key.0));
    }
    tracing::warn!("STAMPCARD_SECRET_KEY is unset: using a random key (dev mode); sessions end with the process");
    let mut key = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut key);
    Ok(Key::from(&key))
}

/// Everything the API server shares between its workers.
struct Parts {
    config: Config,
    db: Db,
    passwords: Passwords,
    metrics: Metrics,
    outbox: Outbox,
    hub: Hub,
    key: Key,
}

/// The API server: shared state, extractor configuration, middleware and routes.
fn api_server(
    listener: TcpListener,
    parts: Parts,
    extra_routes: Option<fn(&mut web::ServiceConfig)>,
) -> std::io::Result<Server> {
    let Parts { config, db, passwords, metrics, outbox, hub, key } = parts;
    let (workers, pool_size) = (config.workers(), config.db_pool_size as usize);
    let reports = web::Data::new(ReportDb::new(&db, &config));
    let config = web::Data::new(config);
    let db_data = web::Data::new(db.clone());
    let passwords = web::Data::new(passwords);
    let attempts = web::Data::new(Attempts::new(metrics.clone()));
    let metrics = web::Data::new(metrics);
    let outbox = web::Data::new(outbox);
    let hub = web::Data::new(hub);
    let server = HttpServer::new(move || {
        // Almost every answer is personal (account, session, card) or sets a cookie; what is
        // not (the web app's assets) says so itself.
        let fixed_headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::CACHE_CONTROL, "no-store"));
        let mut app = App::new()
            .app_data(config.clone())
            .app_data(db_data.clone())
            .app_data(reports.clone())
            .app_data(passwords.clone())
            .app_data(attempts.clone())
            .app_data(metrics.clone())
            .app_data(outbox.clone())
            .app_data(hub.clone())
            .app_data(extract::payload_config())
            .app_data(
                web::QueryConfig::default().error_handler(|err, _| ApiError::MalformedRequest(err.to_string()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .configure(routes::configure)
            .default_service(web::to(|req: actix_web::HttpRequest| async move { routes::web_app::not_found(&req) }));
        if let Some(extra) = extra_routes {
            app = app.configure(extra);
        }
        // Each `wrap` goes around the ones before it, so the request meets them bottom-up:
        // the log sees everything and the fixed headers go on every answer; the session's
        // request record (`session::scope`) is open for the problem renderer, which needs to
        // know whether the store found the database down; the cross-origin guard refuses
        // before any session is loaded; actix-identity reads what actix-session loaded.
        app.wrap(session::identity::middleware())
            .wrap(session::cookie::session_middleware(&config, db.clone(), key.clone()))
            .wrap(from_fn(request_guard))
            .wrap(cors::cors(&config.allowed_origins.0))
            .wrap(from_fn(cors::only_when_granted))
            .wrap(from_fn(problems))
            .wrap(from_fn(session::scope))
            .wrap(fixed_headers)
            .wrap(from_fn(request_log))
    })
    .workers(workers)
    // Blocking threads only ever run database work (bcrypt has threads of its own), so each
    // worker needs its share of the pool plus one for its session loader. More threads would
    // only park on the pool's lock; fewer queue the work in tokio, where a thread that finishes
    // a job takes the next one without sleeping. S2: 150 -> 125-132 µs of server CPU a stamp.
    .worker_max_blocking_threads(pool_size.div_ceil(workers) + 1)
    .shutdown_timeout(30)
    // Signals are ours (`stop_on_signal`): actix-server would stop at once on SIGINT.
    .disable_signals()
    // A client that closes its side of the connection has given up on the answer: its request
    // is dropped, and a login still waiting for bcrypt then costs no bcrypt time (HTTP/1.1
    // half-closed connections are legal, but no client of a JSON API relies on them).
    .h1_allow_half_closed(false)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The metrics listener: `GET /metrics` in Prometheus' text format, on an address of its own
/// (`STAMPCARD_METRICS_ADDR`), so that the public address never shows them. One worker: a
/// scrape every few seconds needs no more.
fn metrics_server(
    listener: TcpListener,
    config: &Config,
    metrics: &Metrics,
    db: &Db,
    passwords: &Passwords,
) -> std::io::Result<Server> {
    let state = web::Data::new(routes::metrics::Sources {
        metrics: metrics.clone(),
        db: db.clone(),
        passwords: passwords.clone(),
        sms_hourly_limit: config.sms_hourly_limit,
    });
    let server = HttpServer::new(move || {
        let fixed_headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::CACHE_CONTROL, "no-store"));
        App::new().wrap(fixed_headers).app_data(state.clone()).route("/metrics", web::get().to(routes::metrics::scrape))
    })
    .workers(1)
    // Stopped with the API server (`run_until_stopped`), never on a signal of its own.
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

async fn purge_periodically(db: Db) {
    loop {
        actix_web::rt::time::sleep(PURGE_EVERY).await;
        match db.run(models::purge_expired).await {
            Ok(purged) => tracing::info!(purged, "purged expired rows"),
            Err(err) => tracing::warn!(error = %err, "purge failed; will retry"),
        }
    }
}
