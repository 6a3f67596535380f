//! `/api/v1/stamps`: the loyalty card. Staff and admins stamp and redeem at the counter, by the
//! card code the customer's screen shows or by phone; customers read their own card, its
//! history and its live stream, and make card codes; mistakes are voided, never deleted.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::auth::client_ip::ClientIp;
use crate::codes::FieldCode;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::{parse, present, ApiJson};
use crate::fields::{self, allowed_phone, FieldErrors, Phone};
use crate::idempotency::Idempotent;
use crate::metrics::Metrics;
use crate::models::audit::{self, Action, Actor};
use crate::models::card::{Card, Event, Holder};
use crate::models::card_code;
use crate::models::limit::{self, Hit};
use crate::models::page::PageQuery;
use crate::session::CurrentUser;
use crate::stream::{card_event, Hub};

/// `?phone=` or `?card_code=` on the reading endpoints (staff and admins).
#[derive(Debug, Deserialize)]
pub struct CardQuery {
    phone: Option<String>,
    card_code: Option<String>,
}

/// Whose card a staff request names: exactly one of a phone and a card code.
trait NamesCustomer {
    fn phone(&self) -> Option<&Phone>;
    fn card_code(&self) -> Option<&str>;

    fn check_customer(&self, errors: &mut FieldErrors) {
        match (self.phone(), self.card_code()) {
            (Some(phone), None) => errors.optional("phone", Some(phone), fields::validate_phone),
            (None, Some(code)) => errors.optional("card_code", Some(code), eight_digits),
            _ => {
                errors.add("phone", FieldCode::OneOf);
                errors.add("card_code", FieldCode::OneOf);
            }
        }
    }

    /// The customer it names, by the configured rule for who holds a phone.
    fn holder(&self, config: &Config) -> Holder {
        match (self.phone().and_then(Phone::e164), self.card_code()) {
            (_, Some(code)) => Holder::CardCode(code.to_owned()),
            (phone, None) => customer(phone.unwrap_or_default().to_owned(), config),
        }
    }
}

/// A card code as the customer's screen shows it: eight digits.
fn eight_digits(code: &str) -> Result<(), ValidationError> {
    if code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldCode::InvalidFormat.error())
    }
}

/// `POST /api/v1/stamps`.
#[derive(Debug, Deserialize)]
pub struct StampRequest {
    phone: Option<Phone>,
    card_code: Option<String>,
    /// Any JSON value, checked by hand: `"1"`, `1.5` or `null` must be a 422 naming `count`,
    /// and an absent count (`None`) must differ from `null` (`Some(Value::Null)`).
    #[serde(default, deserialize_with = "present")]
    count: Option<Value>,
}

impl NamesCustomer for StampRequest {
    fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    fn card_code(&self) -> Option<&str> {
        self.card_code.as_deref()
    }
}

impl Validate for StampRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        self.check_customer(&mut errors);
        errors.optional("count", self.count.as_ref(), valid_count);
        errors.finish()
    }
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
    fn count(&self) -> i32 {
        // Validated: absent or a number in 1..=10.
        self.count.as_ref().and_then(Value::as_f64).map_or(1, |n| n as i32)
    }
}

/// `POST /api/v1/stamps/redemptions`: the customer, by phone (unless
/// `STAMPCARD_REDEEM_BY_PHONE` is off) or card code.
#[derive(Debug, Default, Deserialize)]
pub struct RedeemRequest {
    phone: Option<Phone>,
    card_code: Option<String>,
}

impl NamesCustomer for RedeemRequest {
    fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    fn card_code(&self) -> Option<&str> {
        self.card_code.as_deref()
    }
}

impl Validate for RedeemRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        self.check_customer(&mut errors);
        errors.finish()
    }
}

/// The customer with this phone (E.164), by the configured rule for who holds a phone.
fn customer(phone: String, config: &Config) -> Holder {
    Holder::Customer { phone, verified_only: config.require_verified_phone }
}

/// The card a read is about: one's own, or for staff and admins, a customer's by `?phone=` or
/// `?card_code=`. A phone that does not parse, or is of another region, cannot be anybody's,
/// hence 404 rather than 422.
fn read_target(current: &CurrentUser, query: &CardQuery, config: &Config) -> Result<Holder, ApiError> {
    match (query.phone.as_deref(), query.card_code.as_deref()) {
        (None, None) => Ok(Holder::User(current.user.id)),
        _ if !current.role().is_staff() => Err(ApiError::Forbidden),
        (Some(_), Some(_)) => Err(ApiError::MalformedRequest("give phone or card_code, not both".into())),
        (Some(raw), None) => allowed_phone(raw, &config.phone_regions)
            .map(|e164| customer(e164, config))
            .ok_or(ApiError::CustomerNotFound),
        (None, Some(code)) if eight_digits(code).is_ok() => Ok(Holder::CardCode(code.to_owned())),
        (None, Some(_)) => Err(ApiError::CardCodeNotFound),
    }
}

/// A staff or admin account presenting a card code: counted as a miss before the code is
/// looked up (429 past twenty misses in ten minutes, whatever the code, so that guessing a live
/// code is hopeless even in a burst), and taken back in [`settle`] when the code was live.
async fn count_presentation(db: &Db, holder: &Holder, staff: Uuid) -> Result<Option<Hit>, ApiError> {
    if !matches!(holder, Holder::CardCode(_)) {
        return Ok(None);
    }
    let rates = limit::UNKNOWN_CARD_CODES_PER_ACCOUNT.rates;
    let hit = db.run(move |conn| limit::UNKNOWN_CARD_CODES_PER_ACCOUNT.take(conn, &staff.to_string(), rates)).await?;
    Ok(Some(hit))
}

/// Takes back a presented card code's miss, unless the code was unknown, expired or used.
fn settle<T>(conn: &mut diesel::PgConnection, hit: Option<Hit>, result: &Result<T, ApiError>) -> Result<(), ApiError> {
    match hit {
        Some(hit) if !matches!(result, Err(ApiError::CardCodeNotFound)) => limit::release(conn, hit),
        _ => Ok(()),
    }
}

/// A replayed answer presented no code of its own: its count is taken back.
async fn replayed(db: &Db, hit: Option<Hit>, replay: bool) -> Result<(), ApiError> {
    match hit {
        Some(hit) if replay => db.run(move |conn| limit::release(conn, hit)).await,
        _ => Ok(()),
    }
}

/// `GET /api/v1/stamps`.
pub async fn card(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    query: web::Query<CardQuery>,
) -> Result<HttpResponse, ApiError> {
    let holder = read_target(&current, &query, &config)?;
    let hit = count_presentation(&db, &holder, current.user.id).await?;
    let card = db
        .run(move |conn| {
            let card = Card::load(conn, &holder);
            settle(conn, hit, &card)?;
            card
        })
        .await?;
    Ok(HttpResponse::Ok().json(card.view(config.stamps_per_reward)))
}

/// `GET /api/v1/stamps/events`: the history, newest first. Who made each event is shown to
/// staff and admins only.
pub async fn events(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    query: web::Query<CardQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = (page.limit()?, page.cursor()?);
    let holder = read_target(&current, &query, &config)?;
    let hit = count_presentation(&db, &holder, current.user.id).await?;
    let page = db
        .run(move |conn| {
            let page = Event::page(conn, &holder, cursor.as_ref(), limit);
            settle(conn, hit, &page)?;
            page
        })
        .await?;
    let show_by = current.role().is_staff();
    Ok(HttpResponse::Ok().json(page.map(|e| e.view(show_by))))
}

/// `POST /api/v1/stamps`: staff and admins stamp a customer's card.
pub async fn stamp(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    metrics: web::Data<Metrics>,
    hub: web::Data<Hub>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    current.require_staff()?;
    let input: StampRequest = parse(&req, &body)?;
    let idempotent = Idempotent::new(&req, &body)?;
    let (count, holder) = (input.count(), input.holder(&config));
    let (issuer, per_reward) = (current.user.id, config.stamps_per_reward);
    let hit = count_presentation(&db, &holder, issuer).await?;
    let (res, ran) = idempotent
        .run(&db, issuer, endpoint(&req), StatusCode::CREATED, move |conn| {
            let stamped = Card::stamp(conn, &holder, count, issuer);
            settle(conn, hit, &stamped)?;
            let (card, event) = stamped?;
            Ok((json!({"card": card.view(per_reward), "event": event.view(true)}), card.user_id))
        })
        .await?;
    if let Some(holder) = ran {
        metrics.stamps_issued.inc_by(count as u64);
        hub.announce(holder);
    }
    replayed(&db, hit, ran.is_none()).await?;
    Ok(res)
}

/// `POST /api/v1/stamps/redemptions`: one free coffee for `stamps_per_reward` stamps, at the
/// counter: staff and admins redeem, by the customer's card code (which it uses up) or phone;
/// customers do not redeem their own card (a screenshot could).
pub async fn redeem(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    metrics: web::Data<Metrics>,
    hub: web::Data<Hub>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    current.require_staff()?;
    let input: RedeemRequest = parse(&req, &body)?;
    if input.phone.is_some() && !config.redeem_by_phone {
        return Err(ApiError::field("phone", FieldCode::NotAccepted));
    }
    let idempotent = Idempotent::new(&req, &body)?;
    let holder = input.holder(&config);
    let (issuer, per_reward) = (current.user.id, config.stamps_per_reward);
    let hit = count_presentation(&db, &holder, issuer).await?;
    let (res, ran) = idempotent
        .run(&db, issuer, endpoint(&req), StatusCode::CREATED, move |conn| {
            let redeemed = Card::redeem(conn, &holder, per_reward, issuer);
            settle(conn, hit, &redeemed)?;
            let (card, redemption) = redeemed?;
            Ok((json!({"redemption": redemption, "card": card.view(per_reward)}), card.user_id))
        })
        .await?;
    if let Some(holder) = ran {
        metrics.rewards_redeemed.inc();
        hub.announce(holder);
    }
    replayed(&db, hit, ran.is_none()).await?;
    Ok(res)
}

/// `POST /api/v1/stamps/events/{id}/void`.
#[derive(Debug, Default, Deserialize)]
pub struct VoidRequest {
    reason: Option<String>,
}

impl Validate for VoidRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        errors.optional("reason", self.reason.as_deref(), |reason| {
            if reason.chars().count() <= 200 {
                Ok(())
            } else {
                Err(FieldCode::TooLong.error())
            }
        });
        errors.finish()
    }
}

/// `POST /api/v1/stamps/events/{id}/void`: takes an event back with a compensating event.
/// Staff void their own events within ten minutes, admins any; see `Card::void` for the rules.
pub async fn void(
    req: HttpRequest,
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    metrics: web::Data<Metrics>,
    hub: web::Data<Hub>,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    current.require_staff()?;
    let event_id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let input: VoidRequest = parse(&req, &body)?;
    let idempotent = Idempotent::new(&req, &body)?;
    let (voider, is_admin, per_reward) =
        (current.user.id, current.role() == crate::models::user::Role::Admin, config.stamps_per_reward);
    let reason = input.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let (res, ran) = idempotent
        .run(&db, voider, endpoint(&req), StatusCode::CREATED, move |conn| {
            use diesel::Connection;
            // Its own transaction when the key did not make one: the voided event stays locked
            // from its check to its void, and the void and its audit entry commit together.
            let (card, event) = conn.transaction(|conn| {
                let (card, event) = Card::void(conn, event_id, voider, is_admin, reason.as_deref())?;
                let detail = json!({"event": event_id, "void": event.id, "count": event.count, "reason": event.reason});
                audit::record(conn, Actor::user(voider, ip), Action::StampVoided, Some(card.user_id), detail)?;
                Ok::<_, ApiError>((card, event))
            })?;
            Ok((json!({"event": event.view(true), "card": card.view(per_reward)}), card.user_id))
        })
        .await?;
    if let Some(holder) = ran {
        metrics.stamps_voided.inc();
        hub.announce(holder);
    }
    Ok(res)
}

/// `POST /api/v1/stamps/card-code`: a new code for the caller's own card, ending the previous
/// one; 429 past twenty codes per card per ten minutes.
pub async fn card_code(
    current: CurrentUser,
    db: web::Data<Db>,
    ApiJson(_): ApiJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    use diesel::Connection;
    let user_id = current.user.id;
    let (code, expires_at) = db.run(move |conn| conn.transaction(|conn| card_code::issue(conn, user_id))).await?;
    let expires_at = crate::time_format::rfc3339(&expires_at);
    Ok(HttpResponse::Created().json(json!({"code": code, "expires_at": expires_at})))
}

/// A body with no fields of its own: none, or `{}`; anything else in it is ignored.
#[derive(Debug, Default, Deserialize, Validate)]
pub struct NoFields {}

/// `GET /api/v1/stamps/stream`: the caller's own card as Server-Sent Events, the card as it is
/// first, then at each change (see `stream`).
pub async fn stream(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    hub: web::Data<Hub>,
) -> Result<HttpResponse, ApiError> {
    let user_id = current.user.id;
    // Open first, then read: a change in between comes after the card that already shows it.
    let changes = hub.open(user_id, current.session.id);
    let card = db.run(move |conn| Card::load(conn, &Holder::User(user_id))).await?;
    let first = card_event(&card.view(config.stamps_per_reward));
    let events = futures_util::stream::once(std::future::ready(Ok(first))).chain(changes);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        // No buffering proxy should hold an event back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events))
}

/// The idempotency scope of an unsafe request: its method and path (a void's path names its
/// event, so one key may serve the voids of two events).
fn endpoint(req: &HttpRequest) -> String {
    format!("{} {}", req.method(), req.path())
}
