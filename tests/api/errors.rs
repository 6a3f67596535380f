//! The error model: every failure is a problem+json body with a stable code.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let res =
        app.client().send_raw(Method::POST, "/api/v1/users", "application/json", b"{\"username\": ".to_vec()).await;
    res.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn an_unknown_route_is_404() {
    let app = spawn_app().await;
    app.client().get("/api/v1/nothing-here").await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    let res = app.client().send(Method::PUT, "/api/v1/sessions", None, &[]).await;
    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("POST, GET, HEAD, DELETE"));
    let res = app.client().send(Method::DELETE, "/healthz", None, &[]).await;
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = spawn_app().await;
    let big = serde_json::to_vec(&json!({"username": "x".repeat(17 * 1024), "password": "p"})).unwrap();
    let res = app.client().send_raw(Method::POST, "/api/v1/users", "application/json", big).await;
    res.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let res = app.client().send_raw(Method::POST, "/api/v1/sessions", "text/plain", b"username=kim".to_vec()).await;
    res.assert_problem(415, "unsupported_media_type");
    let res = app
        .client()
        .send_raw(Method::POST, "/api/v1/sessions", "application/x-www-form-urlencoded", b"a=b".to_vec())
        .await;
    res.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn validation_failures_are_422_per_field() {
    let app = spawn_app().await;
    let res = app.client().post("/api/v1/users", json!({"username": "ab", "password": 12345678})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        [("password".to_owned(), "invalid_type".to_owned()), ("username".to_owned(), "too_short".to_owned())],
        "a type error and a rule broken, in one answer"
    );
    let res =
        app.client().post("/api/v1/users", json!({"username": "abc", "password": "x", "phone": 1012345678})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        [("password".to_owned(), "too_short".to_owned()), ("phone".to_owned(), "invalid_type".to_owned())]
    );
    let res = app.client().post("/api/v1/users", json!({"username": "ab", "email": "nope"})).await;
    res.assert_problem(422, "validation_failed");
    let mut fields = res.field_errors();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("email".into(), "invalid_email".into()),
            ("password".into(), "required".into()),
            ("username".into(), "too_short".into())
        ]
    );
    assert!(res.body["errors"][0]["message"].is_string());
}

#[tokio::test]
async fn a_query_parameter_of_the_wrong_type_is_400() {
    let app = spawn_app().await;
    let client = app.customer("querier", None).await;
    client.get("/api/v1/sessions?limit=abc").await.assert_problem(400, "malformed_request");
    client.get("/api/v1/sessions?limit=0").await.assert_problem(400, "malformed_request");
    client.get("/api/v1/sessions?limit=101").await.assert_problem(400, "malformed_request");
    client.get("/api/v1/sessions?cursor=not-a-cursor").await.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_panicking_handler_is_an_opaque_500_and_the_worker_survives() {
    let app = spawn_app().await;
    let res = app.client().get("/test/panic").await;
    res.assert_problem(500, "internal_error");
    assert!(!res.text.contains("a handler bug"), "no internals leak: {}", res.text);
    // The app runs a single worker: it must still answer.
    assert_eq!(app.client().get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn korean_is_spoken_on_request_and_codes_stay_the_same() {
    let app = spawn_app().await;
    let client = app.client();
    let en = client.get("/api/v1/users/me").await;
    let ko = client.send(Method::GET, "/api/v1/users/me", None, &[("accept-language", "ko-KR,ko;q=0.9")]).await;
    ko.assert_problem(401, "unauthenticated");
    assert_eq!(en.body["code"], ko.body["code"]);
    assert_ne!(en.body["title"], ko.body["title"]);
    assert!(ko.body["title"].as_str().unwrap().chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{}", ko.text);
}

#[tokio::test]
async fn a_nul_character_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    let res = app.client().post("/api/v1/sessions", json!({"username": "a\u{0}bc", "password": "x"})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("username".to_owned(), "invalid_characters".to_owned())]);
    let admin = app.user_with_role("boss", "admin").await;
    admin.get("/api/v1/users?q=a%00").await.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn answers_given_before_a_route_runs_carry_every_header_and_the_preferred_language() {
    let app = spawn_app().await;
    let client = app.client();
    let big = serde_json::to_vec(&json!({"username": "x".repeat(17 * 1024)})).unwrap();
    let ko = [("accept-language", "ko")];
    let answers = [
        (
            client
                .send(Method::POST, "/api/v1/users", Some(json!({})), &[("origin", "https://evil.example"), ko[0]])
                .await,
            403,
        ),
        (client.send_raw_with(Method::POST, "/api/v1/sessions", "application/json", big, &ko).await, 413),
        (client.send_raw_with(Method::POST, "/api/v1/sessions", "text/plain", b"x".to_vec(), &ko).await, 415),
    ];
    for (res, status) in answers {
        assert_eq!(res.status.as_u16(), status, "{}", res.text);
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{status}");
        assert_eq!(res.header("cache-control"), Some("no-store"), "{status}");
        assert!(res.header("x-request-id").is_some_and(|id| !id.is_empty()), "{status}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{status}");
        let title = res.body["title"].as_str().unwrap_or_default();
        assert!(title.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{status} in Korean: {}", res.text);
    }
}

#[tokio::test]
async fn one_422_names_every_bad_field() {
    let app = spawn_app().await;
    let res = app.client().post("/api/v1/users", json!({"username": "ab", "password": "short"})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        [("password".to_owned(), "too_short".to_owned()), ("username".to_owned(), "too_short".to_owned())]
    );
    let res = app.client().post("/api/v1/users", json!({"username": 1, "password": [], "phone": "12"})).await;
    assert_eq!(
        res.field_errors(),
        [
            ("password".to_owned(), "invalid_type".to_owned()),
            ("phone".to_owned(), "invalid_phone".to_owned()),
            ("username".to_owned(), "invalid_type".to_owned())
        ]
    );
    let client = app.customer("changer", None).await;
    let res = client.put("/api/v1/users/me/password", json!({"new_password": "1234567890"})).await;
    assert_eq!(
        res.field_errors(),
        [
            ("current_password".to_owned(), "required".to_owned()),
            ("new_password".to_owned(), "entirely_numeric".to_owned())
        ]
    );
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let app = spawn_app().await;
    let client = app.customer("header", None).await;
    for path in ["/healthz", "/api/v1/stamps", "/api/v1/users/me", "/openapi.yaml"] {
        let get = client.get(path).await;
        let head = client.send(Method::HEAD, path, None, &[]).await;
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(head.header("content-type"), get.header("content-type"), "{path}");
        assert!(head.text.is_empty(), "no body for HEAD {path}");
    }
    let anonymous = app.client().send(Method::HEAD, "/api/v1/users/me", None, &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let res = client.send(Method::HEAD, "/api/v1/stamps/redemptions", None, &[]).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), Some("POST"));
}
