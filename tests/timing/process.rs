//! The server process: ready quickly, and a SIGTERM lets in-flight requests finish.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{new_database, stampcard, PASSWORD};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `stampcard serve` on a migrated database and a free port.
async fn serve(database_url: &str, extra: &[(&str, &str)]) -> Server {
    let port = devdb::free_port().unwrap();
    let child = stampcard()
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("STAMPCARD_DEV", "1")
        .env("STAMPCARD_ADDR", format!("127.0.0.1:{port}"))
        .env("STAMPCARD_WORKERS", "1")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

async fn wait_ready(base: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test]
async fn serve_is_ready_within_a_second_on_a_migrated_database() {
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let server = serve(&url, &[]).await;
    let ready = wait_ready(&server.base, Duration::from_secs(10)).await;
    assert!(ready.is_some_and(|t| t < Duration::from_secs(1)), "ready after {ready:?}");
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    let _alone = crate::helpers::timing_sensitive().await;
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let mut server = serve(&url, &[("STAMPCARD_BCRYPT_COST", "12")]).await;
    wait_ready(&server.base, Duration::from_secs(10)).await.expect("ready");
    let client = reqwest::Client::new();
    let signup = serde_json::json!({"username": "slowpoke", "password": PASSWORD});
    // A signup at cost 12 spends a few hundred milliseconds in bcrypt: long enough to be
    // in flight when the signal arrives.
    let in_flight = tokio::spawn(client.post(format!("{}/api/v1/users", server.base)).json(&signup).send());
    tokio::time::sleep(Duration::from_millis(80)).await;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };

    let response = in_flight.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let status = tokio::task::spawn_blocking(move || server.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status:?}");
}
