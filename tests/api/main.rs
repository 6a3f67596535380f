//! Integration tests: the real app over HTTP, each test on its own PostgreSQL database.

mod admin;
mod attempts;
mod binary;
mod cross_origin;
mod docs;
mod errors;
mod helpers;
mod openapi;
mod ops;
mod preferences;
mod round_trips;
mod sessions;
mod stamps;
mod users;
