//! Tests that measure time: bcrypt's cost, start-up, a graceful stop, waits for connections
//! and lifetimes. They run in a binary of their own, after the parallel suite (`tests/api`),
//! and one at a time ([`helpers::timing_sensitive`]), so that no other test measures them.

#[path = "../support/mod.rs"]
mod helpers;

mod bcrypt;
mod outbox;
mod process;
mod waits;
