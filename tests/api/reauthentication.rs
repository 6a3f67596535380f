//! A stolen cookie is not an account: sensitive changes need a recent password proof in the
//! session that makes them, re-authenticating moves the session to a new key, and an email
//! change cannot quietly take the account's recovery address.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::smtp::{link_token, text, to, with_link, SmtpServer};
use crate::helpers::{spawn_app_with, Client, TestApp, PASSWORD};

const REAUTH: &str = "/api/v1/sessions/current/reauthentication";
const SOON: Duration = Duration::from_secs(20);

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(move |c| {
        c.smtp_url = Some(url);
        c.public_url = Some("https://stamps.example".into());
    })
    .await
}

/// As if the user had last proved the password in any session of theirs 11 minutes ago
/// (the window is 10).
fn proofs_grow_old(app: &TestApp, username: &str) {
    app.db_exec(&format!(
        "UPDATE sessions SET authenticated_at = now() - interval '11 minutes' \
         WHERE user_id = (SELECT id FROM users WHERE username = '{username}')"
    ));
}

/// Waits until the worker has marked every message done: a mail reaches the SMTP server just
/// before the transaction that made its token commits.
async fn delivered(app: &TestApp) {
    let settled = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE state = 'pending'") == 0);
    crate::helpers::eventually(SOON, "the outbox to settle", settled).await;
}

/// A customer whose address is verified (as one from before v1.2), logged in.
async fn owner_with_verified_email(app: &TestApp, username: &str, email: &str) -> Client {
    let client = app.customer(username, None).await;
    app.db_exec(&format!(
        "UPDATE users SET email = '{email}', email_key = lower('{email}'), email_verified = true \
         WHERE username = '{username}'"
    ));
    client
}

#[tokio::test]
async fn a_stolen_cookie_cannot_change_the_recovery_address_and_a_fresh_proof_tells_the_old_address() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let owner = owner_with_verified_email(&app, "victim", "victim@example.com").await;
    let thief = app.client();
    thief.set_cookie(owner.cookie());
    proofs_grow_old(&app, "victim");

    // The takeover of issue 18: change the address, then reset the password through it.
    let res = thief.patch("/api/v1/users/me", json!({"email": "thief@evil.example"})).await;
    res.assert_problem(403, "reauthentication_required");
    assert_eq!(res.body["reauthenticate"], REAUTH);
    for sensitive in [json!({"username": "thief"}), json!({"phone": "010-1111-2222"}), json!({"email": null})] {
        thief.patch("/api/v1/users/me", sensitive).await.assert_problem(403, "reauthentication_required");
    }
    let me = owner.get("/api/v1/users/me").await.body;
    assert_eq!((me["email"].clone(), me["username"].clone()), (json!("victim@example.com"), json!("victim")));
    assert_eq!(app.client().post("/api/v1/password-resets", json!({"email": "thief@evil.example"})).await.status, 202);

    // The owner proves the password again (a new key: the thief's copy dies), then changes it.
    let res = owner.post(REAUTH, json!({"password": PASSWORD})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    thief.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    let res = owner.patch("/api/v1/users/me", json!({"email": "new-home@example.com"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["email_verified"], false, "a new address is unproven");

    let mails = smtp.wait_for(2, SOON).await;
    let notice = to(&mails, "victim@example.com");
    assert_eq!(notice.len(), 1, "the old verified address hears of it");
    let notice = text(&notice[0]);
    assert!(notice.contains("n***@example.com") && notice.contains("change your password"), "{notice}");
    assert!(!notice.contains("new-home@example.com"), "the new address is masked: {notice}");
    let link = to(&mails, "new-home@example.com");
    assert_eq!(link.len(), 1, "the new address is sent a link to prove it");
    link_token(&link[0], "/verify-email");
    // Reset mails go to verified addresses only: the unproven new one gets none.
    app.client().post("/api/v1/password-resets", json!({"email": "new-home@example.com"})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.mails().len(), 2, "no reset mail to an unproven address, none to the thief's");
    assert!(to(&smtp.mails(), "thief@evil.example").is_empty());
}

#[tokio::test]
async fn reauthentication_gives_the_session_a_new_key_and_the_old_cookie_is_anonymous() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.customer("prover", None).await;
    proofs_grow_old(&app, "prover");
    let before = owner.get("/api/v1/sessions/current").await.body["session"].clone();
    let old_cookie = owner.cookie();

    owner.post(REAUTH, json!({"password": "not the password"})).await.assert_problem(403, "invalid_password");
    let res = owner.post(REAUTH, json!({"password": PASSWORD})).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_ne!(owner.cookie(), old_cookie, "the cookie is re-issued");
    assert_eq!(res.body["session"]["id"], before["id"], "the same session");
    assert_eq!(res.body["session"]["expires_at"], before["expires_at"], "with the same lifetime");
    assert!(res.body["session"]["authenticated_at"].as_str() > before["authenticated_at"].as_str());
    let replayed = app.client();
    replayed.set_cookie(old_cookie);
    replayed.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    let res = owner.patch("/api/v1/users/me", json!({"username": "prover2"})).await;
    assert_eq!(res.status, StatusCode::OK, "the proof allows the change: {}", res.text);
    app.client().post(REAUTH, json!({"password": PASSWORD})).await.assert_problem(401, "unauthenticated");
    owner.post(REAUTH, json!({})).await.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn a_value_equal_to_the_stored_one_after_normalisation_is_no_change_and_needs_no_proof() {
    let app = spawn_app_with(|_| {}).await;
    let owner = owner_with_verified_email(&app, "steady", "steady@example.com").await;
    owner.patch("/api/v1/users/me", json!({"phone": "010-1234-5678"})).await;
    proofs_grow_old(&app, "steady");

    let same = json!({"username": "steady", "email": "STEADY@Example.com", "phone": "+82 10 1234 5678"});
    let res = owner.patch("/api/v1/users/me", same).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["email_verified"], true, "still the same, proven address");
    owner
        .patch("/api/v1/users/me", json!({"username": "Steady"}))
        .await
        .assert_problem(403, "reauthentication_required");
}

#[tokio::test]
async fn every_admin_change_needs_a_recent_proof() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.user_with_role("owner", "admin").await;
    let customer = app.customer("someone", None).await;
    let id = customer.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
    proofs_grow_old(&app, "owner");

    for change in [json!({"role": "staff"}), json!({"is_active": false}), json!({})] {
        admin.patch(&format!("/api/v1/users/{id}"), change).await.assert_problem(403, "reauthentication_required");
    }
    assert_eq!(customer.get("/api/v1/users/me").await.body["role"], "customer", "nothing changed");
    assert_eq!(admin.post(REAUTH, json!({"password": PASSWORD})).await.status, StatusCode::OK);
    let res = admin.patch(&format!("/api/v1/users/{id}"), json!({"role": "staff"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

#[tokio::test]
async fn an_email_change_and_a_deactivation_end_the_reset_links_and_an_inactive_users_link_is_invalid() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let owner = owner_with_verified_email(&app, "mover", "mover@example.com").await;
    app.user_with_role("boss", "admin").await;
    let asker = app.client();
    let ask = || asker.post("/api/v1/password-resets", json!({"email": "mover@example.com"}));

    ask().await;
    smtp.wait_for(1, SOON).await;
    delivered(&app).await;
    assert_eq!(app.count("SELECT count(*) FROM password_reset_tokens"), 1);
    owner.patch("/api/v1/users/me", json!({"email": "elsewhere@example.com"})).await;
    assert_eq!(app.count("SELECT count(*) FROM password_reset_tokens"), 0, "an email change ends them");

    app.db_exec("UPDATE users SET email = 'mover@example.com', email_key = 'mover@example.com', email_verified = true WHERE username = 'mover'");
    ask().await;
    // The first reset mail, the notice of the change, a verification link, and this reset mail.
    let mails = smtp.wait_for(4, SOON).await;
    delivered(&app).await;
    let resets = with_link(&mails, "/reset-password");
    let token = resets.iter().map(|m| link_token(m, "/reset-password")).find(|t| {
        app.count(&format!("SELECT count(*) FROM password_reset_tokens WHERE token_hash = sha256('{t}'::bytea)")) == 1
    });
    let token = token.expect("the live reset link");
    let admin = app.client();
    admin.login("boss", PASSWORD).await;
    let id = app.text_rows("SELECT id::text FROM users WHERE username = 'mover'").remove(0);
    admin.patch(&format!("/api/v1/users/{id}"), json!({"is_active": false})).await;
    assert_eq!(app.count("SELECT count(*) FROM password_reset_tokens"), 0, "a deactivation ends them");

    // A token that outlived it (made again by hand) still does not reset an inactive account.
    app.db_exec(&format!(
        "INSERT INTO password_reset_tokens (token_hash, user_id, expires_at) \
         VALUES (sha256('{token}'::bytea), '{id}', now() + interval '10 minutes')"
    ));
    let res = app
        .client()
        .post("/api/v1/password-resets/confirm", json!({"token": token, "new_password": "a brand new secret"}))
        .await;
    res.assert_problem(422, "invalid_token");
}
