//! Proving an email address: the link mailed when it is set (and on request) proves it, once,
//! and only while it is still the account's address; and one address is one address, however
//! its letters are cased.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::smtp::{link_token, to, with_link, SmtpServer};
use crate::helpers::{spawn_app_with, Client, Res, TestApp, PASSWORD};

const SOON: Duration = Duration::from_secs(20);
const CONFIRM: &str = "/api/v1/email-verifications/confirm";
const ASK: &str = "/api/v1/users/me/email-verification";

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(move |c| {
        c.smtp_url = Some(url);
        c.public_url = Some("https://stamps.example".into());
    })
    .await
}

async fn sign_up(app: &TestApp, username: &str, email: &str) -> Client {
    let client = app.client();
    let res = client.post("/api/v1/users", json!({"username": username, "password": PASSWORD, "email": email})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    client
}

async fn confirm(app: &TestApp, token: &str) -> Res {
    app.client().post(CONFIRM, json!({"token": token})).await
}

#[tokio::test]
async fn a_new_address_is_proven_by_the_mailed_link_once_from_any_browser() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let owner = sign_up(&app, "prover", "Prover@Example.com").await;
    assert_eq!(owner.get("/api/v1/users/me").await.body["email_verified"], false);

    let mail = smtp.wait_for(1, SOON).await.remove(0);
    assert!(crate::helpers::smtp::text(&mail).contains("https://stamps.example/verify-email#token="), "{mail}");
    let token = link_token(&mail, "/verify-email");
    assert!(
        app.text_rows("SELECT encode(token_hash, 'hex') FROM email_verification_tokens").iter().all(|h| *h != token),
        "only a hash is stored"
    );
    // Opened in another browser, with no session at all.
    let res = confirm(&app, &token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(owner.get("/api/v1/users/me").await.body["email_verified"], true);
    confirm(&app, &token).await.assert_problem(422, "invalid_token");
    confirm(&app, "not a token").await.assert_problem(422, "invalid_token");
}

#[tokio::test]
async fn a_link_proves_only_the_address_it_was_sent_to_a_login_keeps_it_and_a_newer_link_ends_it() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let owner = sign_up(&app, "changer", "first@example.com").await;
    let first = link_token(&smtp.wait_for(1, SOON).await[0], "/verify-email");

    // A login does not end a link.
    assert_eq!(app.client().login("changer", PASSWORD).await.status, StatusCode::CREATED);
    assert_eq!(owner.post(ASK, json!({})).await.status, StatusCode::ACCEPTED);
    let mails = smtp.wait_for(2, SOON).await;
    let second =
        with_link(&mails, "/verify-email").iter().map(|m| link_token(m, "/verify-email")).find(|t| *t != first);
    confirm(&app, &first).await.assert_problem(422, "invalid_token");

    // A change of address ends the link to the old one.
    owner.patch("/api/v1/users/me", json!({"email": "second@example.com"})).await;
    confirm(&app, &second.unwrap()).await.assert_problem(422, "invalid_token");
    assert_eq!(owner.get("/api/v1/users/me").await.body["email_verified"], false);
    let mails = smtp.wait_for(3, SOON).await;
    let third = link_token(&to(&mails, "second@example.com")[0], "/verify-email");
    assert_eq!(confirm(&app, &third).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn three_links_an_hour_per_user_however_many_are_asked_for_at_once() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let owner = sign_up(&app, "eager", "eager@example.com").await;
    let answers = join_all((0..10).map(|_| owner.post(ASK, json!({})))).await;
    let sent = answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).count();
    assert_eq!(sent, 3, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    for res in answers.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        res.assert_problem(429, "too_many_attempts");
        assert!(res.header("retry-after").is_some());
    }
    let phoneless = app.customer("no-address", None).await;
    let res = phoneless.post(ASK, json!({})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("email".to_owned(), "required".to_owned())]);
}

#[tokio::test]
async fn an_address_receives_at_most_three_mails_an_hour_of_every_kind_together() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    // The signup's link, then two more: three mails to the address.
    let owner = sign_up(&app, "flooded", "flooded@example.com").await;
    owner.post(ASK, json!({})).await;
    owner.post(ASK, json!({})).await;
    smtp.wait_for(3, SOON).await;
    // A reset request is answered alike, and sends nothing more this hour.
    app.db_exec("UPDATE users SET email_verified = true");
    assert_eq!(app.client().post("/api/v1/password-resets", json!({"email": "flooded@example.com"})).await.status, 202);
    let settled = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE state = 'pending'") == 0);
    crate::helpers::eventually(SOON, "the outbox to settle", settled).await;
    assert_eq!(smtp.mails().len(), 3);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE state = 'skipped' AND kind = 'password_reset'"), 1);
}

#[tokio::test]
async fn addresses_that_differ_only_in_case_are_one_address_in_the_code_and_in_the_database() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    sign_up(&app, "emile", "Émile@X.kr").await;

    // The database's unique key (the folded form) refuses the other spelling.
    let twin = app
        .client()
        .post("/api/v1/users", json!({"username": "emile2", "password": PASSWORD, "email": "émile@x.KR"}))
        .await;
    twin.assert_problem(409, "email_taken");
    assert_eq!(app.text_rows("SELECT email_key FROM users"), ["émile@x.kr"]);
    assert_eq!(app.text_rows("SELECT email FROM users"), ["Émile@X.kr"], "shown as typed");
    // The code's rule finds it, whichever way a reset request spells it.
    app.db_exec("UPDATE users SET email_verified = true");
    assert_eq!(app.client().post("/api/v1/password-resets", json!({"email": "ÉMILE@x.kr"})).await.status, 202);
    let mails = smtp.wait_for(2, SOON).await;
    assert_eq!(with_link(&mails, "/reset-password").len(), 1, "the account's reset mail");
}

#[tokio::test]
async fn without_a_mail_server_outside_dev_mode_a_link_is_neither_sent_nor_logged_nor_made() {
    let app = spawn_app_with(|c| c.dev = Some(false)).await;
    let client = app.client();
    let body = json!({"username": "unmailed", "password": PASSWORD, "email": "unmailed@example.com"});
    let res = client.post("/api/v1/users", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "a signup needs no mail server: {}", res.text);
    let settled = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE state = 'pending'") == 0);
    crate::helpers::eventually(SOON, "the outbox to settle", settled).await;
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE state = 'skipped'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM email_verification_tokens"), 0, "no link was made, so none was logged");
}
