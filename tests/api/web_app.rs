//! The web app, served by the binary: the page on its own routes, hashed assets cached for
//! good, and 404s that a browser can show.

use reqwest::{Method, StatusCode};

use crate::helpers::spawn_app;

const NAVIGATION: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn the_page_is_served_on_every_route_of_the_app_with_its_security_headers() {
    let app = spawn_app().await;
    let client = app.client();
    let routes: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/web/routes.json")).unwrap(),
    )
    .unwrap();
    assert!(routes.contains(&"/".to_owned()));
    for route in &routes {
        for method in [Method::GET, Method::HEAD] {
            let res = client.send(method.clone(), route, None, &[("accept", NAVIGATION)]).await;
            assert_eq!(res.status, StatusCode::OK, "{method} {route}");
            assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
            let csp = res.header("content-security-policy").unwrap_or_default();
            for directive in ["script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"] {
                assert!(csp.contains(directive), "{route}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert_eq!(res.header("referrer-policy"), Some("same-origin"));
            assert_eq!(res.header("cache-control"), Some("no-cache"));
            assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        }
    }
    let res = client.send(Method::POST, "/", None, &[]).await;
    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn assets_live_under_their_content_hash_and_are_cached_for_good() {
    let app = spawn_app().await;
    let client = app.client();
    let page = client.get("/").await.text;
    let script = page.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script in the page");
    let hash = script.strip_prefix("/assets/").and_then(|s| s.split('/').next()).expect("a hashed directory");
    assert!(hash.len() >= 8 && hash.chars().all(|c| c.is_ascii_alphanumeric()), "{hash}");
    let res = client.get(script).await;
    assert_eq!(res.status, StatusCode::OK, "{script}");
    assert!(res.header("content-type").unwrap_or_default().contains("javascript"));
    assert_eq!(res.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(!res.text.is_empty());
    let stale = script.replace(hash, "0123456789abcdef");
    client.get(&stale).await.assert_problem(404, "not_found");
    client.get(&format!("/assets/{hash}/no-such-file.js")).await.assert_problem(404, "not_found");
    client.get(&format!("/assets/{hash}/../Cargo.toml")).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_unknown_path_is_the_apps_404_page_for_a_browser_and_a_problem_for_everyone_else() {
    let app = spawn_app().await;
    let client = app.client();
    let res = client.send(Method::GET, "/no-such-page", None, &[("accept", NAVIGATION)]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(res.header("content-security-policy").is_some());
    assert!(res.text.contains("<html"), "the app's page");
    client.get("/no-such-page").await.assert_problem(404, "not_found");
    let api = client.send(Method::GET, "/api/v1/no-such-thing", None, &[("accept", NAVIGATION)]).await;
    api.assert_problem(404, "not_found");
    let slash = client.send(Method::GET, "/card/", None, &[("accept", "application/json")]).await;
    slash.assert_problem(404, "not_found");
}
