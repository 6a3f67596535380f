//! Lifetimes and waits: a session expires when the server says, and a request waits for a
//! pooled connection no longer than the configured timeout from when it began to wait.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, PASSWORD};

#[tokio::test]
async fn the_server_enforces_the_configured_session_lifetime() {
    let app = spawn_app_with(|c| c.session_ttl = 1).await;
    let client = app.customer("brief", None).await;
    let res =
        client.post("/api/v1/sessions", json!({"username": "brief", "password": PASSWORD, "remember": true})).await;
    let cookie = res.set_cookie("stampcard_session").unwrap();
    assert!(cookie.split("; ").any(|attribute| attribute == "Max-Age=1"), "{cookie}");
    assert_eq!(client.get("/api/v1/users/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    client.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn the_wait_for_a_connection_counts_from_when_the_request_began_to_wait() {
    // Nothing listens on port 1: the pool never gets a connection.
    let url = "postgres://nobody@127.0.0.1:1/none";
    let mut config = crate::helpers::test_config(url);
    config.db_timeout_ms = 400;
    let db = stampcard::db::Db::new(url, &config);
    let timed = |asked: Instant| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let result = db.run_here(asked, |_| Ok(()));
            (matches!(result, Err(stampcard::error::ApiError::Unavailable(_))), started.elapsed())
        })
    };
    // Queued for a thread longer than the timeout already: a 503 at once, no further wait.
    let (unavailable, waited) = timed(Instant::now() - Duration::from_secs(2)).await.unwrap();
    assert!(unavailable);
    assert!(waited < Duration::from_millis(200), "waited {waited:?} after the timeout had passed");
    // Asked just now: it waits out the timeout first.
    let (unavailable, waited) = timed(Instant::now()).await.unwrap();
    assert!(unavailable);
    assert!(waited >= Duration::from_millis(300), "gave up after {waited:?}");
}

#[test]
fn a_request_that_cannot_get_a_thread_within_the_timeout_is_503_at_the_timeout() {
    let _alone = tokio::runtime::Runtime::new().unwrap().block_on(crate::helpers::timing_sensitive());
    let url = crate::helpers::new_database();
    let mut config = crate::helpers::test_config(&url);
    config.db_timeout_ms = 400;
    let db = stampcard::db::Db::new(&url, &config);
    // One blocking thread, as when every thread of a worker holds a connection (startup.rs).
    let runtime = tokio::runtime::Builder::new_multi_thread().max_blocking_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let busy = db.clone();
        let holder = tokio::spawn(async move {
            busy.run(|conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query("SELECT pg_sleep(2)").execute(conn)?;
                Ok(())
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let queued = db.run(|_| Ok(())).await;
        let waited = started.elapsed();
        assert!(matches!(queued, Err(stampcard::error::ApiError::Unavailable(_))), "{queued:?}");
        assert!(waited < Duration::from_millis(1200), "answered after {waited:?}, not at the timeout");
        assert!(holder.await.unwrap().is_ok(), "the job that had started finished");
    });
}

#[tokio::test]
async fn a_reset_request_takes_as_long_for_an_unknown_address_as_for_a_known_one() {
    let _alone = crate::helpers::timing_sensitive().await;
    let smtp = crate::helpers::smtp::SmtpServer::start();
    let url = smtp.url();
    // Each request from an address of its own (behind a proxy the app believes): one address
    // may ask ten times an hour.
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(url);
        c.trusted_proxies.0.push(stampcard::config::parse_trusted("127.0.0.1").unwrap());
    })
    .await;
    let signup = json!({"username": "timed", "password": PASSWORD, "email": "known@example.com"});
    assert_eq!(app.client().post("/api/v1/users", signup).await.status, StatusCode::CREATED);
    let client = app.client();
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..50 {
        for (j, (address, times)) in
            [("known@example.com", &mut known), (format!("nobody{i}@example.com").as_str(), &mut unknown)]
                .into_iter()
                .enumerate()
        {
            let forwarded = format!("10.9.{i}.{j}");
            let started = Instant::now();
            let res = client
                .send(
                    reqwest::Method::POST,
                    "/api/v1/password-resets",
                    Some(json!({"email": address})),
                    &[("x-forwarded-for", &forwarded)],
                )
                .await;
            times.push(started.elapsed());
            assert_eq!(res.status, StatusCode::ACCEPTED);
        }
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (known, unknown) = (median(known), median(unknown));
    let difference = if known > unknown { known - unknown } else { unknown - known };
    assert!(difference < Duration::from_millis(10), "known {known:?}, unknown {unknown:?}");
}
