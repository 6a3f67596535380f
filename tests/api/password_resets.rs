//! A forgotten password, reset through a link sent by email: a real SMTP server (aiosmtpd)
//! receives the mail, and the tests follow its link.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::smtp::{reset_token, text, SmtpServer};
use crate::helpers::{eventually, spawn_app_on, spawn_app_with, Client, Res, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a brand new secret";
const SOON: Duration = Duration::from_secs(20);

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(move |c| {
        c.smtp_url = Some(url);
        c.public_url = Some("https://stamps.example".into());
    })
    .await
}

/// [`app_with_mail`], believing `X-Forwarded-For` from 127.0.0.1 (a proxy in front).
async fn app_with_trusting_mail(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(move |c| {
        c.smtp_url = Some(url);
        c.trusted_proxies.0.push(stampcard::config::parse_trusted("127.0.0.1").unwrap());
    })
    .await
}

/// A customer with a verified email address, logged in: as an address from before v1.2, set
/// in the database, so that no verification link takes a place among the address's three
/// mails an hour (`email_verification.rs` tests those links).
async fn customer_with_email(app: &TestApp, username: &str, email: &str) -> Client {
    let client = app.customer(username, None).await;
    app.db_exec(&format!(
        "UPDATE users SET email = '{email}', email_key = lower('{email}'), email_verified = true \
         WHERE username = '{username}'"
    ));
    client
}

async fn ask_reset(app: &TestApp, email: &str) -> Res {
    app.client().post("/api/v1/password-resets", json!({"email": email})).await
}

async fn confirm(app: &TestApp, token: &str, new_password: &str) -> Res {
    app.client().post("/api/v1/password-resets/confirm", json!({"token": token, "new_password": new_password})).await
}

/// Waits until the outbox has nothing left to do.
async fn outbox_settled(app: &TestApp) {
    let settled = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE state = 'pending'") == 0);
    eventually(SOON, "the outbox to settle", settled).await;
}

#[tokio::test]
async fn a_reset_link_by_email_sets_a_new_password_revokes_every_session_and_works_once() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let device = customer_with_email(&app, "forgetful", "Minji@Example.com").await;

    let res = ask_reset(&app, "minji@example.com").await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text);
    let mail = smtp.wait_for(1, SOON).await.remove(0);
    assert!(text(&mail).contains("https://stamps.example/reset-password#token="), "{mail}");
    assert!(mail.to_lowercase().contains("to: minji@example.com"), "{mail}");
    let token = reset_token(&mail);
    outbox_settled(&app).await;
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE recipient = 'minji@example.com' AND state = 'sent'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM password_reset_tokens"), 1);
    assert!(
        app.text_rows("SELECT encode(token_hash, 'hex') FROM password_reset_tokens").iter().all(|h| *h != token),
        "only a hash is stored"
    );

    let res = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert!(res.set_cookie("stampcard_session").is_none(), "no login");
    device.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    app.client().login("forgetful", PASSWORD).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.client().login("forgetful", NEW_PASSWORD).await.status, StatusCode::CREATED);
    confirm(&app, &token, "yet another secret").await.assert_problem(422, "invalid_token");
}

#[tokio::test]
async fn any_address_gets_the_same_answer_and_only_an_active_accounts_verified_one_gets_a_mail() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "known", "known@example.com").await;
    customer_with_email(&app, "dormant", "dormant@example.com").await;
    customer_with_email(&app, "unproven", "unproven@example.com").await;
    app.db_exec("UPDATE users SET is_active = false WHERE username = 'dormant'");
    app.db_exec("UPDATE users SET email_verified = false WHERE username = 'unproven'");

    let answers = [
        ask_reset(&app, "nobody@example.com").await,
        ask_reset(&app, "dormant@example.com").await,
        ask_reset(&app, "unproven@example.com").await,
        ask_reset(&app, "known@example.com").await,
    ];
    for res in &answers {
        assert_eq!(res.status, StatusCode::ACCEPTED);
        assert_eq!(res.text, answers[0].text, "the same body");
    }
    outbox_settled(&app).await;
    let mails = smtp.wait_for(1, SOON).await;
    assert_eq!(mails.len(), 1, "one mail, to the active account's verified address");
    assert!(mails[0].contains("known@example.com"));
    ask_reset(&app, "not an address").await.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn an_address_gets_at_most_three_reset_mails_an_hour_however_many_requests_arrive_at_once() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "popular", "popular@example.com").await;
    let answers = join_all((0..8).map(|_| ask_reset(&app, "popular@example.com"))).await;
    assert!(answers.iter().all(|r| r.status == StatusCode::ACCEPTED));
    outbox_settled(&app).await;
    assert_eq!(smtp.mails().len(), 3);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE state = 'skipped'"), 5);
}

#[tokio::test]
async fn a_newer_reset_a_login_and_a_password_change_each_end_older_links() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    let client = customer_with_email(&app, "twice", "twice@example.com").await;

    ask_reset(&app, "twice@example.com").await;
    let first = reset_token(&smtp.wait_for(1, SOON).await[0]);
    ask_reset(&app, "twice@example.com").await;
    let mails = smtp.wait_for(2, SOON).await;
    let second = mails.iter().map(|m| reset_token(m)).find(|t| *t != first).expect("a second token");
    confirm(&app, &first, NEW_PASSWORD).await.assert_problem(422, "invalid_token");

    assert_eq!(app.client().login("twice", PASSWORD).await.status, StatusCode::CREATED);
    confirm(&app, &second, NEW_PASSWORD).await.assert_problem(422, "invalid_token");

    ask_reset(&app, "twice@example.com").await;
    let third = smtp.wait_for(3, SOON).await.iter().map(|m| reset_token(m)).find(|t| *t != first && *t != second);
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(client.put("/api/v1/users/me/password", body).await.status, StatusCode::NO_CONTENT);
    confirm(&app, &third.unwrap(), "yet another secret").await.assert_problem(422, "invalid_token");
}

#[tokio::test]
async fn an_expired_token_is_invalid_and_a_weak_password_keeps_the_token() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "slowpoke", "slow@example.com").await;
    ask_reset(&app, "slow@example.com").await;
    let token = reset_token(&smtp.wait_for(1, SOON).await[0]);

    let res = confirm(&app, &token, "slowpoke1").await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("new_password".to_owned(), "too_similar".to_owned())]);
    let res = app.client().post("/api/v1/password-resets/confirm", json!({"new_password": "short"})).await;
    assert_eq!(res.field_errors().len(), 2, "every bad field: {}", res.text);

    app.db_exec("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second'");
    confirm(&app, &token, NEW_PASSWORD).await.assert_problem(422, "invalid_token");
}

#[tokio::test]
async fn one_token_confirmed_twenty_times_at_once_sets_the_password_once() {
    let smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "raced", "raced@example.com").await;
    ask_reset(&app, "raced@example.com").await;
    let token = reset_token(&smtp.wait_for(1, SOON).await[0]);
    let answers =
        join_all((0..20).map(|i| confirm(&app, &token, if i == 0 { NEW_PASSWORD } else { "other secret!" }))).await;
    let ok = answers.iter().filter(|r| r.status == StatusCode::NO_CONTENT).count();
    assert_eq!(ok, 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(answers.iter().all(|r| r.status == StatusCode::NO_CONTENT || r.body["code"] == "invalid_token"));
}

#[tokio::test]
async fn wrong_tokens_count_against_the_address_even_two_hundred_at_once() {
    let app = spawn_app_with(|_| {}).await;
    let tokens: Vec<String> = (0..200).map(|i| format!("{i:064x}")).collect();
    let answers = join_all(tokens.iter().map(|t| confirm(&app, t, NEW_PASSWORD))).await;
    let wrong = answers.iter().filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((wrong, refused), (100, 100), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(app.passwords.verifications(), 0, "no bcrypt work for a token that cannot be good");
    // The address is out of attempts for logins too.
    app.client().login("anyone", PASSWORD).await.assert_problem(429, "too_many_attempts");
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_the_mail_but_not_the_request() {
    let mut smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "patient", "patient@example.com").await;
    smtp.pause();
    let started = std::time::Instant::now();
    let res = ask_reset(&app, "patient@example.com").await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert!(started.elapsed() < Duration::from_secs(2), "answered at once, not after the mail");
    let tried = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE attempts > 0") > 0);
    eventually(SOON, "the worker's first, failed try", tried).await;
    assert!(app.text_rows("SELECT coalesce(last_error, '') FROM outbox").iter().any(|e| e.contains("SMTP")));
    smtp.resume();
    let mail = smtp.wait_for(1, SOON).await.remove(0);
    assert_eq!(confirm(&app, &reset_token(&mail), NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn two_instances_draining_one_outbox_send_every_message_once() {
    let smtp = SmtpServer::start();
    let first = app_with_trusting_mail(&smtp).await;
    let url = smtp.url();
    let second = spawn_app_on(&first.database_url, &first.database_url, move |c| {
        c.smtp_url = Some(url);
        c.trusted_proxies.0.push(stampcard::config::parse_trusted("127.0.0.1").unwrap());
    });
    for i in 0..20 {
        customer_with_email(&first, &format!("many{i}"), &format!("many{i}@example.com")).await;
    }
    let addresses: Vec<String> = (0..20).map(|i| format!("many{i}@example.com")).collect();
    // Twenty people ask: each from an address of their own (one address may ask ten times an
    // hour), which the second instance believes from its proxy, 127.0.0.1.
    let (first_ref, second_ref) = (&first, &second);
    let asks = addresses.iter().enumerate().map(|(i, address)| async move {
        let client = if i % 2 == 0 { first_ref.client() } else { second_ref.client() };
        let forwarded = format!("198.51.100.{i}");
        let body = json!({"email": address});
        client
            .send(reqwest::Method::POST, "/api/v1/password-resets", Some(body), &[("x-forwarded-for", &forwarded)])
            .await
    });
    assert!(join_all(asks).await.iter().all(|r| r.status == StatusCode::ACCEPTED));
    outbox_settled(&first).await;
    let mails = smtp.wait_for(20, SOON).await;
    assert_eq!(mails.len(), 20, "every message sent once");
    for i in 0..20 {
        let to = format!("many{i}@example.com");
        assert_eq!(mails.iter().filter(|m| m.contains(&format!("To: {to}"))).count(), 1, "{to}");
    }
}

#[tokio::test]
async fn without_a_mail_server_outside_dev_mode_the_reset_is_unavailable() {
    let app = spawn_app_with(|c| c.dev = Some(false)).await;
    let res = ask_reset(&app, "someone@example.com").await;
    res.assert_problem(503, "service_unavailable");
    assert!(res.header("retry-after").is_some());
    assert_eq!(app.count("SELECT count(*) FROM outbox"), 0);
}

#[tokio::test]
async fn in_dev_mode_without_a_mail_server_the_mail_is_logged_and_counts_as_sent() {
    let app = spawn_app_with(|_| {}).await;
    customer_with_email(&app, "devmode", "dev@example.com").await;
    assert_eq!(ask_reset(&app, "dev@example.com").await.status, StatusCode::ACCEPTED);
    outbox_settled(&app).await;
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE state = 'sent'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM password_reset_tokens"), 1);
}

#[tokio::test]
async fn after_an_hour_of_failures_a_message_is_given_up_and_the_cli_can_send_it_again() {
    let mut smtp = SmtpServer::start();
    let app = app_with_mail(&smtp).await;
    customer_with_email(&app, "stranded", "stranded@example.com").await;
    smtp.pause();
    // Made an hour and more ago: the next failure is the last.
    app.db_exec("ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT now() - interval '61 minutes'");
    assert_eq!(ask_reset(&app, "stranded@example.com").await.status, StatusCode::ACCEPTED);
    app.db_exec("ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT now()");
    let given_up = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE state = 'failed'") == 1);
    eventually(SOON, "the message given up", given_up).await;

    let cli = |args: &[&str]| {
        let out = crate::helpers::stampcard().args(args).env("DATABASE_URL", &app.database_url).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = cli(&["outbox", "list", "--state", "failed"]);
    assert!(
        listed.contains("password_reset") && listed.contains("stranded@example.com") && listed.contains("SMTP"),
        "{listed}"
    );
    smtp.resume();
    assert!(cli(&["outbox", "retry"]).contains("1 failed message(s) queued again"));
    let mail = smtp.wait_for(1, SOON).await.remove(0);
    assert_eq!(confirm(&app, &reset_token(&mail), NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
}
