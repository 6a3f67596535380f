//! Integration tests: the real app over HTTP, each test on its own PostgreSQL database.

mod config;
mod errors;
mod helpers;
mod ops;
mod stamps;
