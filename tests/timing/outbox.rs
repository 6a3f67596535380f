//! The outbox under a flood: no kind of message waits behind another.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::sms::SmsGateway;
use crate::helpers::smtp::SmtpServer;
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_backlog_of_a_thousand_mails_delays_a_phone_code_by_less_than_two_seconds() {
    let _alone = crate::helpers::timing_sensitive().await;
    let smtp = SmtpServer::start();
    let gateway = SmsGateway::start();
    let (mail, sms) = (smtp.url(), gateway.url.clone());
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(mail);
        c.sms_webhook_url = Some(sms);
    })
    .await;
    let client = app.customer("waiting", Some("010-5050-1234")).await;
    // A flood of reset requests, as a table full of them: the mail worker has work for a while.
    app.db_exec(
        "INSERT INTO outbox (kind, recipient) \
         SELECT 'password_reset', 'flood' || i || '@example.com' FROM generate_series(1, 1000) AS i",
    );

    let asked = Instant::now();
    assert_eq!(client.post("/api/v1/users/me/phone-verification", json!({})).await.status, StatusCode::ACCEPTED);
    gateway.wait_for(1, Duration::from_secs(20)).await;
    let delay = asked.elapsed();

    assert!(delay < Duration::from_secs(2), "the code took {delay:?}");
    let pending = app.count("SELECT count(*) FROM outbox WHERE state = 'pending' AND kind = 'password_reset'");
    assert!(pending > 0, "the mail flood was still going when the code arrived ({pending} left)");
    eprintln!("a phone code behind 1,000 mails: {delay:?} ({pending} mails still waiting)");
}

#[tokio::test]
async fn a_backlog_of_a_thousand_reset_mails_delays_a_verification_link_by_less_than_two_seconds() {
    let _alone = crate::helpers::timing_sensitive().await;
    let smtp = SmtpServer::start();
    let mail = smtp.url();
    let app = spawn_app_with(move |c| c.smtp_url = Some(mail)).await;
    app.db_exec(
        "INSERT INTO outbox (kind, recipient) \
         SELECT 'password_reset', 'flood' || i || '@example.com' FROM generate_series(1, 1000) AS i",
    );

    let asked = Instant::now();
    let signup = json!({"username": "linked", "password": crate::helpers::PASSWORD, "email": "linked@example.com"});
    assert_eq!(app.client().post("/api/v1/users", signup).await.status, StatusCode::CREATED);
    let linked = || std::future::ready(smtp.mails().iter().any(|m| m.contains("verify-email")));
    crate::helpers::eventually(Duration::from_secs(20), "the verification link", linked).await;
    let delay = asked.elapsed();

    assert!(delay < Duration::from_secs(2), "the link took {delay:?}");
    eprintln!("a verification link behind 1,000 reset mails: {delay:?}");
}
