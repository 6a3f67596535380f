//! What anyone can make the server do: every request that makes it send a message, or create
//! data, is limited by who asks and by whom it reaches, counted before the work, under bursts.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::sms::SmsGateway;
use crate::helpers::smtp::{text, SmtpServer};
use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

const FOREIGN_PHONE: &str = "+1 201 555 0123";

#[tokio::test]
async fn a_burst_of_150_signups_from_one_address_makes_at_most_a_hundred_accounts() {
    let app = spawn_app_with(|_| {}).await;
    let clients: Vec<_> = (0..150).map(|_| app.client()).collect();
    let answers = join_all(clients.iter().enumerate().map(|(i, client)| {
        client.post("/api/v1/users", json!({"username": format!("crowd{i}"), "password": PASSWORD}))
    }))
    .await;
    let made = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(made, 100, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(app.count("SELECT count(*) FROM users"), 100);
    for res in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
        res.assert_problem(429, "too_many_attempts");
        assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 3000)));
    }
}

#[tokio::test]
async fn signups_per_hour_is_a_setting_and_zero_turns_it_off() {
    let app = spawn_app_with(|c| c.signups_per_hour = 2).await;
    let client = app.client();
    let signup = |i: usize| client.post("/api/v1/users", json!({"username": format!("few{i}"), "password": PASSWORD}));
    assert_eq!(signup(0).await.status, StatusCode::CREATED);
    assert_eq!(signup(1).await.status, StatusCode::CREATED);
    signup(2).await.assert_problem(429, "too_many_attempts");

    let open = spawn_app_with(|c| c.signups_per_hour = 0).await;
    for i in 0..3 {
        let res =
            open.client().post("/api/v1/users", json!({"username": format!("open{i}"), "password": PASSWORD})).await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_phone_of_another_region_is_refused_in_bodies_and_finds_nobody_as_a_query() {
    let app = spawn_app_with(|_| {}).await;
    let res = app
        .client()
        .post("/api/v1/users", json!({"username": "abroad", "password": PASSWORD, "phone": FOREIGN_PHONE}))
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("phone".to_owned(), "region_not_allowed".to_owned())]);
    let customer = app.customer("at-home", Some("010-2222-3333")).await;
    let res = customer.patch("/api/v1/users/me", json!({"phone": FOREIGN_PHONE})).await;
    assert_eq!(res.field_errors(), [("phone".to_owned(), "region_not_allowed".to_owned())]);
    let staff = app.user_with_role("counter", "staff").await;
    let res = staff.post("/api/v1/stamps", json!({"phone": FOREIGN_PHONE})).await;
    assert_eq!(res.field_errors(), [("phone".to_owned(), "region_not_allowed".to_owned())]);
    staff.get("/api/v1/stamps?phone=%2B12015550123").await.assert_problem(404, "customer_not_found");

    // A number stored before its region was refused is sent no code.
    app.db_exec("UPDATE users SET phone = '+12015550123' WHERE username = 'at-home'");
    let res = customer.post("/api/v1/users/me/phone-verification", json!({})).await;
    assert_eq!(res.field_errors(), [("phone".to_owned(), "region_not_allowed".to_owned())]);

    // The setting lets them in.
    let wider = spawn_app_with(|c| c.phone_regions = "KR,US".parse().unwrap()).await;
    let res = wider
        .client()
        .post("/api/v1/users", json!({"username": "abroad", "password": PASSWORD, "phone": FOREIGN_PHONE}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["phone"], "+12015550123");
}

#[tokio::test]
async fn reset_and_link_requests_are_ten_an_hour_per_client_address_however_many_at_once() {
    let app = spawn_app_with(|_| {}).await;
    let client = app.customer("asker", None).await;
    app.db_exec("UPDATE users SET email = 'asker@example.com', email_key = 'asker@example.com'");
    let requests = (0..25).map(|i| {
        if i % 5 == 0 {
            client.post("/api/v1/users/me/email-verification", json!({}))
        } else {
            client.post("/api/v1/password-resets", json!({"email": format!("someone{i}@example.com")}))
        }
    });
    let answers = join_all(requests).await;
    let accepted = answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).count();
    assert_eq!(accepted, 10, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(answers.iter().filter(|r| r.status != StatusCode::ACCEPTED).all(|r| r.body["code"] == "too_many_attempts"));
    assert_eq!(app.count("SELECT count(*) FROM outbox"), 10, "nothing queued for the refused ones");
}

#[tokio::test]
async fn past_the_services_hourly_sms_budget_codes_are_503_and_the_metrics_say_so() {
    let gateway = SmsGateway::start();
    let url = gateway.url.clone();
    let app = spawn_app_with(move |c| {
        c.sms_webhook_url = Some(url);
        c.sms_hourly_limit = 2;
    })
    .await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let client = app.customer(&format!("texter{i}"), Some(&format!("010-3333-44{i}0"))).await;
        answers.push(client.post("/api/v1/users/me/phone-verification", json!({})).await);
    }
    assert_eq!(answers.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>(), [202, 202, 503]);
    answers[2].assert_problem(503, "service_unavailable");
    assert!(answers[2].header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 3000)));
    let metrics = reqwest::get(format!("{}/metrics", app.metrics_address)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"stampcard_limit_refusals_total{limit="sms_service"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"stampcard_sms_hour{of="sent"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"stampcard_sms_hour{of="limit"} 2"#), "{metrics}");
}

#[tokio::test]
async fn no_outbox_row_holds_a_token_a_link_or_a_code_in_clear() {
    let smtp = SmtpServer::start();
    let gateway = SmsGateway::start();
    let (mail_url, sms_url) = (smtp.url(), gateway.url.clone());
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(mail_url);
        c.sms_webhook_url = Some(sms_url);
    })
    .await;
    let client = app.client();
    let body = json!({"username": "secretive", "password": PASSWORD, "email": "secretive@example.com", "phone": "010-4444-5555"});
    assert_eq!(client.post("/api/v1/users", body).await.status, StatusCode::CREATED);
    client.post("/api/v1/users/me/phone-verification", json!({})).await;
    app.db_exec("UPDATE users SET email_verified = true");
    app.client().post("/api/v1/password-resets", json!({"email": "secretive@example.com"})).await;
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    let code = crate::helpers::sms::code(&gateway.wait_for(1, Duration::from_secs(20)).await[0]);
    let rows = app.text_rows("SELECT row_to_json(o)::text FROM outbox o").join("\n");
    for mail in &mails {
        let text = text(mail);
        let token: String =
            text.split("#token=").nth(1).expect("a link").chars().take_while(char::is_ascii_hexdigit).collect();
        assert!(!rows.contains(&token), "a token in the outbox: {rows}");
    }
    assert!(!rows.contains(&code), "a code in the outbox: {rows}");
}

#[tokio::test]
async fn finished_messages_are_deleted_after_seven_days_and_waiting_ones_never() {
    let app = spawn_app_with(|_| {}).await;
    app.db_exec(
        "INSERT INTO outbox (kind, recipient, state, finished_at, created_at) VALUES \
         ('password_reset', 'a@example.com', 'sent', now() - interval '8 days', now() - interval '8 days'), \
         ('password_reset', 'b@example.com', 'skipped', now() - interval '8 days', now() - interval '8 days'), \
         ('phone_code', '+821012345678', 'failed', now() - interval '8 days', now() - interval '8 days'), \
         ('password_reset', 'c@example.com', 'sent', now() - interval '6 days', now() - interval '6 days')",
    );
    app.db_exec(
        "INSERT INTO outbox (kind, recipient, state, next_attempt_at, created_at) VALUES \
         ('password_reset', 'd@example.com', 'pending', now() + interval '1 day', now() - interval '8 days')",
    );
    let purged = stampcard::models::purge_expired(&mut app.db()).unwrap();
    assert_eq!(purged, 3);
    assert_eq!(app.text_rows("SELECT recipient FROM outbox ORDER BY recipient"), ["c@example.com", "d@example.com"]);
}

#[tokio::test]
async fn a_non_ascii_client_entry_in_forwarded_for_leaves_the_proxys_entry_read() {
    let app: TestApp = spawn_app_with(|c| c.trusted_proxies.0 = vec!["127.0.0.0/8".parse().unwrap()]).await;
    app.customer("forwarded", None).await;
    let header = reqwest::header::HeaderValue::from_bytes(b"caf\xe9 \xff, 198.51.100.23").unwrap();
    let mut request = reqwest::Client::new()
        .request(Method::POST, format!("{}/api/v1/sessions", app.address))
        .json(&json!({"username": "forwarded", "password": "wrong password"}));
    request = request.header("x-forwarded-for", header);
    assert_eq!(request.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.text_rows("SELECT ip FROM login_failures"), ["198.51.100.23"]);
}
