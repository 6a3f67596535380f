//! Cross-origin protection for unsafe methods, and CORS with credentials for allowed origins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app_with, PASSWORD};

const SPA: &str = "https://app.example.com";

async fn app() -> crate::helpers::TestApp {
    spawn_app_with(|c| c.allowed_origins.0 = vec![SPA.to_owned()]).await
}

fn signup_body(name: &str) -> Option<serde_json::Value> {
    Some(json!({"username": name, "password": PASSWORD}))
}

#[tokio::test]
async fn a_cross_site_unsafe_request_is_refused() {
    let app = app().await;
    let client = app.client();
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")],
    ] {
        let res = client.send(Method::POST, "/api/v1/users", signup_body("victim"), &headers).await;
        res.assert_problem(403, "cross_origin_request");
    }
    assert_eq!(app.count("SELECT count(*) FROM users"), 0, "nothing happened");
}

#[tokio::test]
async fn same_origin_browsers_tools_and_allowed_origins_pass() {
    let app = app().await;
    let client = app.client();
    let own = app.address.clone();
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        ("curl", vec![]),
        ("same", vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")]),
        ("typed", vec![("sec-fetch-site", "none")]),
        ("spa", vec![("origin", SPA), ("sec-fetch-site", "cross-site")]),
    ];
    for (name, headers) in cases {
        let res = client.send(Method::POST, "/api/v1/users", signup_body(&format!("{name}_user")), &headers).await;
        assert_eq!(res.status, StatusCode::CREATED, "{name}: {}", res.text);
    }
}

#[tokio::test]
async fn safe_methods_are_not_refused() {
    let app = app().await;
    let res = app
        .client()
        .send(Method::GET, "/healthz", None, &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("access-control-allow-origin").is_none(), "no CORS for strangers");
    for offered in ["access-control-allow-credentials", "access-control-expose-headers"] {
        assert!(res.header(offered).is_none(), "nothing of CORS for strangers: {offered}");
    }
}

#[tokio::test]
async fn cors_with_credentials_is_granted_to_allowed_origins_only() {
    let app = app().await;
    let client = app.client();
    let preflight = [
        ("origin", SPA),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let res = client.send(Method::OPTIONS, "/api/v1/sessions", None, &preflight).await;
    assert!(res.status.is_success(), "{}", res.status);
    assert_eq!(res.header("access-control-allow-origin"), Some(SPA));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));

    let res = client.send(Method::GET, "/api/v1/preferences", None, &[("origin", SPA)]).await;
    assert_eq!(res.header("access-control-allow-origin"), Some(SPA));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert!(res.header("access-control-expose-headers").is_some_and(|h| h.contains("retry-after")));

    let evil = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
    let res = client.send(Method::OPTIONS, "/api/v1/sessions", None, &evil).await;
    assert!(res.header("access-control-allow-origin").is_none());
    assert_eq!(
        res.header("content-type"),
        Some("application/problem+json"),
        "even a refused preflight is a problem: {}",
        res.text
    );
}
