//! `/api/v1/users`: signup, the own profile, password change, account deletion.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::{Validate, ValidationErrors};

use crate::accounts::{change_profile, check_new_account, new_user, ProfileUpdate};
use crate::auth::attempts::{Attempt, Attempts};
use crate::auth::client_ip::{attempt_key, ClientIp};
use crate::auth::password::Passwords;
use crate::auth::password_rules;
use crate::config::Config;
use crate::db::Db;
use crate::error::{field_code, ApiError};
use crate::extract::{present, ApiJson};
use crate::fields::{self, FieldErrors, Phone};
use crate::models::audit::{self, Action, Actor};
use crate::models::limit::{self, Rate};
use crate::models::outbox::{self, Kind, Outgoing};
use crate::models::reset;
use crate::models::session::Session;
use crate::models::user::{PhoneHolders, Role, User, UserView};
use crate::outbox::Outbox;
use crate::session::{self, CurrentUser};

/// `POST /api/v1/users`. A `role` in the body is ignored: there is no field for it.
#[derive(Debug, Default, Deserialize)]
pub struct Signup {
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    phone: Option<Phone>,
}

impl Validate for Signup {
    fn validate(&self) -> Result<(), ValidationErrors> {
        check_new_account(
            self.username.as_deref(),
            self.password.as_deref(),
            self.email.as_deref(),
            self.phone.as_ref(),
        )
    }
}

/// `POST /api/v1/users`: creates a customer and logs them in. At most
/// `STAMPCARD_SIGNUPS_PER_HOUR` per client address, counted before any work; an email address
/// is sent a link to prove it.
pub async fn signup(
    req: HttpRequest,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    config: web::Data<Config>,
    outbox: web::Data<Outbox>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Signup>,
) -> Result<HttpResponse, ApiError> {
    if config.signups_per_hour > 0 {
        let rate = [Rate::per_hour(config.signups_per_hour.try_into().unwrap_or(i32::MAX))];
        let address = attempt_key(ip);
        db.run(move |conn| limit::SIGNUPS_PER_ADDRESS.take(conn, &address, &rate)).await?;
    }
    let hash = passwords.hash(passwords.reserve()?, body.password.clone().unwrap_or_default()).await?;
    let new_user =
        new_user(&body.username.unwrap_or_default(), body.email.as_deref(), body.phone, hash, Role::Customer);
    let holders = PhoneHolders::from_setting(config.require_verified_phone);
    let user = db
        .transaction(move |conn| {
            let user = User::insert(conn, new_user, holders)?;
            if let Some(key) = &user.email_key {
                outbox::enqueue(conn, Outgoing::new(Kind::EmailVerification, key.clone()).about(user.id))?;
            }
            Ok(user)
        })
        .await?;
    outbox.wake();
    session::log_in(&req, &config, &db, &user, user.password_hash.clone(), false, ip).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, "/api/v1/users/me")).json(UserView::from(&user)))
}

/// `GET /api/v1/users/me`.
pub async fn me(current: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&current.user))
}

/// `PATCH /api/v1/users/me`: `username`, `email`, `phone`; JSON `null` clears email or phone.
#[derive(Debug, Default, Deserialize)]
pub struct ProfilePatch {
    username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<Phone>>,
}

impl Validate for ProfilePatch {
    fn validate(&self) -> Result<(), ValidationErrors> {
        // `null` clears email and phone: only a value is checked.
        let mut errors = FieldErrors::default();
        errors.optional("username", self.username.as_deref(), fields::validate_username);
        errors.optional("email", self.email.as_ref().and_then(Option::as_deref), fields::validate_email);
        errors.optional("phone", self.phone.as_ref().and_then(Option::as_ref), fields::validate_phone);
        errors.finish()
    }
}

/// `PATCH /api/v1/users/me`. Changing the username, email or phone needs a recent password
/// proof in this session (403 `reauthentication_required` otherwise, nothing changed): with a
/// stolen cookie alone, the account's recovery address cannot be taken.
pub async fn update_me(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    outbox: web::Data<Outbox>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let email = body.email.as_ref().map(Option::as_deref);
    let phone = body.phone.map(|p| p.and_then(Phone::into_e164));
    let update = ProfileUpdate::against(&current.user, body.username.as_deref(), email, phone);
    if update.is_empty() {
        return Ok(HttpResponse::Ok().json(UserView::from(&current.user)));
    }
    current.require_recent_proof(config.reauth_window())?;
    let holders = PhoneHolders::from_setting(config.require_verified_phone);
    let actor = Actor::user(current.user.id, ip);
    let user = db.run(move |conn| change_profile(conn, actor, &current.user, update, holders)).await?;
    outbox.wake();
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct DeleteAccount {
    #[validate(required)]
    password: Option<String>,
}

/// `DELETE /api/v1/users/me`: needs the password again; erases the account and its sessions;
/// its card's history stays, anonymous.
pub async fn delete_me(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    attempts: web::Data<Attempts>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    let attempt = Attempt::by_user(current.user.id, ip);
    let given = body.password.unwrap_or_default();
    attempts.reauthenticate(attempt, &db, &passwords, given, current.user.password_hash.clone(), None).await?;
    let id = current.user.id;
    db.transaction(move |conn| {
        User::delete(conn, id)?;
        audit::record(conn, Actor::user(id, ip), Action::Deleted, Some(id), json!({}))
    })
    .await?;
    session::log_out(&req);
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /api/v1/users/me/password`. Every rule that needs no account is checked with the
/// body, so that one 422 lists every bad field; similarity to the username, here.
#[derive(Debug, Default, Deserialize)]
pub struct PasswordChange {
    current_password: Option<String>,
    new_password: Option<String>,
}

impl Validate for PasswordChange {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        errors.present("current_password", self.current_password.as_deref());
        errors.required("new_password", self.new_password.as_deref(), |p| password_rules::check(p, ""));
        errors.finish()
    }
}

/// `PUT /api/v1/users/me/password`: this session continues under a new key, every other
/// session of the user is revoked (Django's `update_session_auth_hash`).
pub async fn change_password(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    attempts: web::Data<Attempts>,
    config: web::Data<Config>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let new_password = body.new_password.unwrap_or_default();
    password_rules::check(&new_password, &current.user.username)
        .map_err(|e| ApiError::field("new_password", field_code(&e)))?;
    let attempt = Attempt::by_user(current.user.id, ip);
    let given = body.current_password.unwrap_or_default();
    let hash = attempts
        .reauthenticate(attempt, &db, &passwords, given, current.user.password_hash.clone(), Some(new_password))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no hash of the new password")))?;
    let (user_id, session_id) = (current.user.id, current.session.id);
    let key_hash = session::move_to_new_key()?;
    db.transaction(move |conn| {
        // The row lock orders this with any revocation of the session: revoked first, the
        // change is refused; revoked after, the row goes under its new key.
        if Session::move_key_after_proof(conn, user_id, session_id, &key_hash)?.is_none() {
            return Err(ApiError::Unauthenticated { next: None, reason: None });
        }
        User::set_password_hash(conn, user_id, &hash)?;
        let revoked = Session::delete_all_for_user(conn, user_id, Some(session_id))?;
        reset::end_all(conn, user_id)?;
        let detail = json!({"sessions_revoked": revoked});
        audit::record(conn, Actor::user(user_id, ip), Action::PasswordChanged, Some(user_id), detail)
    })
    .await?;
    session::renew(&req, current.session.remember, &config);
    Ok(HttpResponse::NoContent().finish())
}
