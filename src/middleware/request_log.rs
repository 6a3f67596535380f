//! One log line per request (method, path, status, latency, request id), and the request id
//! on every response. Only the path is logged: query strings may hold search terms, and headers
//! hold cookies, so neither is ever written out.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::problem::Problem;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.path());
    let mut res = next.call(req).instrument(span.clone()).await?;
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    // The route's template (`/api/v1/users/{id}`), never the path itself: a metric label per
    // path would grow without end.
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
        metrics.observe_request(res.request().method().as_str(), &route, status, seconds);
        // Every refusal of a limit, wherever it was decided, is counted here once.
        if let Some(limit) = res.response().extensions().get::<Problem>().and_then(|p| p.limit) {
            metrics.limit_refusals.with_label_values(&[limit]).inc();
        }
    }
    // Hundredths of a millisecond are plenty, and a number in JSON logs.
    let duration_ms = (seconds * 100_000.0).round() / 100.0;
    span.in_scope(|| tracing::info!(route, status, duration_ms, "request"));
    Ok(res)
}
