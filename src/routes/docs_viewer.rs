//! `GET /docs`: `openapi.yaml` rendered as a reference to read and try, by Swagger UI
//! (`swagger-ui-dist`, vendored in `web/docs/assets/swagger-ui/` and embedded by `build.rs`, so
//! no CDN). Its page loads the viewer and a small script of ours that points it at the server's
//! own `/openapi.yaml`; the assets live under a directory named by their content hash, cached
//! for good, like the web app's.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::web_app::not_found;
use super::Resource;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/docs_viewer.rs"));
}

/// The page's own policy: `'self'` and what Swagger UI needs, nothing more (a browser test
/// fails on any violation, `tests/browser/specs/docs.spec.js`).
/// - `script-src 'self'`: the bundle and our init script; no inline script, no `eval`.
/// - `style-src 'self'`: the stylesheet. (Swagger UI's React components set their styles
///   through the DOM, which a policy does not restrict; no inline `style` attribute is needed.)
/// - `img-src 'self' data:`: the stylesheet's icons are `data:` URLs (without `data:`, Chromium
///   reports `img-src` violations from the stylesheet and the bundle).
/// - `connect-src 'self'`: the document and "Try it out" requests, to this origin only.
/// - `default-src 'none'`: fonts, frames, workers, media, manifests: not needed; `base-uri` and
///   `form-action` are not covered by `default-src`, so they are closed one by one.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Registers the viewer's assets (the page itself is a resource of [`super::resources`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Resource::new("/docs/assets/{hash}/{path:.*}").get(asset).build());
}

/// The page, with its assets' directory filled in.
fn index_html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| embedded::INDEX_HTML.replace("__ASSETS__", embedded::ASSETS_HASH))
}

/// `GET /docs`.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        // The page names its assets by hash: it must be revalidated, they never.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(index_html())
}

/// `GET /docs/assets/{hash}/{path}`: only the current hash; anything else is not found.
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

/// Scripts, styles, and the licences that come with Swagger UI (`LICENSE`, `NOTICE`, `*.txt`).
fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_embedded_assets_and_no_other_document() {
        let page = index_html();
        let prefix = format!("/docs/assets/{}/", embedded::ASSETS_HASH);
        let named: Vec<&str> = page.split(&prefix).skip(1).map(|s| s.split('"').next().unwrap()).collect();
        assert_eq!(named.len(), 3, "{page}");
        for file in named {
            assert!(embedded::ASSETS.iter().any(|(path, _)| *path == file), "index.html names {file}, not embedded");
        }
        let init = embedded::ASSETS.iter().find(|(path, _)| *path == "init.js").expect("init.js").1;
        let init = std::str::from_utf8(init).unwrap();
        assert!(init.contains("url: '/openapi.yaml'") && init.contains("queryConfigEnabled: false"), "{init}");
        assert!(!init.contains("configUrl:") && !init.contains("urls:"), "{init}");
    }
}
