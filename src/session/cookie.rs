//! The seam with actix-session's cookie: its name and attributes, and the one thing
//! actix-session cannot do, a lifetime chosen per login.
//!
//! actix-session gives every session cookie the same lifecycle. `remember` is chosen at each
//! login, so a remembered login's freshly set cookie gets its `Max-Age` here, on the way out
//! (see `session::scope`), by rewriting the `Set-Cookie` header actix-session wrote.

use std::time::Duration;

use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Cookie, Key};
use actix_web::http::header::{self, HeaderMap, HeaderValue};

use super::store::PgSessionStore;
use super::{DEV_SESSION_COOKIE, SESSION_COOKIE};
use crate::config::Config;
use crate::db::Db;

/// The session cookie's name for this server (`__Host-` outside dev mode).
pub fn cookie_name(config: &Config) -> &'static str {
    if config.is_dev() {
        DEV_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// actix-session's middleware with our store and the contract's cookie: HttpOnly, Path=/,
/// SameSite as configured, Secure outside dev mode, encrypted, a browser-session cookie unless
/// a login asked to be remembered. One per worker: each has its own lookup batch.
pub fn session_middleware(config: &Config, db: Db, key: Key) -> SessionMiddleware<PgSessionStore> {
    SessionMiddleware::builder(PgSessionStore::new(db), key)
        .cookie_name(cookie_name(config).to_owned())
        .cookie_secure(!config.is_dev())
        .cookie_http_only(true)
        .cookie_same_site(config.cookie_same_site.into())
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build()
}

/// A removal cookie for the session, for logouts of sessions that no longer exist.
pub fn removal_cookie(config: &Config) -> Cookie<'static> {
    let mut cookie = Cookie::build(cookie_name(config), "")
        .path("/")
        .http_only(true)
        .secure(!config.is_dev())
        .same_site(config.cookie_same_site.into())
        .finish();
    cookie.make_removal();
    cookie
}

/// Gives the freshly set session cookie `name` of a response a `Max-Age` of `lifetime`.
pub(super) fn remember(headers: &mut HeaderMap, name: &str, lifetime: Duration) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).cloned().collect();
    headers.remove(header::SET_COOKIE);
    for value in cookies {
        let patched =
            value.to_str().ok().and_then(|text| Cookie::parse(text.to_owned()).ok()).and_then(|mut cookie| {
                if cookie.name() != name || cookie.value().is_empty() {
                    return None;
                }
                cookie.set_max_age(time::Duration::seconds(lifetime.as_secs() as i64));
                HeaderValue::from_str(&cookie.to_string()).ok()
            });
        headers.append(header::SET_COOKIE, patched.unwrap_or(value));
    }
}
