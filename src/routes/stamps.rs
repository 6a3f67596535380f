//! `/api/v1/stamps`: the loyalty card. Staff stamp customers by phone; customers read their
//! own card and history and redeem their own free coffee; staff may do both for a customer.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use validator::{Validate, ValidationError};

use crate::codes::FieldCode;
use crate::config::Config;
use crate::db::Db;
use crate::error::{field_code, ApiError};
use crate::extract::{parse, present};
use crate::fields::{self, allowed_phone, Phone};
use crate::idempotency::{Idempotent, REPLAYED};
use crate::metrics::Metrics;
use crate::models::card::{Card, Event, Holder};
use crate::models::page::PageQuery;
use crate::session::CurrentUser;

/// The idempotency scopes of the two unsafe endpoints.
const STAMP: &str = "POST /api/v1/stamps";
const REDEEM: &str = "POST /api/v1/stamps/redemptions";

/// `?phone=` on the reading endpoints.
#[derive(Debug, Deserialize)]
pub struct PhoneQuery {
    phone: Option<String>,
}

/// `POST /api/v1/stamps`.
#[derive(Debug, Deserialize, Validate)]
pub struct StampRequest {
    #[validate(required, custom(function = "fields::validate_phone"))]
    phone: Option<Phone>,
    /// Any JSON value, checked by hand: `"1"`, `1.5` or `null` must be a 422 naming `count`,
    /// and an absent count (`None`) must differ from `null` (`Some(Value::Null)`).
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "valid_count"))]
    count: Option<Value>,
}

/// 1..=10 stamps at a time: a whole JSON number (`2.0` is one too, as in JSON Schema).
fn valid_count(count: &Value) -> Result<(), ValidationError> {
    match count.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=10.0).contains(&n) => Ok(()),
        Some(n) if n.fract() == 0.0 => Err(FieldCode::OutOfRange.error()),
        _ => Err(FieldCode::InvalidType.error()),
    }
}

impl StampRequest {
    /// The customer to stamp, by the validated phone's E.164 form.
    fn holder(&self, config: &Config) -> Result<Holder, ApiError> {
        let phone = self.phone.as_ref().and_then(Phone::e164);
        phone
            .map(|e164| customer(e164.to_owned(), config))
            .ok_or_else(|| ApiError::field("phone", FieldCode::InvalidPhone))
    }

    fn count(&self) -> i32 {
        // Validated: absent or a number in 1..=10.
        self.count.as_ref().and_then(Value::as_f64).map_or(1, |n| n as i32)
    }
}

/// `POST /api/v1/stamps/redemptions`: customers send nothing, staff name the customer.
#[derive(Debug, Default, Deserialize, Validate)]
pub struct RedeemRequest {
    phone: Option<String>,
}

/// The customer with this phone (E.164), by the configured rule for who holds a phone.
fn customer(phone: String, config: &Config) -> Holder {
    Holder::Customer { phone, verified_only: config.require_verified_phone }
}

/// The card a read is about: one's own, or for staff and admins, a customer's by `?phone=`.
/// A phone that does not parse cannot be anybody's, hence 404 rather than 422.
fn read_target(current: &CurrentUser, phone: Option<&str>, config: &Config) -> Result<Holder, ApiError> {
    match phone {
        None => Ok(Holder::User(current.user.id)),
        Some(_) if !current.role().is_staff() => Err(ApiError::Forbidden),
        Some(raw) => allowed_phone(raw, &config.phone_regions)
            .map(|e164| customer(e164, config))
            .ok_or(ApiError::CustomerNotFound),
    }
}

/// `GET /api/v1/stamps`.
pub async fn card(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    query: web::Query<PhoneQuery>,
) -> Result<HttpResponse, ApiError> {
    let holder = read_target(&current, query.phone.as_deref(), &config)?;
    let card = db.run(move |conn| Card::load(conn, &holder)).await?;
    Ok(HttpResponse::Ok().json(card.view(config.stamps_per_reward)))
}

/// `GET /api/v1/stamps/events`: the history, newest first.
pub async fn events(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    query: web::Query<PhoneQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = (page.limit()?, page.cursor()?);
    let holder = read_target(&current, query.phone.as_deref(), &config)?;
    let page = db.run(move |conn| Event::page(conn, &holder, cursor.as_ref(), limit)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/stamps`: staff and admins stamp a customer's card.
pub async fn stamp(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    metrics: web::Data<Metrics>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    current.require_staff()?;
    let input: StampRequest = parse(&req, &body)?;
    let idempotent = Idempotent::new(&req, &body)?;
    let holder = input.holder(&config)?;
    let (count, issuer, per_reward) = (input.count(), current.user.id, config.stamps_per_reward);
    let res = idempotent
        .run(&db, issuer, STAMP, StatusCode::CREATED, move |conn| {
            let (card, event) = Card::stamp(conn, &holder, count, issuer)?;
            Ok(json!({"card": card.view(per_reward), "event": event}))
        })
        .await?;
    if ran_now(&res) {
        metrics.stamps_issued.inc_by(count as u64);
    }
    Ok(res)
}

/// `POST /api/v1/stamps/redemptions`: one free coffee for `stamps_per_reward` stamps.
pub async fn redeem(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    metrics: web::Data<Metrics>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: RedeemRequest = parse(&req, &body)?;
    let holder = match (current.role().is_staff(), input.phone) {
        (false, None) => Holder::User(current.user.id),
        // Nobody redeems someone else's stamps but staff.
        (false, Some(_)) => return Err(ApiError::Forbidden),
        (true, None) => return Err(ApiError::field("phone", FieldCode::Required)),
        (true, Some(raw)) => {
            let phone = fields::with_phone_regions(&config.phone_regions, || {
                let phone = Phone::parse(&raw);
                fields::validate_phone(&phone).map(|()| phone.into_e164())
            });
            let e164 = phone.map_err(|e| ApiError::field("phone", field_code(&e)))?.unwrap_or_default();
            customer(e164, &config)
        }
    };
    let idempotent = Idempotent::new(&req, &body)?;
    let (issuer, per_reward) = (current.user.id, config.stamps_per_reward);
    let res = idempotent
        .run(&db, issuer, REDEEM, StatusCode::CREATED, move |conn| {
            let (card, redemption) = Card::redeem(conn, &holder, per_reward, issuer)?;
            Ok(json!({"redemption": redemption, "card": card.view(per_reward)}))
        })
        .await?;
    if ran_now(&res) {
        metrics.rewards_redeemed.inc();
    }
    Ok(res)
}

/// Whether a 201 was this request's own effect, not a replay of an earlier one.
fn ran_now(res: &HttpResponse) -> bool {
    res.status() == StatusCode::CREATED && !res.headers().contains_key(REPLAYED)
}
