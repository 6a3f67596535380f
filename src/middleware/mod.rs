//! The middleware stack, outermost first: the request log, the fixed headers (`nosniff`,
//! `no-store`), the session's request record (`session::scope`), problem rendering, the CORS
//! header filter and actix-cors, the request guard, then actix-session and, innermost,
//! actix-identity. `startup.rs` wires them, in that order.

pub mod cors;
pub mod problems;
pub mod request_guard;
pub mod request_log;
