//! Authentication and authorisation: who is calling, what they may do, and how passwords,
//! login throttling and redirect targets are handled.

pub mod attempts;
pub mod client_ip;
pub mod current_user;
pub mod next_path;
pub mod password;
pub mod password_rules;
pub mod session;

pub use current_user::CurrentUser;
