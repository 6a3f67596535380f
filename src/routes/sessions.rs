//! `/api/v1/sessions`: login, whoami, logout, and managing one's own sessions.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use validator::Validate;

use crate::auth::attempts::{Attempt, Attempts};
use crate::auth::client_ip::ClientIp;
use crate::auth::next_path::safe_next;
use crate::auth::password::{self, Passwords, Verdict};
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::fields::{normalise_username, username_key};
use crate::models::audit::{self, Action, Actor};
use crate::models::page::PageQuery;
use crate::models::session::Session;
use crate::models::user::{User, UserView};
use crate::models::{reset, throttle};
use crate::session::{self, cookie, CurrentUser};

#[derive(Debug, Default, Deserialize, Validate)]
pub struct Login {
    #[validate(required)]
    username: Option<String>,
    #[validate(required)]
    password: Option<String>,
    #[serde(default)]
    remember: bool,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `POST /api/v1/sessions`: log in. Unknown user, wrong password and inactive account give the
/// same 401 after the same bcrypt work; a throttled account or address gets 429 without any.
pub async fn login(
    req: HttpRequest,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    attempts: web::Data<Attempts>,
    config: web::Data<Config>,
    ClientIp(ip): ClientIp,
    query: web::Query<NextQuery>,
    ApiJson(body): ApiJson<Login>,
) -> Result<HttpResponse, ApiError> {
    let remember = body.remember;
    let given = body.password.unwrap_or_default();
    let key = username_key(&normalise_username(body.username.as_deref().unwrap_or_default()));
    let attempt = Attempt::by_name(&key, ip);
    let (claim, user) = attempts
        .claim(&db, &attempt, move |conn| {
            // The account the name belongs to now carries the count, not the name.
            let user = User::find_by_username_key(conn, &key)?;
            Ok((throttle::account_key(user.as_ref().map(|u| u.id), &key), user))
        })
        .await?;
    // An inactive account is checked against the dummy hash, like an unknown one: its right
    // password must neither log in nor clear the count.
    let user = user.filter(|u| u.is_active);
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let rehash = stored.as_deref().filter(|hash| password::needs_rehash(hash, passwords.cost())).map(|_| given.clone());
    let verdict = attempts.check(&attempt, claim, &db, &passwords, given, stored, rehash).await?;
    let (user, new_hash) = match (user, verdict) {
        (Some(user), Verdict::Right { new_hash }) => (user, new_hash),
        _ => return Err(ApiError::InvalidCredentials),
    };
    let (user_id, checked) = (user.id, user.password_hash.clone());
    let proved = db
        .run(move |conn| {
            // A login proves the password is known: a pending reset link is no longer needed.
            reset::end_all(conn, user_id)?;
            Ok(match new_hash {
                Some(hash) if User::upgrade_password_hash(conn, user_id, &checked, &hash)? => hash,
                _ => checked,
            })
        })
        .await?;
    let view = session::log_in(&req, &config, &db, &user, proved, remember, ip).await?;
    let body = json!({"session": view, "user": UserView::from(&user), "next": safe_next(query.next.as_deref())});
    Ok(HttpResponse::Created().json(body))
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct Reauthentication {
    #[validate(required)]
    password: Option<String>,
}

/// `POST /api/v1/sessions/current/reauthentication`: the owner proves the password again,
/// which allows sensitive changes in this session for `STAMPCARD_REAUTH_WINDOW`. The session
/// moves to a new key (the cookie is re-issued), so a stolen copy of the old cookie dies with
/// the proof. A password attempt like a login: 403 `invalid_password`, 429 when locked.
pub async fn reauthenticate(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    attempts: web::Data<Attempts>,
    config: web::Data<Config>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Reauthentication>,
) -> Result<HttpResponse, ApiError> {
    let CurrentUser { user, mut session } = current;
    let given = body.password.unwrap_or_default();
    attempts.reauthenticate(Attempt::by_user(user.id, ip), &db, &passwords, given, user.password_hash, None).await?;
    let key_hash = session::move_to_new_key()?;
    let (user_id, session_id) = (user.id, session.id);
    // The row lock orders this with any revocation of the session: revoked first, the proof
    // is refused with 401; revoked after, the row goes under its new key.
    session.authenticated_at = db
        .run(move |conn| Session::move_key_after_proof(conn, user_id, session_id, &key_hash))
        .await?
        .ok_or(ApiError::Unauthenticated { next: None, reason: None })?;
    session::renew(&req, session.remember, &config);
    Ok(HttpResponse::Ok().json(json!({"session": session.view(Some(session.id))})))
}

/// `GET /api/v1/sessions/current`: whoami.
pub async fn current(current: CurrentUser) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"session": current.session.view(Some(current.session.id)), "user": UserView::from(&current.user)}))
}

/// `DELETE /api/v1/sessions/current`: logout, idempotent.
pub async fn logout(req: HttpRequest, config: web::Data<Config>) -> Result<HttpResponse, ApiError> {
    session::ensure_loaded()?;
    // Logging out makes actix-session delete the row and clear the cookie; without a session
    // there is only a cookie to clear.
    Ok(if session::log_out(&req) {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NoContent().cookie(cookie::removal_cookie(&config)).finish()
    })
}

/// `GET /api/v1/sessions`: my live sessions, newest first.
pub async fn list(
    current: CurrentUser,
    db: web::Data<Db>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = (query.limit()?, query.cursor()?);
    let (user_id, current_id) = (current.user.id, current.session.id);
    let page = db.run(move |conn| Session::list_live(conn, user_id, cursor.as_ref(), limit)).await?;
    Ok(HttpResponse::Ok().json(page.map(|s| s.view(Some(current_id)))))
}

/// `DELETE /api/v1/sessions/{id}`: revoke one of mine; anything else is 404.
pub async fn revoke(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let user_id = current.user.id;
    db.transaction(move |conn| {
        if !Session::delete_owned(conn, user_id, id)? {
            return Err(ApiError::NotFound);
        }
        let detail = json!({"sessions_revoked": 1, "session": id});
        audit::record(conn, Actor::user(user_id, ip), Action::SessionsRevoked, Some(user_id), detail)
    })
    .await?;
    if id == current.session.id {
        // Revoking the session in use is a logout: make sure the cookie goes too.
        session::log_out(&req);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/sessions`: revoke all my sessions but this one.
pub async fn revoke_others(
    current: CurrentUser,
    db: web::Data<Db>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    let (user_id, keep) = (current.user.id, current.session.id);
    let revoked = db
        .transaction(move |conn| {
            let revoked = Session::delete_all_for_user(conn, user_id, Some(keep))?;
            // Nothing revoked, nothing happened: no entry.
            if revoked > 0 {
                let detail = json!({"sessions_revoked": revoked});
                audit::record(conn, Actor::user(user_id, ip), Action::SessionsRevoked, Some(user_id), detail)?;
            }
            Ok(revoked)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"revoked": revoked})))
}
