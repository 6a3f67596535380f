//! Rows, their invariants and their queries, one module per table group.

pub mod card;
pub mod idempotency;
pub mod outbox;
pub mod page;
pub mod phone;
pub mod reset;
pub mod session;
pub mod statement;
pub mod throttle;
pub mod user;
