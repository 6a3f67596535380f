//! Refuses unsafe requests before any handler runs: cross-site ones (CSRF defence, 403), and
//! bodies that are too large (413) or not JSON (415). Safe methods pass untouched.
//!
//! Ours on purpose: actix-cors answers preflights and adds headers, but does not refuse a
//! simple cross-site POST; the contract's rule (Sec-Fetch-Site, then Origin) is a few lines.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::config::Config;
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;

/// A refusal is answered here, as a response rather than an error, so that it still passes
/// through the middleware outside this one (problem rendering in the client's language, the
/// request log and the headers every response carries).
pub async fn request_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE) {
        let allowed = &req.app_data::<web::Data<Config>>().expect("Config is registered").allowed_origins.0;
        if let Err(refusal) = check_same_origin(&req, allowed).and_then(|()| check_body(&req)) {
            return Ok(req.error_response(refusal).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The contract's rule: `Sec-Fetch-Site` other than same-origin/none is cross-site unless the
/// `Origin` is allowed; any `Origin` (even `null`) must be ours or an allowed one. Requests
/// with neither header (curl, Postman, servers) pass: CSRF needs a browser.
fn check_same_origin(req: &ServiceRequest, allowed: &[String]) -> Result<(), ApiError> {
    let origin = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null").to_ascii_lowercase());
    let origin_allowed = origin.as_deref().is_some_and(|o| allowed.iter().any(|a| a == o));
    if let Some(site) = req.headers().get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") && !origin_allowed {
            return Err(ApiError::CrossOrigin);
        }
    }
    if let Some(origin) = origin {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let own =
            origin.split_once("://").is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest == host);
        if !own && !origin_allowed {
            return Err(ApiError::CrossOrigin);
        }
    }
    Ok(())
}

fn check_body(req: &ServiceRequest) -> Result<(), ApiError> {
    let headers = req.headers();
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if length.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let has_body = length.map_or(headers.contains_key(header::TRANSFER_ENCODING), |n| n > 0);
    if has_body && !is_json(headers.get(header::CONTENT_TYPE)) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// `application/json` or any `application/*+json`, parameters (charset) allowed.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(essence) = content_type.and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()) else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}
