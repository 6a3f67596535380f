//! `/api/v1/users/me/phone-verification`: proving the phone number on the account, by a
//! six-digit code sent to it by SMS.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use crate::codes::FieldCode;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::fields::allowed_phone;
use crate::models::outbox::{self, Kind, Outgoing};
use crate::models::phone::{self, PhoneHolders, CODE_LIFETIME};
use crate::models::user::UserView;
use crate::outbox::Outbox;
use crate::session::CurrentUser;

/// `POST /api/v1/users/me/phone-verification`: 202, a code is on its way to the account's
/// phone. 422 without a phone, or for a number of a region no longer accepted; 429 past the
/// user's or the number's limits; 503 once the service's hourly SMS budget is spent.
pub async fn request(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    outbox: web::Data<Outbox>,
) -> Result<HttpResponse, ApiError> {
    outbox.ensure_can_send(Kind::PhoneCode)?;
    // A number stored before its region was refused is sent nothing (SMS pumping).
    if current.user.phone.as_deref().is_some_and(|p| allowed_phone(p, &config.phone_regions).is_none()) {
        return Err(ApiError::field("phone", FieldCode::RegionNotAllowed));
    }
    let (user_id, budget) = (current.user.id, config.sms_hourly_limit);
    let phone = db
        .transaction(move |conn| {
            let (verification, phone) = phone::request_code(conn, user_id, budget)?;
            outbox::enqueue(conn, Outgoing::new(Kind::PhoneCode, phone.clone()).about(verification))?;
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
        Err(FieldCode::InvalidFormat.error())
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
