//! Makes every error answer a problem document in the client's language: handler errors are
//! re-rendered in Korean when asked, errors made outside our code (actix, actix-cors,
//! actix-session) get a generic problem body, and a panicking handler becomes an opaque 500
//! while the worker lives on. Ours on purpose: actix renders errors as plain text, and no
//! crate renders RFC 9457 problems in the client's language at the edge of the app.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, ResponseError};
use futures_util::FutureExt;

use crate::config::Config;
use crate::error::ApiError;
use crate::preferences::Lang;
use crate::problem::Problem;
use crate::session;

/// Where the routed request is kept for the error paths below. actix panics if an
/// `HttpRequest` is cloned before routing is done, so the clone is taken after it, by
/// [`keep_request`] around every resource.
#[derive(Clone, Default)]
struct RequestSlot(Rc<RefCell<Option<HttpRequest>>>);

/// Resource-level middleware: hands the routed request to [`problems`].
pub async fn keep_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(slot) = req.extensions().get::<RequestSlot>() {
        *slot.0.borrow_mut() = Some(req.request().clone());
    }
    next.call(req).await
}

pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let slot = RequestSlot::default();
    req.extensions_mut().insert(slot.clone());
    let outcome = AssertUnwindSafe(next.call(req)).catch_unwind().await;
    let routed = slot.0.borrow_mut().take();
    let err = match (outcome, routed) {
        (Ok(Ok(res)), _) => return Ok(localise(res.map_into_boxed_body())),
        (Ok(Err(err)), Some(req)) => {
            // actix-session answers any store failure with a plain 500; one that was the
            // database being out of reach is the contract's 503.
            let outage = session::unavailable().filter(|_| err.as_response_error().status_code().is_server_error());
            let res = if let Some(why) = outage {
                ApiError::Unavailable(why).error_response()
            } else {
                tracing::error!(error = %err, "error outside a handler");
                err.error_response()
            };
            return Ok(localise(ServiceResponse::new(req, res)));
        }
        (Ok(Err(err)), None) => err,
        (Err(panic), routed) => {
            let what =
                panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            tracing::error!(panic = what.as_deref().unwrap_or("?"), "handler panicked");
            let err = ApiError::Internal(anyhow::anyhow!("panic"));
            match routed {
                Some(req) => return Ok(localise(ServiceResponse::new(req, err.error_response()))),
                None => err.into(),
            }
        }
    };
    // Failed before routing, so no request to answer with: actix renders the error itself.
    Err(err)
}

/// Renders our problems in the client's language, and replaces any other error body.
fn localise(mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    if status == StatusCode::UNAUTHORIZED {
        // Every 401 names the credential it wants: the session cookie (RFC 9110 requires the
        // header; the scheme is informal, as for any cookie-based API).
        let cookie =
            res.request().app_data::<web::Data<Config>>().map_or(session::SESSION_COOKIE, |c| session::cookie_name(c));
        let challenge = format!(r#"Cookie realm="stampcard", cookie-name="{cookie}""#);
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("ASCII"));
    }
    let lang = Lang::of(res.request());
    let ours = res.response().extensions().get::<Problem>().cloned();
    let problem = match ours {
        Some(_) if lang == Lang::En => return res,
        Some(problem) => problem,
        None if res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json") => return res,
        // An HTML page is an answer of its own: the web app's 404 page for a browser.
        None if res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html")) => {
            return res
        }
        None => Problem::for_status(status),
    };
    let (req, old) = res.into_parts();
    let mut new = problem.render(lang);
    // Keep what was set for a reason (Allow, WWW-Authenticate, CORS, cookies).
    for (name, value) in old.headers() {
        if !new.headers().contains_key(name) && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}
