//! Builds the HTTP server: shared state, extractor configuration, middleware and routes.
//! It takes a bound listener so that tests can serve the very same app on port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_identity::config::LogoutBehaviour;
use actix_identity::IdentityMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use ipnet::IpNet;

use crate::auth::password::Passwords;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::middleware::{problems::problems, request_guard::request_guard, request_log::request_log};
use crate::session_store::{keep_loaded_auth, PgSessionStore};
use crate::{auth, routes};

/// What handlers and middleware need to know of the configuration, shared by all workers.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub dev: bool,
    /// The session cookie's name (`__Host-` outside dev mode, see `auth::session`).
    pub session_cookie: &'static str,
    pub allowed_origins: Vec<String>,
    pub bcrypt_cost: u32,
    pub stamps_per_reward: i32,
    pub session_ttl: Duration,
    pub trusted_proxies: Vec<IpNet>,
    pub cookie_same_site: SameSite,
}

impl AppConfig {
    pub fn from_config(config: &Config) -> Self {
        Self {
            dev: config.is_dev(),
            session_cookie: auth::session::cookie_name(config.is_dev()),
            allowed_origins: config.allowed_origins.clone(),
            bcrypt_cost: config.bcrypt_cost,
            stamps_per_reward: config.stamps_per_reward,
            session_ttl: config.session_ttl,
            trusted_proxies: config.trusted_proxies.clone(),
            cookie_same_site: config.cookie_same_site,
        }
    }
}

/// Everything `build` needs besides the listener.
pub struct ServerParts {
    pub config: Config,
    pub db: Db,
    /// The bcrypt threads (see [`Passwords::start`]).
    pub passwords: Passwords,
    /// The cookie key (at least 64 bytes).
    pub key: Vec<u8>,
    /// Extra routes, for tests that need a handler the product does not have.
    pub extra_routes: Option<fn(&mut web::ServiceConfig)>,
}

/// The server, not yet running: await it (or spawn it) to serve.
pub fn build(listener: TcpListener, parts: ServerParts) -> std::io::Result<Server> {
    let ServerParts { config, db, passwords, key, extra_routes } = parts;
    let app_config = web::Data::new(AppConfig::from_config(&config));
    let key = Key::from(&key);
    let db_data = web::Data::new(db.clone());
    let passwords = web::Data::new(passwords);
    let store_db = db;
    let cookie_secure = !app_config.dev;
    let server = HttpServer::new(move || {
        let session =
            SessionMiddleware::builder(PgSessionStore::new(store_db.clone(), app_config.session_ttl), key.clone())
                .cookie_name(app_config.session_cookie.to_owned())
                .cookie_secure(cookie_secure)
                .cookie_http_only(true)
                .cookie_same_site(app_config.cookie_same_site)
                .cookie_path("/".to_owned())
                .cookie_content_security(CookieContentSecurity::Private)
                // A browser-session cookie by default; `remember` adds Max-Age (auth::session).
                .session_lifecycle(BrowserSession::default())
                .build();
        let identity =
            IdentityMiddleware::builder().id_key("user_id").logout_behaviour(LogoutBehaviour::PurgeSession).build();
        let mut cors = Cors::default()
            .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .allowed_headers(["content-type", "idempotency-key", "x-request-id", "accept-language"])
            .expose_headers(["location", "retry-after", "idempotent-replayed", "x-request-id", "allow"])
            .supports_credentials()
            .max_age(600);
        for origin in &app_config.allowed_origins {
            cors = cors.allowed_origin(origin);
        }
        let mut app = App::new()
            .app_data(app_config.clone())
            .app_data(db_data.clone())
            .app_data(passwords.clone())
            .app_data(crate::extract::payload_config())
            .app_data(
                web::QueryConfig::default().error_handler(|err, _| ApiError::MalformedRequest(err.to_string()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .configure(routes::configure)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::NotFound) }));
        if let Some(extra) = extra_routes {
            app = app.configure(extra);
        }
        // Each `wrap` goes around the ones before it: the request log sees everything, the
        // session is loaded before identity reads it (into the slot `keep_loaded_auth`
        // provides), and `remember_cookie` sees the cookie that the session middleware sets.
        app.wrap(identity)
            .wrap(session)
            .wrap(from_fn(keep_loaded_auth))
            .wrap(from_fn(auth::session::remember_cookie))
            .wrap(from_fn(request_guard))
            .wrap(cors)
            .wrap(from_fn(problems))
            .wrap(from_fn(request_log))
    })
    .workers(config.workers)
    // Blocking threads only ever run database work (bcrypt has threads of its own), so each
    // worker needs its share of the pool plus one for its session loader. More threads would
    // only park on the pool's lock; fewer queue the work in tokio, where a thread that finishes
    // a job takes the next one without sleeping. S2: 150 -> 125-132 µs of server CPU a stamp.
    .worker_max_blocking_threads((config.db_pool_size as usize).div_ceil(config.workers) + 1)
    .shutdown_timeout(30)
    // A client that closes its side of the connection has given up on the answer: its request
    // is dropped, and a login still waiting for bcrypt then costs no bcrypt time (HTTP/1.1
    // half-closed connections are legal, but no client of a JSON API relies on them).
    .h1_allow_half_closed(false)
    .listen(listener)?
    .run();
    Ok(server)
}
