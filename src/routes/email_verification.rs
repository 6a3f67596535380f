//! Proving an email address: a link mailed to it (`<STAMPCARD_PUBLIC_URL>/verify-email#token=`),
//! sent when an address is set and on request, and confirmed by whoever holds the link (it may
//! be opened in another browser).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::{Validate, ValidationErrors};

use crate::auth::attempts::Attempts;
use crate::auth::client_ip::{attempt_key, ClientIp};
use crate::codes::FieldCode;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::fields::{self, FieldErrors};
use crate::models::email;
use crate::models::limit;
use crate::models::outbox::{self, Kind, Outgoing};
use crate::outbox::Outbox;
use crate::session::CurrentUser;

/// `POST /api/v1/users/me/email-verification`: 202, a new link is on its way to the account's
/// address. 422 without an address; 429 after three links an hour, or past the client
/// address's ten mail requests an hour.
pub async fn request(
    current: CurrentUser,
    db: web::Data<Db>,
    outbox: web::Data<Outbox>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    outbox.ensure_can_send(Kind::EmailVerification)?;
    let address = current.user.email_key.clone().ok_or_else(|| ApiError::field("email", FieldCode::Required))?;
    let (user_id, client) = (current.user.id, attempt_key(ip));
    db.transaction(move |conn| {
        limit::EMAIL_LINKS_PER_USER.take(conn, &user_id.to_string(), limit::EMAIL_LINKS_PER_USER.rates)?;
        limit::MAIL_REQUESTS_PER_ADDRESS.take(conn, &client, limit::MAIL_REQUESTS_PER_ADDRESS.rates)?;
        outbox::enqueue(conn, Outgoing::new(Kind::EmailVerification, address).about(user_id))
    })
    .await?;
    outbox.wake();
    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "detail": "A link to confirm the address is on its way."
    })))
}

#[derive(Debug, Default, Deserialize)]
pub struct Confirmation {
    token: Option<String>,
}

impl Validate for Confirmation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        errors.present("token", self.token.as_deref());
        errors.finish()
    }
}

/// `POST /api/v1/email-verifications/confirm`: 204, the address the link was sent to is the
/// user's, proven. 422 `invalid_token` for a link that is unknown, used, expired, or for an
/// address the user no longer has; wrong tokens count against the client's address, as reset
/// tokens do.
pub async fn confirm(
    db: web::Data<Db>,
    attempts: web::Data<Attempts>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Confirmation>,
) -> Result<HttpResponse, ApiError> {
    let token = body.token.unwrap_or_default();
    let claim = attempts.claim_address(&db, ip).await?;
    if !fields::plausible_token(&token) {
        return Err(ApiError::InvalidToken);
    }
    db.run(move |conn| email::confirm(conn, &token)).await?;
    attempts.settle_address(&db, claim).await?;
    Ok(HttpResponse::NoContent().finish())
}
