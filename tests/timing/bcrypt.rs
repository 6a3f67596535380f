//! bcrypt at its production cost: the same time for unknown users and wrong passwords, other
//! requests unaffected by a burst of logins, no bcrypt for a client that hung up.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use stampcard::auth::password::Passwords;
use tokio::io::AsyncWriteExt;

use crate::helpers::{spawn_app_with, spawn_app_with_passwords, TestApp};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn at_cost_12_unknown_users_and_wrong_passwords_take_the_same_time() {
    let _alone = crate::helpers::timing_sensitive().await;
    let app = spawn_app_with(|c| c.bcrypt_cost = 12).await;
    app.customer("timed", None).await;
    let client = app.client();
    client.login("nobody-here", "warm up the dummy hash").await;
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let start = Instant::now();
        client.login("nobody-here", "wrong password").await.assert_problem(401, "invalid_credentials");
        unknown.push(start.elapsed());
        let start = Instant::now();
        client.login("timed", "wrong password").await.assert_problem(401, "invalid_credentials");
        wrong.push(start.elapsed());
    }
    let (u, w) = (median(unknown).as_secs_f64(), median(wrong).as_secs_f64());
    assert!((u - w).abs() / u.max(w) < 0.20, "unknown {u:.3}s vs wrong {w:.3}s");
    assert!(w > 0.05, "cost 12 really ran: {w:.3}s");
}

#[tokio::test]
async fn requests_stay_fast_while_bcrypt_is_busy() {
    let _alone = crate::helpers::timing_sensitive().await;
    // A queue long enough for every login, however slowly this busy machine runs bcrypt.
    let passwords = Passwords::start_with_max_wait(12, stampcard::config::cores(), Duration::from_secs(60));
    let app = spawn_app_with_passwords(passwords, |_| {}).await;
    let reader = app.customer("reader", None).await;
    let logins: Vec<_> = (0..8).map(|_| app.client()).collect();
    let started = Instant::now();
    let busy = join_all(logins.iter().map(|c| c.login("reader", "wrong password")));
    let probe = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let start = Instant::now();
        let res = reader.get("/api/v1/users/me").await;
        (res.status, start.elapsed())
    };
    let (results, (status, probe_latency)) = tokio::join!(busy, probe);
    let all_logins = started.elapsed();
    assert!(
        results.iter().all(|r| r.status == StatusCode::UNAUTHORIZED),
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(status, StatusCode::OK);
    // The app has a single async worker: had bcrypt run on it, the probe would wait for the
    // logins queued before it.
    assert!(probe_latency < all_logins / 3, "probe {probe_latency:?} while 8 logins took {all_logins:?}");
}

#[tokio::test]
async fn a_login_whose_client_hangs_up_before_its_turn_costs_no_bcrypt() {
    let _alone = crate::helpers::timing_sensitive().await;
    // One thread at cost 12: each check holds it for a quarter of a second or more.
    let app = spawn_app_with_passwords(Passwords::start(12, 1), |_| {}).await;
    let waiting = app.client();
    let first = tokio::spawn(async move { waiting.login("patient", "guess").await.status });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // All at once, so that every one hangs up while the thread is still busy with the first.
    let names: Vec<String> = (0..10).map(|i| format!("impatient-{i}")).collect();
    join_all(names.iter().map(|name| hang_up_after_sending_a_login(&app, name))).await;
    assert_eq!(first.await.unwrap(), StatusCode::UNAUTHORIZED);
    // Let the thread reach the abandoned jobs: they are skipped, not run.
    let drained = || std::future::ready(app.passwords.load() == (0, 0));
    crate::helpers::eventually(Duration::from_secs(5), "the queue to drain", drained).await;
    assert_eq!(app.passwords.verifications(), 1, "only the login that waited for its answer was checked");
    // Each abandoned login still counted as an attempt of its address.
    assert!(app.count("SELECT count(*) FROM login_failures") >= 1);
}

/// Sends a login on a raw connection, waits until the server has queued it, and closes.
async fn hang_up_after_sending_a_login(app: &TestApp, username: &str) {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let body = json!({"username": username, "password": "guess"}).to_string();
    let request = format!(
        "POST /api/v1/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(30)).await;
    drop(stream);
}
