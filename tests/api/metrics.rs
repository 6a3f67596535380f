//! `/metrics`: Prometheus' text format on a listener of its own, counting what happens.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, PASSWORD};

async fn scrape(app: &TestApp) -> String {
    let res = reqwest::get(format!("{}/metrics", app.metrics_address)).await.expect("the metrics listener answers");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// The value of one series (`name{labels}`, exactly as rendered), or 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_count_what_happens() {
    let app = spawn_app().await;
    let staff = app.user_with_role("barista", "staff").await;
    let customer = app.customer("counted", Some("010-5555-6666")).await;
    assert_eq!(customer.get("/api/v1/users/me").await.status, StatusCode::OK);
    for count in [4, 6] {
        let res = staff.post("/api/v1/stamps", json!({"phone": "010-5555-6666", "count": count})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    let redeemed = staff.post("/api/v1/stamps/redemptions", json!({"phone": "010-5555-6666"})).await;
    assert_eq!(redeemed.status, StatusCode::CREATED, "{}", redeemed.text);
    for _ in 0..11 {
        app.client().login("counted", "wrong guess").await;
    }
    assert_eq!(app.client().login("counted", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);

    let text = scrape(&app).await;
    assert_eq!(value(&text, "stampcard_stamps_issued_total"), 10.0);
    assert_eq!(value(&text, "stampcard_rewards_redeemed_total"), 1.0);
    assert_eq!(value(&text, "stampcard_login_failures_total"), 10.0);
    assert_eq!(value(&text, "stampcard_account_lockouts_total"), 1.0);
    assert_eq!(value(&text, r#"stampcard_password_attempts_refused_total{limit="account"}"#), 2.0);
    assert_eq!(value(&text, r#"stampcard_limit_refusals_total{limit="account"}"#), 2.0);
    assert_eq!(value(&text, "stampcard_streams_open"), 0.0);
    assert!(value(&text, "stampcard_password_verifications_total") >= 11.0, "{text}");
    let whoami = r#"{method="GET",route="/api/v1/users/me",status="200"}"#;
    assert!(value(&text, &format!("stampcard_http_requests_total{whoami}")) >= 1.0, "{text}");
    assert!(
        value(&text, r#"stampcard_http_request_duration_seconds_count{method="GET",route="/api/v1/users/me"}"#) >= 1.0
    );
    assert!(
        value(&text, r#"stampcard_http_requests_total{method="POST",route="/api/v1/sessions",status="429"}"#) >= 1.0
    );
    assert!(value(&text, "stampcard_session_lookups_total") >= 1.0);
    assert!(value(&text, "stampcard_session_lookup_batch_size_count") >= 1.0);
    assert!(value(&text, "stampcard_db_pool_wait_seconds_count") >= 1.0);
    let connections = value(&text, r#"stampcard_db_pool_connections{state="idle"}"#)
        + value(&text, r#"stampcard_db_pool_connections{state="in_use"}"#);
    assert!(connections >= 1.0, "{text}");
    assert!(text.contains(r#"stampcard_password_jobs{state="queued"}"#), "{text}");
    assert_eq!(value(&text, "stampcard_outbox_failed_messages"), 0.0);
    assert!(text.contains(r#"stampcard_outbox_pending_messages{kind="phone_code"}"#), "{text}");
    assert!(text.contains(r#"stampcard_outbox_oldest_pending_seconds{kind="password_reset"}"#), "{text}");
    assert!(text.contains(r#"stampcard_sms_hour{of="limit"} 500"#), "{text}");

    // Counters only move forward, and count what happens next.
    assert_eq!(customer.get("/api/v1/users/me").await.status, StatusCode::OK);
    let later = scrape(&app).await;
    assert_eq!(
        value(&later, &format!("stampcard_http_requests_total{whoami}")),
        value(&text, &format!("stampcard_http_requests_total{whoami}")) + 1.0
    );
    // Never on the public address.
    app.client().get("/metrics").await.assert_problem(404, "not_found");
}
