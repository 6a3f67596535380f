//! `/api/v1/users`: signup, the own profile, password change, account deletion.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use validator::Validate;

use crate::accounts::{ProfilePatch, Signup};
use crate::auth::client_ip::client_ip;
use crate::auth::{password, password_rules, session, CurrentUser};
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::models::session::Session;
use crate::models::user::{Role, User, UserView};
use crate::startup::AppConfig;

/// `POST /api/v1/users`: creates a customer and logs them in.
pub async fn signup(
    req: HttpRequest,
    db: web::Data<Db>,
    config: web::Data<AppConfig>,
    ApiJson(body): ApiJson<Signup>,
) -> Result<HttpResponse, ApiError> {
    body.check()?;
    let hash = password::hash(body.password.clone().unwrap_or_default(), config.bcrypt_cost).await?;
    let new_user = body.into_new_user(hash, Role::Customer);
    let user = db.run(move |conn| User::insert(conn, new_user)).await?;
    session::log_in(&req, &config, user.id, false, client_ip(&req, &config.trusted_proxies))?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, "/api/v1/users/me")).json(UserView::from(&user)))
}

/// `GET /api/v1/users/me`.
pub async fn me(current: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&current.user))
}

/// `PATCH /api/v1/users/me`.
pub async fn update_me(
    current: CurrentUser,
    db: web::Data<Db>,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_change();
    let user = db.run(move |conn| User::update(conn, current.user.id, change)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct DeleteAccount {
    #[validate(required)]
    password: Option<String>,
}

/// `DELETE /api/v1/users/me`: needs the password again; removes the account, its sessions,
/// card and history.
pub async fn delete_me(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<AppConfig>,
    ApiJson(body): ApiJson<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    password::confirm(body.password, &current.user, config.bcrypt_cost).await?;
    db.run(move |conn| User::delete(conn, current.user.id)).await?;
    session::end(&req);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct PasswordChange {
    #[validate(required)]
    current_password: Option<String>,
    #[validate(required)]
    new_password: Option<String>,
}

/// `PUT /api/v1/users/me/password`: this session continues under a new key, every other
/// session of the user is revoked (Django's `update_session_auth_hash`).
pub async fn change_password(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<AppConfig>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let new_password = body.new_password.unwrap_or_default();
    password_rules::check(&new_password, &current.user.username)
        .map_err(|e| ApiError::field("new_password", e.code))?;
    password::confirm(body.current_password, &current.user, config.bcrypt_cost).await?;
    let hash = password::hash(new_password, config.bcrypt_cost).await?;
    let (user_id, session_id) = (current.user.id, current.session.id);
    db.transaction(move |conn| {
        User::set_password_hash(conn, user_id, &hash)?;
        Session::delete_all_for_user(conn, user_id, Some(session_id))
    })
    .await?;
    session::renew(&req);
    let mut response = HttpResponse::NoContent().finish();
    session::apply_remember(&mut response, current.session.remember, &config);
    Ok(response)
}
