//! `GET /api/v1/audit`: the audit log, newest first, for admins.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::codes::FieldCode;
use crate::db::Db;
use crate::error::ApiError;
use crate::models::audit::{self, Action, Filter};
use crate::models::page::PageQuery;
use crate::problem::FieldError;
use crate::session::CurrentUser;

/// Paging, and `?actor=` (a user's id) and `?action=` (`user.role_changed`, ...).
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    actor: Option<String>,
    action: Option<String>,
}

/// `GET /api/v1/audit`. An unknown action is a 422, not an empty page: a typo should not look
/// like a quiet log.
pub async fn list(
    current: CurrentUser,
    db: web::Data<Db>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor };
    let (limit, cursor) = (page.limit()?, page.cursor()?);
    let mut errors = Vec::new();
    let actor = query.actor.as_deref().and_then(|actor| {
        let id = actor.parse::<Uuid>().ok();
        if id.is_none() {
            errors.push(FieldError::new("actor", FieldCode::InvalidFormat));
        }
        id
    });
    let action = query.action.as_deref().and_then(|action| {
        let known = action.parse::<Action>().ok();
        if known.is_none() {
            errors.push(FieldError::new("action", FieldCode::InvalidChoice));
        }
        known
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let filter = Filter { actor, action };
    let page = db.run(move |conn| audit::list(conn, &filter, cursor.as_ref(), limit)).await?;
    Ok(HttpResponse::Ok().json(page))
}
