//! Preferences in the `stampcard_prefs` cookie, and the language of messages.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn preferences_default_to_english_and_light_or_follow_accept_language() {
    let app = spawn_app().await;
    let res = app.client().get("/api/v1/preferences").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, json!({"language": "en", "theme": "light"}));
    let res = app
        .client()
        .send(Method::GET, "/api/v1/preferences", None, &[("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")])
        .await;
    assert_eq!(res.body["language"], "ko");
}

#[tokio::test]
async fn putting_preferences_sets_a_readable_year_long_cookie() {
    let app = spawn_app().await;
    let res = app.client().put("/api/v1/preferences", json!({"language": "ko", "theme": "dark"})).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, json!({"language": "ko", "theme": "dark"}));
    let cookie = res.set_cookie("stampcard_prefs").expect("cookie set");
    assert!(
        cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=31536000") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("HttpOnly"), "a SPA may read it: {cookie}");
    let value = cookie.split(';').next().unwrap().to_owned();
    let res = app.client().send(Method::GET, "/api/v1/preferences", None, &[("cookie", &value)]).await;
    assert_eq!(res.body, json!({"language": "ko", "theme": "dark"}));
}

#[tokio::test]
async fn invalid_preferences_are_422() {
    let app = spawn_app().await;
    let res = app.client().put("/api/v1/preferences", json!({"language": "fr", "theme": "dark"})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors()[0].0, "language");
}

#[tokio::test]
async fn the_preference_cookie_decides_the_language_of_problems() {
    let app = spawn_app().await;
    let cookie = [("cookie", "stampcard_prefs=language=ko&theme=light"), ("accept-language", "en")];
    let unauthenticated = app.client().send(Method::GET, "/api/v1/users/me", None, &cookie).await;
    let invalid = app.client().send(Method::POST, "/api/v1/users", Some(json!({"username": "a"})), &cookie).await;
    let english = app.client().post("/api/v1/users", json!({"username": "a"})).await;

    unauthenticated.assert_problem(401, "unauthenticated");
    invalid.assert_problem(422, "validation_failed");
    let hangul =
        |s: &serde_json::Value| s.as_str().unwrap_or("").chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
    assert!(hangul(&unauthenticated.body["title"]) && hangul(&unauthenticated.body["detail"]));
    assert!(hangul(&invalid.body["errors"][0]["message"]), "{}", invalid.text);
    assert_eq!(invalid.field_errors(), english.field_errors(), "codes do not change with the language");
    assert!(!hangul(&english.body["errors"][0]["message"]));
}
