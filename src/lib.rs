//! stampcard: a cafe loyalty stamp card as a JSON API, with accounts and server-side sessions.
//!
//! The binary (`main.rs`) parses the command line and calls into [`commands`]; the HTTP app is
//! assembled in [`startup`], so integration tests serve exactly what the binary serves.

pub mod accounts;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod fields;
pub mod idempotency;
pub mod messages;
pub mod middleware;
pub mod models;
pub mod preferences;
pub mod routes;
pub mod schema;
pub mod session_loader;
pub mod session_store;
pub mod startup;
pub mod time_format;
