//! `/api/v1/users/me/phone-verification`: proving the phone number on the account, by a
//! six-digit code sent to it by SMS.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::models::outbox::{self, Kind};
use crate::models::phone::{self, PhoneHolders, CODE_LIFETIME};
use crate::models::user::UserView;
use crate::outbox::Outbox;
use crate::session::CurrentUser;

/// `POST /api/v1/users/me/phone-verification`: 202, a code is on its way to the account's
/// phone. 422 without a phone; 429 after five codes in an hour.
pub async fn request(
    current: CurrentUser,
    db: web::Data<Db>,
    outbox: web::Data<Outbox>,
) -> Result<HttpResponse, ApiError> {
    outbox.ensure_can_send(Kind::PhoneCode)?;
    let user_id = current.user.id;
    let phone = db
        .transaction(move |conn| {
            let (verification, phone) = phone::request_code(conn, user_id)?;
            outbox::enqueue(conn, Kind::PhoneCode, &phone, Some(verification))?;
            Ok(phone)
        })
        .await?;
    outbox.wake();
    Ok(HttpResponse::Accepted().json(json!({"phone": phone, "expires_in": CODE_LIFETIME.num_seconds()})))
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct CodeConfirmation {
    #[validate(required, custom(function = "six_digits"))]
    code: Option<String>,
}

/// A code is six digits; anything else is a malformed request, not a wrong try.
fn six_digits(code: &str) -> Result<(), validator::ValidationError> {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(crate::codes::FieldCode::InvalidFormat.error())
    }
}

/// `POST /api/v1/users/me/phone-verification/confirm`: the user, with `phone_verified: true`.
/// 422 `invalid_code` for a wrong, expired or dead code.
pub async fn confirm(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    ApiJson(body): ApiJson<CodeConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, code) = (current.user.id, body.code.unwrap_or_default());
    let holders = PhoneHolders::from_setting(config.require_verified_phone);
    let user = db.run(move |conn| phone::confirm_code(conn, user_id, &code, holders)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}
