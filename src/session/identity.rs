//! The seam with actix-identity: it names the logged-in user, under `keys::USER_ID` in the
//! session state, and purges the whole session at logout. Everything else about a session is
//! ours; this file is the only one that speaks to actix-identity.

use actix_identity::config::LogoutBehaviour;
use actix_identity::{Identity, IdentityExt, IdentityMiddleware};
use actix_web::{HttpMessage, HttpRequest};
use uuid::Uuid;

use super::keys;
use crate::error::ApiError;

/// actix-identity's middleware, keeping the user id where the store and [`logged_in`] expect
/// it; a logout purges the session (the store deletes the row, the cookie is cleared).
pub fn middleware() -> IdentityMiddleware {
    IdentityMiddleware::builder().id_key(keys::USER_ID).logout_behaviour(LogoutBehaviour::PurgeSession).build()
}

/// Names `user_id` the user of this request's session, and renews its key.
pub(super) fn log_in(req: &HttpRequest, user_id: Uuid) -> Result<(), ApiError> {
    Identity::login(&req.extensions(), user_id.to_string()).map(drop).map_err(|e| ApiError::Internal(e.into()))
}

/// The user this request's session names now. A login or logout earlier in the same request
/// changes it, which is why the loaded row alone cannot say.
pub(super) fn logged_in(req: &HttpRequest) -> Option<Uuid> {
    let identity = req.get_identity().ok()?;
    identity.id().ok()?.parse().ok()
}

/// Ends this request's session, if it has a user: actix-session deletes the row and clears
/// the cookie. `false` when there was none.
pub fn log_out(req: &HttpRequest) -> bool {
    match req.get_identity() {
        Ok(identity) => {
            identity.logout();
            true
        }
        Err(_) => false,
    }
}
