//! `/api/v1/password-resets`: a forgotten password, reset through a link sent by email.
//!
//! The request answers alike (the same body, about the same time) whether or not the address
//! belongs to an active user: all it does is write one outbox row. The worker decides whether
//! a mail goes out (`outbox::worker`), out of the request's sight.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::{Validate, ValidationErrors};

use crate::auth::attempts::Attempts;
use crate::auth::client_ip::{attempt_key, ClientIp};
use crate::auth::password::Passwords;
use crate::auth::password_rules;
use crate::db::Db;
use crate::error::{field_code, ApiError};
use crate::extract::ApiJson;
use crate::fields::{self, FieldErrors};
use crate::models::audit::{self, Action, Actor};
use crate::models::limit;
use crate::models::outbox::{self, Kind, Outgoing};
use crate::models::reset;
use crate::models::session::Session;
use crate::models::user::User;
use crate::outbox::Outbox;

#[derive(Debug, Default, Deserialize)]
pub struct ResetRequest {
    email: Option<String>,
}

impl Validate for ResetRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        errors.required("email", self.email.as_deref(), fields::validate_email);
        errors.finish()
    }
}

/// `POST /api/v1/password-resets`: 202, whoever the address belongs to. At most 10 such
/// requests (with email verification requests) per client address an hour, counted first.
pub async fn request(
    db: web::Data<Db>,
    outbox: web::Data<Outbox>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    outbox.ensure_can_send(Kind::PasswordReset)?;
    let address = fields::email_key(&body.email.unwrap_or_default());
    let client = attempt_key(ip);
    db.run(move |conn| {
        limit::MAIL_REQUESTS_PER_ADDRESS.take(conn, &client, limit::MAIL_REQUESTS_PER_ADDRESS.rates)?;
        outbox::enqueue(conn, Outgoing::new(Kind::PasswordReset, address))
    })
    .await?;
    outbox.wake();
    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "detail": "If an active account has this verified address, a link to reset its password is on its way."
    })))
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetConfirmation {
    token: Option<String>,
    new_password: Option<String>,
}

/// Every rule that needs no account, with the body, so that one 422 lists every bad field;
/// similarity to the username once the token names the account.
impl Validate for ResetConfirmation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        errors.present("token", self.token.as_deref());
        errors.required("new_password", self.new_password.as_deref(), |p| password_rules::check(p, ""));
        errors.finish()
    }
}

/// `POST /api/v1/password-resets/confirm`: sets the password and revokes every session of
/// the account; no login. A token that is unknown, used or expired is 422 `invalid_token`,
/// and counts as a failed attempt of the client's address.
pub async fn confirm(
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    attempts: web::Data<Attempts>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ResetConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let (token, new_password) = (body.token.unwrap_or_default(), body.new_password.unwrap_or_default());
    let claim = attempts.claim_address(&db, ip).await?;
    // A token that cannot be good costs no bcrypt work (nor does a burst of them).
    let checked = token.clone();
    if !fields::plausible_token(&token) || !db.run(move |conn| reset::is_valid(conn, &checked)).await? {
        return Err(ApiError::InvalidToken);
    }
    // The token is right: no failure of the address, whatever the new password is like.
    attempts.settle_address(&db, claim).await?;
    let hash = passwords.hash(passwords.reserve()?, new_password.clone()).await?;
    db.transaction(move |conn| {
        let user_id = reset::redeem(conn, &token)?.ok_or(ApiError::InvalidToken)?;
        // A deactivated account's links are ended, and would be refused anyway.
        let user = User::find(conn, user_id)?.filter(|u| u.is_active).ok_or(ApiError::InvalidToken)?;
        // A failure rolls the redemption back too: the token stays good for a better password.
        password_rules::check(&new_password, &user.username)
            .map_err(|e| ApiError::field("new_password", field_code(&e)))?;
        User::set_password_hash(conn, user_id, &hash)?;
        let revoked = Session::delete_all_for_user(conn, user_id, None)?;
        reset::end_all(conn, user_id)?;
        // The link's holder acted, as the account's owner as far as anyone can tell.
        let detail = json!({"sessions_revoked": revoked});
        audit::record(conn, Actor::user(user_id, ip), Action::PasswordReset, Some(user_id), detail)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
