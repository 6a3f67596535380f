//! The middleware stack, outermost first: request log, problem rendering, CORS (actix-cors),
//! request guard, identity and session (actix-identity, actix-session). `startup.rs` wires them.

pub mod cors;
pub mod problems;
pub mod request_guard;
pub mod request_log;
