//! Integration tests: the real app over HTTP, each test on its own PostgreSQL database. What
//! measures time runs alone, in `tests/timing`.

#[path = "../support/mod.rs"]
mod helpers;

mod admin;
mod architecture;
mod attempts;
mod binary;
mod counter;
mod cross_origin;
mod docs;
mod docs_viewer;
mod email_verification;
mod errors;
mod limits;
mod metrics;
mod openapi;
mod ops;
mod owner;
mod password_resets;
mod phone_verification;
mod preferences;
mod reauthentication;
mod round_trips;
mod sessions;
mod stamps;
mod users;
mod web_app;
