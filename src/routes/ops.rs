//! Operations endpoints: liveness, readiness and the OpenAPI document.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::Db;
use crate::error::ApiError;

/// The repository's `openapi.yaml`, embedded at build time.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// `GET /healthz`: the process runs.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers within a second. Any failure is "not ready" (503),
/// never a 500: the probe exists to say exactly that.
pub async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    db.ping(Duration::from_secs(1)).await.map_err(|e| match e {
        ApiError::Unavailable(why) => ApiError::Unavailable(why),
        other => ApiError::Unavailable(other.to_string()),
    })?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

/// `GET /openapi.yaml`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/yaml").body(OPENAPI_YAML)
}
