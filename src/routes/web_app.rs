//! The web app for customers, staff and admins, embedded in the binary (`build.rs`) and served
//! from the API's own origin: the page at `/` and at each of the app's own routes
//! (`web/routes.json`, so that a reload of a client-side route works), and its assets under a
//! directory named by their content hash, cached by browsers for good. Every other unknown
//! path is still 404: problem+json, or the app's 404 page for a browser that asks for HTML.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::Resource;
use crate::error::ApiError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_app.rs"));
}

/// Scripts and styles from our own origin only (no inline script can run, whatever is
/// injected), no framing by anyone, no plugins, no `<base>` tricks.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The app's own (client-side) routes, from `web/routes.json`.
pub fn app_routes() -> &'static [&'static str] {
    static ROUTES: OnceLock<Vec<&'static str>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let routes: Vec<String> = serde_json::from_str(embedded::ROUTES_JSON).expect("web/routes.json is a list");
        routes.into_iter().map(|r| &*Box::leak(r.into_boxed_str())).collect()
    })
}

/// Registers the page at each app route and the assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for route in app_routes() {
        cfg.service(Resource::new(route).get(page).build());
    }
    cfg.service(Resource::new("/assets/{hash}/{path:.*}").get(asset).build());
}

/// The page, with its assets' directory filled in.
fn index_html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| embedded::INDEX_HTML.replace("__ASSETS__", embedded::ASSETS_HASH))
}

fn page_response(status: actix_web::http::StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        // The page names its assets by hash: it must be revalidated, they never.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(index_html())
}

/// `GET /` and the app's routes.
async fn page() -> HttpResponse {
    page_response(actix_web::http::StatusCode::OK)
}

/// `GET /assets/{hash}/{path}`: only the current hash; anything else is not found.
async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    static BY_PATH: OnceLock<HashMap<&'static str, &'static [u8]>> = OnceLock::new();
    let assets = BY_PATH.get_or_init(|| embedded::ASSETS.iter().copied().collect());
    let (hash, file) = path.into_inner();
    match assets.get(file.as_str()).filter(|_| hash == embedded::ASSETS_HASH) {
        Some(bytes) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type(&file)))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(*bytes),
        None => not_found(&req),
    }
}

fn content_type(file: &str) -> HeaderValue {
    let kind = match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    HeaderValue::from_static(kind)
}

/// The answer for a path nothing serves: the app's 404 page for a browser navigating to it
/// (its `Accept` prefers HTML to JSON), else the problem. The API's own paths always answer
/// problems.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    let navigating = matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.path().starts_with("/api/")
        && req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(prefers_html);
    if navigating {
        page_response(actix_web::http::StatusCode::NOT_FOUND)
    } else {
        ApiError::NotFound.error_response()
    }
}

/// Whether an `Accept` header prefers `text/html` to JSON, as a browser's navigation does
/// (`text/html,...,*/*;q=0.8`) and `fetch` and curl (`*/*`) do not.
fn prefers_html(accept: &str) -> bool {
    let html = quality(accept, "text/html");
    html > 0.0 && html > quality(accept, "application/json").max(quality(accept, "application/problem+json"))
}

/// The quality an `Accept` header gives `media_type`: that of its most specific matching range.
fn quality(accept: &str, media_type: &str) -> f32 {
    let major = media_type.split('/').next().unwrap_or_default();
    let mut best = (0, 0.0);
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let specificity = if range == media_type {
            3
        } else if range == format!("{major}/*") {
            2
        } else if range == "*/*" {
            1
        } else {
            0
        };
        if specificity > best.0 {
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok())).unwrap_or(1.0);
            best = (specificity, q);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_navigating_prefer_html_and_api_clients_do_not() {
        assert!(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("application/json, text/html;q=0.5"));
        assert!(!prefers_html("text/html;q=0"));
    }

    #[test]
    fn the_embedded_app_is_complete() {
        assert!(app_routes().contains(&"/"));
        assert!(index_html().contains(embedded::ASSETS_HASH) && !index_html().contains("__ASSETS__"));
        for asset in index_html().split(&format!("/assets/{}/", embedded::ASSETS_HASH)).skip(1) {
            let file = asset.split('"').next().unwrap();
            assert!(embedded::ASSETS.iter().any(|(path, _)| *path == file), "index.html names {file}, not embedded");
        }
    }
}
