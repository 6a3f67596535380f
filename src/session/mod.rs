//! Server-side sessions, the whole story in one folder.
//!
//! The browser holds only an opaque cookie carrying a random key; the session and all its state
//! live in PostgreSQL (`models::session`), found by the key's SHA-256. actix-session moves the
//! cookie and calls our store; actix-identity keeps the user id in the session state. Their
//! seams are one file each:
//!
//! - [`store`]: actix-session's `SessionStore` on PostgreSQL, with the lookups of concurrent
//!   requests batched into one query ([`batch`]);
//! - [`cookie`]: the cookie's attributes, and the per-login `remember` lifetime;
//! - [`identity`]: actix-identity, which names the logged-in user;
//! - [`current`]: [`CurrentUser`], the extractor of guarded endpoints.
//!
//! This file is what handlers use: log in, renew, log out, and the request's [`Found`].

mod batch;
pub mod cookie;
mod current;
pub mod identity;
mod store;

use std::cell::RefCell;
use std::net::IpAddr;
use std::time::Duration;

use actix_session::storage::SessionKey;
use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::HttpRequest;
use chrono::Utc;
use uuid::Uuid;

use crate::codes::EndReason;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::models::session::{NewSession, Session, SessionView};
use crate::models::user::User;

pub use cookie::cookie_name;
pub use current::CurrentUser;
pub use identity::log_out;

/// The session cookie's name outside dev mode. Browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/` and no `Domain`, and only from the host itself: a sibling subdomain
/// cannot plant one (session fixation from `evil.example.com` onto `app.example.com`).
pub const SESSION_COOKIE: &str = "__Host-stampcard_session";

/// The name in dev mode, over plain HTTP, where `Secure` (and so the prefix) cannot be had.
pub const DEV_SESSION_COOKIE: &str = "stampcard_session";

/// What the store found for this request's cookie: one typed value, read by everything that
/// needs to know who is calling.
#[derive(Debug, Clone, Default)]
pub enum Found {
    /// No cookie, or one that names no live session of an active user.
    #[default]
    Anonymous,
    /// A live session and its active user.
    User(Box<(Session, User)>),
    /// A session that is gone for a reason its holder should be told (the account was
    /// deactivated); anonymous otherwise.
    Ended(EndReason),
    /// The database could not be asked (or could not store what the handler changed): the
    /// answer must be 503, since we can tell neither who is calling nor which row to touch.
    Unavailable(String),
}

/// Session-state keys. The state holds one thing: the user id, which actix-identity keeps
/// under [`keys::USER_ID`] (see [`identity`]); everything else about a session is a column.
mod keys {
    pub const USER_ID: &str = "user_id";
}

/// What the store, the handlers and the middleware of one request tell each other.
///
/// actix-session's store API passes only a string map, and its errors become plain 500s: the
/// typed rows the store loaded, a store failure, the key a handler already moved the row to,
/// and a per-login cookie lifetime have no way through it. They travel here instead, in a
/// task-local that [`scope`] opens around everything that touches the session.
#[derive(Default)]
struct RequestSession {
    found: Found,
    /// The key a handler moved this request's session to (see [`move_to_new_key`]).
    moved_to: Option<SessionKey>,
    /// The lifetime a fresh session cookie must carry (`remember`), if any.
    remember: Option<Duration>,
}

tokio::task_local! {
    static REQUEST: RefCell<RequestSession>;
}

/// Middleware around actix-session's and the problem renderer: opens the request's
/// [`RequestSession`], and gives a remembered login's cookie its `Max-Age` on the way out.
pub async fn scope(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let name = req.app_data::<actix_web::web::Data<Config>>().map_or(SESSION_COOKIE, |c| cookie_name(c));
    REQUEST
        .scope(RefCell::new(RequestSession::default()), async move {
            let mut res = next.call(req).await?;
            if let Some(lifetime) = with(|r| r.remember).flatten() {
                cookie::remember(res.headers_mut(), name, lifetime);
            }
            Ok(res)
        })
        .await
}

/// Runs `f` on this request's session record (`None` outside [`scope`]).
fn with<T>(f: impl FnOnce(&mut RequestSession) -> T) -> Option<T> {
    REQUEST.try_with(|r| f(&mut r.borrow_mut())).ok()
}

/// What the store found for this request.
pub fn found() -> Found {
    with(|r| r.found.clone()).unwrap_or_default()
}

/// Why this request's session could not be loaded or stored, if it could not: the problem
/// renderer answers 503 instead of actix-session's 500.
pub fn unavailable() -> Option<String> {
    with(|r| match &r.found {
        Found::Unavailable(why) => Some(why.clone()),
        _ => None,
    })
    .flatten()
}

/// 503 when the request's session could not be loaded: without it we can tell neither who is
/// calling nor which row a logout should delete.
pub fn ensure_loaded() -> Result<(), ApiError> {
    match unavailable() {
        Some(why) => Err(ApiError::Unavailable(why)),
        None => Ok(()),
    }
}

/// Replaces whatever session the browser had with a new one for `user`, who has just proved
/// the password whose hash is `password_hash` (at login or signup), and describes it. The row
/// is stored here, not by actix-session after the handler: it is stored only if the user is
/// still active and the password still that one, so that a login racing a password change, a
/// reset or a deactivation stores nothing and says so (401 `invalid_credentials`). With
/// `remember`, the cookie outlives the browser session.
pub async fn log_in(
    req: &HttpRequest,
    config: &Config,
    db: &Db,
    user: &User,
    password_hash: String,
    remember: bool,
    ip: Option<IpAddr>,
) -> Result<SessionView, ApiError> {
    let key = store::new_key();
    let now = Utc::now();
    let new = NewSession {
        id: Uuid::new_v4(),
        key_hash: store::hash(&key),
        user_id: user.id,
        state: serde_json::json!({ keys::USER_ID: serde_json::to_string(&user.id.to_string()).expect("a string") }),
        remember,
        created_at: now,
        expires_at: now + config.session_ttl(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
        ip: ip.map(|ip| ip.to_string()),
    };
    let view = SessionView {
        id: new.id,
        created_at: now,
        last_seen_at: now,
        expires_at: new.expires_at,
        user_agent: new.user_agent.clone(),
        ip: new.ip.clone(),
        authenticated_at: now,
        current: true,
    };
    if !db.run(move |conn| Session::insert_after_proof(conn, new, &password_hash)).await? {
        return Err(ApiError::InvalidCredentials);
    }
    with(|r| r.moved_to = Some(key))
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("session::scope must wrap the session middleware")))?;
    // The browser's old session (actix-session deletes its row on the renewal), then the user
    // id, and a renewal of the key, which hands out the one stored above.
    req.get_session().clear();
    identity::log_in(req, user.id)?;
    remember_for(remember, config);
    Ok(view)
}

/// A new key for this request's session, and its hash, for a handler that moves the session
/// row to it itself, in the same transaction as what made the renewal necessary: then a
/// revocation cannot slip in between and be undone. [`renew`] completes it.
pub fn move_to_new_key() -> Result<Vec<u8>, ApiError> {
    let key = store::new_key();
    let key_hash = store::hash(&key);
    with(|r| r.moved_to = Some(key))
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("session::scope must wrap the session middleware")))?;
    Ok(key_hash)
}

/// Keeps this session (same public id, same expiry) under the key of [`move_to_new_key`],
/// whose row the caller has moved: actix-session's renewal then finds nothing to delete under
/// the old key, and its save hands out the new one. The cookie keeps `Max-Age` if the session
/// was remembered.
pub fn renew(req: &HttpRequest, remembered: bool, config: &Config) {
    req.get_session().renew();
    remember_for(remembered, config);
}

fn remember_for(remember: bool, config: &Config) {
    if remember {
        with(|r| r.remember = Some(config.session_ttl()));
    }
}
