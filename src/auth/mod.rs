//! Passwords and the rules around them: hashing on bcrypt's own threads, the rules a new
//! password must meet, counting attempts before they are checked, who the client is (for the
//! per-address count), and where a login may send the browser next. Who is logged in is the
//! session's business (`crate::session`).

pub mod attempts;
pub mod client_ip;
pub mod next_path;
pub mod password;
pub mod password_rules;
