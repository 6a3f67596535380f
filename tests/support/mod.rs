//! The test harness, shared by the test binaries: `tests/api` (everything that may run in
//! parallel) and `tests/timing` (what measures time, one test at a time). Each binary uses a
//! part of it, hence unused code and re-exports are allowed here.
#![allow(dead_code, unused_imports)]

mod app;
mod binary;
mod client;
mod database;
pub mod events;
pub mod sms;
pub mod smtp;

pub use app::{spawn_app, spawn_app_on, spawn_app_with, spawn_app_with_passwords, test_config, TestApp};
pub use binary::{serve, serve_logging, stampcard, wait_ready, Server};
pub use client::{Client, Res};
pub use database::{empty_database, new_database};

/// Waits until `condition` holds, asking every 20 ms; after `within`, fails the test saying
/// what it waited for. Every test that waits for something to happen waits through this.
pub async fn eventually<F, Fut>(within: std::time::Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "waited {within:?} in vain for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until `read` returns at least `n` items (the messages a transport received), or
/// panics after `within`, saying how many of which `kind` came.
pub async fn at_least<T>(n: usize, within: std::time::Duration, kind: &str, read: impl Fn() -> Vec<T>) -> Vec<T> {
    let what = format!("{n} {kind} (had {} when the wait began)", read().len());
    eventually(within, &what, || std::future::ready(read().len() >= n)).await;
    read()
}

/// A password that passes every rule.
pub const PASSWORD: &str = "flat white at dawn";

/// Serialises the tests that measure time with bcrypt at its production cost: run side by
/// side on two cores they would measure each other.
pub async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}
