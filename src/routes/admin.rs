//! Admin-only account management: search users, change a role, (de)activate.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::client_ip::ClientIp;
use crate::codes::FieldCode;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::fields::{normalise_username, parse_phone, username_key};
use crate::models::audit::Actor;
use crate::models::page::PageQuery;
use crate::models::user::{Role, User, UserView};
use crate::session::CurrentUser;

/// `?q=&limit=&cursor=` (serde's `flatten` would lose the number types of a query string).
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/users?q=`: a username prefix, or a phone prefix in any input format.
pub async fn list(
    current: CurrentUser,
    db: web::Data<Db>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor };
    let (limit, cursor) = (page.limit()?, page.cursor()?);
    if query.q.as_deref().is_some_and(|q| q.contains('\0')) {
        return Err(ApiError::MalformedRequest("q must not contain NUL".into()));
    }
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let username_prefix = q.map(|q| username_key(&normalise_username(q)));
    let phone_prefix = q.and_then(phone_prefix);
    let page = db
        .run(move |conn| {
            User::search(conn, username_prefix.as_deref(), phone_prefix.as_deref(), cursor.as_ref(), limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.map(|u| UserView::from(&u))))
}

/// The E.164 prefix a partial phone number stands for: `010-1234` means `+82101234`.
fn phone_prefix(q: &str) -> Option<String> {
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || !q.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c)) {
        return None;
    }
    if let Some(full) = parse_phone(q) {
        return Some(full.e164);
    }
    Some(match (q.trim_start().starts_with('+'), digits.strip_prefix('0')) {
        (true, _) => format!("+{digits}"),
        (false, Some(national)) => format!("+82{national}"),
        (false, None) => format!("+{digits}"),
    })
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct UserPatch {
    #[validate(custom(function = "valid_role"))]
    role: Option<String>,
    is_active: Option<bool>,
}

fn valid_role(role: &str) -> Result<(), ValidationError> {
    Role::parse(role).map(|_| ()).ok_or_else(|| FieldCode::InvalidChoice.error())
}

/// `PATCH /api/v1/users/{id}`: role and activity; deactivation revokes every session, and
/// no change may leave the service without an active admin (409 `last_admin`). Every admin
/// change needs a recent password proof in this session (403 `reauthentication_required`).
pub async fn update(
    current: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    current.require_recent_proof(config.reauth_window())?;
    let role = body.role.as_deref().and_then(Role::parse);
    let actor = Actor::user(current.user.id, ip);
    let user = db.run(move |conn| User::change_standing(conn, actor, id, role, body.is_active)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}
