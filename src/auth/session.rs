//! Starting, renewing and ending logged-in sessions, and the `remember` cookie lifetime.
//!
//! Every login, signup and password change gets a fresh session key (session fixation
//! defence); the old key's row is deleted by actix-session's renewal.

use std::net::IpAddr;

use actix_identity::Identity;
use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::cookie::{time, Cookie};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};
use chrono::Utc;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::session::SessionView;
use crate::session_store::keys;
use crate::startup::AppConfig;

/// The session cookie's name outside dev mode. Browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/` and no `Domain`, and only from the host itself: a sibling subdomain
/// cannot plant one (session fixation from `evil.example.com` onto `app.example.com`).
pub const SESSION_COOKIE: &str = "__Host-stampcard_session";

/// The name in dev mode, over plain HTTP, where `Secure` (and so the prefix) cannot be had.
pub const DEV_SESSION_COOKIE: &str = "stampcard_session";

/// The session cookie's name for a server in or out of dev mode.
pub fn cookie_name(dev: bool) -> &'static str {
    if dev {
        DEV_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Replaces whatever session the browser had with a new one for `user_id`, and describes it
/// (the row itself is written by the session store after the handler returns).
pub fn log_in(
    req: &HttpRequest,
    config: &AppConfig,
    user_id: Uuid,
    remember: bool,
    ip: Option<IpAddr>,
) -> Result<SessionView, ApiError> {
    let session = req.get_session();
    session.clear();
    let now = Utc::now();
    let view = SessionView {
        id: Uuid::new_v4(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + config.session_ttl,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
        ip: ip.map(|ip| ip.to_string()),
        current: true,
    };
    let insert =
        |key: &str, value: serde_json::Value| session.insert(key, value).map_err(|e| ApiError::Internal(e.into()));
    insert(keys::SESSION_ID, serde_json::json!(view.id))?;
    insert(keys::CREATED_AT, view.created_at.timestamp_micros().into())?;
    insert(keys::EXPIRES_AT, view.expires_at.timestamp_micros().into())?;
    insert(keys::REMEMBER, remember.into())?;
    insert(keys::USER_AGENT, view.user_agent.clone().into())?;
    insert(keys::IP, view.ip.clone().into())?;
    // Identity::login stores the user id and renews the key: the old session row goes.
    Identity::login(&req.extensions(), user_id.to_string()).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(view)
}

/// Keeps this session (same public id, same expiry) under a new key. The caller has already
/// moved the row to the key of `session_store::move_to_new_key`, in the transaction that
/// made the renewal necessary, so that a revocation racing it cannot be undone by it.
pub fn renew(req: &HttpRequest) {
    req.get_session().renew();
}

/// 503 when the request's session could not be loaded (database unreachable): without it we
/// can tell neither who is calling nor which row a logout should delete.
pub fn ensure_loaded(req: &HttpRequest) -> Result<(), ApiError> {
    if req.get_session().get::<bool>(keys::OUTAGE).ok().flatten() == Some(true) {
        return Err(ApiError::Unavailable("session could not be loaded".into()));
    }
    Ok(())
}

/// Ends the session: actix-session deletes the row and clears the cookie.
pub fn end(req: &HttpRequest) {
    req.get_session().purge();
}

/// A removal cookie for the session, for logouts of sessions that no longer exist.
pub fn removal_cookie(config: &AppConfig) -> Cookie<'static> {
    let mut cookie = Cookie::build(config.session_cookie, "")
        .path("/")
        .http_only(true)
        .secure(!config.dev)
        .same_site(config.cookie_same_site)
        .finish();
    cookie.make_removal();
    cookie
}

/// Marks a response whose new session cookie must outlive the browser session.
#[derive(Debug, Clone, Copy)]
pub struct RememberFor(pub std::time::Duration);

/// Adds `Max-Age` to a freshly set session cookie when the handler asked for it: actix-session
/// has one cookie lifetime for all sessions, and `remember` is chosen per login.
pub async fn remember_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let name = req.app_data::<actix_web::web::Data<AppConfig>>().map_or(SESSION_COOKIE, |c| c.session_cookie);
    let mut res = next.call(req).await?;
    let Some(RememberFor(lifetime)) = res.response().extensions().get::<RememberFor>().copied() else {
        return Ok(res);
    };
    let headers = res.headers_mut();
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
    Ok(res)
}

/// Marks `response` so that its session cookie carries `Max-Age` when `remember` is set.
pub fn apply_remember(response: &mut HttpResponse, remember: bool, config: &AppConfig) {
    if remember {
        response.extensions_mut().insert(RememberFor(config.session_ttl));
    }
}
