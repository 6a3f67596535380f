//! The server process: ready quickly, and a SIGTERM lets in-flight requests finish and ends
//! the live streams, which would otherwise hold the graceful stop up for its 30 s.

use std::time::{Duration, Instant};

use crate::helpers::events::{EventStream, Next};
use crate::helpers::{new_database, serve, wait_ready, Client, PASSWORD};

#[tokio::test]
async fn serve_is_ready_within_a_second_on_a_migrated_database() {
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let server = serve(&url, &[]).await;
    let ready = wait_ready(&server.base, Duration::from_secs(10)).await;
    assert!(ready.is_some_and(|t| t < Duration::from_secs(1)), "ready after {ready:?}");
}

#[tokio::test]
async fn sigterm_and_sigint_let_in_flight_requests_finish_and_exit_zero() {
    let _alone = crate::helpers::timing_sensitive().await;
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let url = tokio::task::spawn_blocking(new_database).await.unwrap();
        // With a metrics listener too: a second server in the process must not cut the first
        // one's graceful stop short.
        let metrics = format!("127.0.0.1:{}", devdb::free_port().unwrap());
        let mut server = serve(&url, &[("STAMPCARD_BCRYPT_COST", "14"), ("STAMPCARD_METRICS_ADDR", &metrics)]).await;
        wait_ready(&server.base, Duration::from_secs(10)).await.expect("ready");
        let client = reqwest::Client::new();
        let signup = serde_json::json!({"username": "slowpoke", "password": PASSWORD});
        // A signup at cost 14 spends over a second in bcrypt: long enough to be
        // in flight when the signal arrives.
        let in_flight = tokio::spawn(client.post(format!("{}/api/v1/users", server.base)).json(&signup).send());
        tokio::time::sleep(Duration::from_millis(80)).await;
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(server.child.id() as i32, signal) };

        let response = in_flight.await.unwrap().expect("the in-flight request is answered");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "signal {signal}");
        let status = tokio::task::spawn_blocking(move || server.child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "signal {signal}: exit status {status:?}");
    }
}

#[tokio::test]
async fn sigterm_ends_the_open_streams_and_the_process_exits_zero_at_once() {
    let _alone = crate::helpers::timing_sensitive().await;
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let mut server = serve(&url, &[]).await;
    wait_ready(&server.base, Duration::from_secs(10)).await.expect("ready");
    let customer = Client::new(&server.base);
    let signup = customer.post("/api/v1/users", serde_json::json!({"username": "watcher", "password": PASSWORD})).await;
    assert_eq!(signup.status, reqwest::StatusCode::CREATED, "{}", signup.body);
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut stream = EventStream::open(&server.base, &customer.cookie().unwrap()).await;
        stream.card(Duration::from_secs(5)).await;
        streams.push(stream);
    }

    let signalled = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    for stream in &mut streams {
        assert_eq!(stream.next(Duration::from_secs(5)).await, Next::Closed, "the stream ends with the instance");
    }
    let status = tokio::task::spawn_blocking(move || server.child.wait()).await.unwrap().unwrap();
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "exited {took:?} after the SIGTERM (the graceful stop's limit is 30 s)");
}
