//! CORS with credentials, for the configured origins only (actix-cors), and nothing of it for
//! anyone else.
//!
//! actix-cors adds `Access-Control-Allow-Credentials` and `Access-Control-Expose-Headers` to
//! every response it passes, whether or not it granted the request's origin. Without
//! `Access-Control-Allow-Origin` a browser ignores them, but an answer to a stranger (or to
//! curl) should not look as if credentials were on offer: [`only_when_granted`] takes them
//! off again.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::Error;

/// The CORS policy: the API's methods and request headers, the response headers a SPA needs
/// to read, credentials, for `allowed_origins`.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["content-type", "idempotency-key", "x-request-id", "accept-language"])
        .expose_headers(["location", "retry-after", "idempotent-replayed", "x-request-id", "allow"])
        .supports_credentials()
        .max_age(600);
    allowed_origins.iter().fold(cors, |cors, origin| cors.allowed_origin(origin))
}

/// Goes around [`cors`]: a response that grants no origin carries no other CORS header.
pub async fn only_when_granted(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    Ok(res)
}
