//! Builds the HTTP server: shared state, extractor configuration, middleware and routes. It
//! takes a bound listener so that tests can serve the very same app on port 0. Nothing
//! imports this module but the commands that start a server, and the tests.

use std::net::TcpListener;

use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};

use crate::auth::attempts::Attempts;
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::middleware::{cors, problems::problems, request_guard::request_guard, request_log::request_log};
use crate::outbox::Outbox;
use crate::{extract, routes, session};

/// Everything `build` needs besides the listener.
pub struct ServerParts {
    pub config: Config,
    pub db: Db,
    /// The bcrypt threads (see [`Passwords::start`]).
    pub passwords: Passwords,
    /// The server's metrics (served by [`metrics_server`] where configured).
    pub metrics: Metrics,
    /// Outbound messages (the caller runs their worker, [`crate::outbox::Worker`]).
    pub outbox: Outbox,
    /// The cookie key (at least 64 bytes).
    pub key: Vec<u8>,
    /// Extra routes, for tests that need a handler the product does not have.
    pub extra_routes: Option<fn(&mut web::ServiceConfig)>,
}

/// The server, not yet running: await it (or spawn it) to serve.
pub fn build(listener: TcpListener, parts: ServerParts) -> std::io::Result<Server> {
    let ServerParts { config, db, passwords, metrics, outbox, key, extra_routes } = parts;
    let outbox = web::Data::new(outbox);
    db.attach_metrics(metrics.clone());
    let (workers, pool_size) = (config.workers(), config.db_pool_size as usize);
    let config = web::Data::new(config);
    let key = Key::from(&key);
    let db_data = web::Data::new(db.clone());
    let passwords = web::Data::new(passwords);
    let attempts = web::Data::new(Attempts::new(metrics.clone()));
    let metrics = web::Data::new(metrics);
    let server = HttpServer::new(move || {
        // Almost every answer is personal (account, session, card) or sets a cookie; what is
        // not (the web app's assets) says so itself.
        let fixed_headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::CACHE_CONTROL, "no-store"));
        let mut app = App::new()
            .app_data(config.clone())
            .app_data(db_data.clone())
            .app_data(passwords.clone())
            .app_data(attempts.clone())
            .app_data(metrics.clone())
            .app_data(outbox.clone())
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
pub fn metrics_server(
    listener: TcpListener,
    metrics: Metrics,
    db: Db,
    passwords: Passwords,
) -> std::io::Result<Server> {
    let state = web::Data::new((metrics, db, passwords));
    let server = HttpServer::new(move || {
        let fixed_headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::CACHE_CONTROL, "no-store"));
        App::new().wrap(fixed_headers).app_data(state.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<(Metrics, Db, Passwords)>| async move {
                let (metrics, db, passwords) = state.as_ref();
                // What is a state, not an event, is read now.
                let (in_use, idle) = db.pool_state();
                metrics.db_connections.with_label_values(&["in_use"]).set(i64::from(in_use));
                metrics.db_connections.with_label_values(&["idle"]).set(i64::from(idle));
                let (pending, running) = passwords.load();
                metrics.password_jobs.with_label_values(&["queued"]).set((pending - running.min(pending)) as i64);
                metrics.password_jobs.with_label_values(&["running"]).set(running as i64);
                Metrics::catch_up(&metrics.password_verifications, passwords.verifications());
                Metrics::catch_up(&metrics.password_jobs_refused, passwords.refused());
                // A scrape while the database is away still answers, without these two.
                if let Ok((pending, failed)) = db.run(crate::models::outbox::backlog).await {
                    metrics.outbox_messages.with_label_values(&["pending"]).set(pending);
                    metrics.outbox_messages.with_label_values(&["failed"]).set(failed);
                }
                actix_web::HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4; charset=utf-8")
                    .body(metrics.render())
            }),
        )
    })
    .workers(1)
    // The main server handles SIGTERM; on a signal an actix server stops the whole system,
    // which would cut the main server's graceful stop short. The caller stops this one after.
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
