//! The Users table of the contract: signup, profile, password change, account deletion.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

#[tokio::test]
async fn signup_creates_a_logged_in_customer_and_points_to_me() {
    let app = spawn_app().await;
    let client = app.client();

    let res = client
        .post(
            "/api/v1/users",
            json!({"username": "Minji", "password": PASSWORD, "email": "minji@example.com", "phone": "010-1234-5678"}),
        )
        .await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.header("location"), Some("/api/v1/users/me"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let user = &res.body;
    assert_eq!(user["username"], "Minji");
    assert_eq!(user["email"], "minji@example.com");
    assert_eq!(user["phone"], "+821012345678");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["is_active"], true);
    assert!(user.get("password_hash").is_none() && !res.text.contains(PASSWORD));
    let cookie = res.set_cookie("stampcard_session").expect("signup logs in");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Max-Age") && !cookie.contains("Secure"), "a dev-mode browser-session cookie: {cookie}");
    assert_eq!(client.get("/api/v1/users/me").await.body["id"], user["id"]);
}

#[tokio::test]
async fn a_role_sent_at_signup_is_ignored() {
    let app = spawn_app().await;
    let res =
        app.client().post("/api/v1/users", json!({"username": "sneaky", "password": PASSWORD, "role": "admin"})).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.body["role"], "customer");
}

#[tokio::test]
async fn usernames_emails_and_phones_are_unique() {
    let app = spawn_app().await;
    app.client()
        .post(
            "/api/v1/users",
            json!({"username": "Jisoo", "password": PASSWORD, "email": "j@example.com", "phone": "01012345678"}),
        )
        .await;

    let same_name = app.client().post("/api/v1/users", json!({"username": "JISOO", "password": PASSWORD})).await;
    let full_width = app.client().post("/api/v1/users", json!({"username": "ｊｉｓｏｏ", "password": PASSWORD})).await;
    let same_email = app
        .client()
        .post("/api/v1/users", json!({"username": "other1", "password": PASSWORD, "email": "J@example.com"}))
        .await;
    let same_phone = app
        .client()
        .post("/api/v1/users", json!({"username": "other2", "password": PASSWORD, "phone": "+82 10 1234 5678"}))
        .await;

    same_name.assert_problem(409, "username_taken");
    full_width.assert_problem(409, "username_taken");
    same_email.assert_problem(409, "email_taken");
    same_phone.assert_problem(409, "phone_taken");
}

#[tokio::test]
async fn a_signup_that_takes_several_values_hears_of_every_one() {
    let app = spawn_app().await;
    app.client()
        .post(
            "/api/v1/users",
            json!({"username": "minji", "password": PASSWORD, "email": "minji@example.com", "phone": "010-1234-5678"}),
        )
        .await;

    let again = app
        .client()
        .post(
            "/api/v1/users",
            json!({"username": "Minji", "password": PASSWORD, "email": "MINJI@example.com", "phone": "01012345678"}),
        )
        .await;

    again.assert_problem(409, "username_taken");
    let taken =
        [("email", "taken"), ("phone", "taken"), ("username", "taken")].map(|(f, c)| (f.to_owned(), c.to_owned()));
    let mut named = again.field_errors();
    named.sort();
    assert_eq!(named, taken, "{}", again.text);
}

#[tokio::test]
async fn two_parallel_signups_of_one_name_in_different_case_give_exactly_one_account() {
    let app = spawn_app().await;
    let (a, b) = (app.client(), app.client());
    let results = join_all([
        a.post("/api/v1/users", json!({"username": "Haneul", "password": PASSWORD})),
        b.post("/api/v1/users", json!({"username": "hANEUL", "password": PASSWORD})),
    ])
    .await;
    let created = results.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    assert!(results.iter().any(|r| r.status == StatusCode::CONFLICT));
    assert_eq!(app.count("SELECT count(*) FROM users"), 1);
}

#[tokio::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let cases = [
        ("short1!", "too_short"),
        (&*"x".repeat(73), "too_long"),
        ("1234567890", "entirely_numeric"),
        ("iloveyou", "too_common"),
        ("seoyeon-cafe", "too_similar"),
    ];
    for (password, code) in cases {
        let res = app.client().post("/api/v1/users", json!({"username": "seoyeon_cafe", "password": password})).await;
        res.assert_problem(422, "validation_failed");
        assert_eq!(res.field_errors(), [("password".to_owned(), code.to_owned())], "{password}");
    }
    assert_eq!(app.count("SELECT count(*) FROM users"), 0, "nothing was created");
}

#[tokio::test]
async fn me_needs_a_session_and_says_where_to_log_in() {
    let app = spawn_app().await;
    let res = app.client().get("/api/v1/users/me?tab=profile").await;
    res.assert_problem(401, "unauthenticated");
    assert_eq!(res.body["login"], "/api/v1/sessions");
    assert_eq!(res.body["next"], "/api/v1/users/me?tab=profile");
    assert!(res.header("www-authenticate").is_some());
    let res = app.client().patch("/api/v1/users/me", json!({"username": "x"})).await;
    res.assert_problem(401, "unauthenticated");
    assert!(res.body.get("next").is_none(), "next only for GET: {}", res.text);
}

#[tokio::test]
async fn the_profile_can_be_edited_and_null_clears_email_and_phone() {
    let app = spawn_app().await;
    let client = app.customer("dahye", Some("010-5555-0000")).await;
    app.customer("taken_name", None).await;

    let res = client.patch("/api/v1/users/me", json!({"username": "Dahye.K", "email": "dahye@example.com"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        (res.body["username"].as_str(), res.body["email"].as_str()),
        (Some("Dahye.K"), Some("dahye@example.com"))
    );
    assert_eq!(res.body["phone"], "+821055550000", "absent fields stay");

    let res = client.patch("/api/v1/users/me", json!({"email": null, "phone": null})).await;
    assert!(res.body["email"].is_null() && res.body["phone"].is_null(), "{}", res.text);

    client.patch("/api/v1/users/me", json!({"username": "TAKEN_NAME"})).await.assert_problem(409, "username_taken");
    let res = client.patch("/api/v1/users/me", json!({"email": "not-an-email", "phone": "12"})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors().len(), 2);
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_under_a_new_key_and_ends_the_others() {
    let app = spawn_app().await;
    let laptop = app.customer("yuna", None).await;
    let phone = app.client();
    phone.login("yuna", PASSWORD).await;
    let (laptop_before, phone_before) = (laptop.cookie(), phone.cookie());
    let new_password = "a quiet espresso morning";

    let res = laptop
        .put("/api/v1/users/me/password", json!({"current_password": PASSWORD, "new_password": new_password}))
        .await;

    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert!(res.set_cookie("stampcard_session").is_some(), "cookie re-issued");
    assert_ne!(laptop.cookie(), laptop_before, "new key");
    assert_eq!(laptop.get("/api/v1/users/me").await.status, StatusCode::OK, "this session stays");
    phone.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    laptop.set_cookie(laptop_before);
    laptop.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    phone.set_cookie(phone_before);
    assert_eq!(app.client().login("yuna", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.client().login("yuna", new_password).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_a_strong_new_one() {
    let app = spawn_app().await;
    let client = app.customer("hyun", None).await;
    let res = client
        .put(
            "/api/v1/users/me/password",
            json!({"current_password": "wrong one!", "new_password": "a quiet espresso morning"}),
        )
        .await;
    res.assert_problem(403, "invalid_password");
    let res = client
        .put("/api/v1/users/me/password", json!({"current_password": PASSWORD, "new_password": "password"}))
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors()[0].0, "new_password");
    let res = client.put("/api/v1/users/me/password", json!({"current_password": PASSWORD})).await;
    assert_eq!(res.field_errors(), [("new_password".to_owned(), "required".to_owned())]);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_every_session() {
    let app = spawn_app().await;
    let client = app.customer("bora", None).await;
    let other_device = app.client();
    other_device.login("bora", PASSWORD).await;
    let old_cookie = client.cookie();

    client
        .delete_with("/api/v1/users/me", json!({"password": "not my password"}))
        .await
        .assert_problem(403, "invalid_password");
    let res = client.delete_with("/api/v1/users/me", json!({"password": PASSWORD})).await;

    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert!(res.set_cookie("stampcard_session").is_some_and(|c| c.contains("Max-Age=0")), "cookie cleared");
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);
    client.set_cookie(old_cookie);
    client.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    other_device.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    app.client().login("bora", PASSWORD).await.assert_problem(401, "invalid_credentials");
}
