//! `CurrentUser`: the extractor for guarded endpoints. The store has already loaded the
//! session and its (active) user with the request; without them the answer is the contract's
//! 401, never a redirect.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest};

use super::{found, identity, Found};
use crate::error::ApiError;
use crate::models::session::Session;
use crate::models::user::{Role, User};

/// The logged-in user of this request and the session they came with.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// 403 unless the user is staff or admin.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.role().is_staff() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// 403 `reauthentication_required` unless the owner proved the password in this session
    /// within `window` (`STAMPCARD_REAUTH_WINDOW`): what a stolen cookie cannot do.
    pub fn require_recent_proof(&self, window: std::time::Duration) -> Result<(), ApiError> {
        let age = chrono::Utc::now() - self.session.authenticated_at;
        if age.to_std().is_ok_and(|age| age > window) {
            Err(ApiError::ReauthenticationRequired)
        } else {
            Ok(())
        }
    }

    /// 403 unless the user is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role() == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match found() {
            Found::Unavailable(why) => Err(ApiError::Unavailable(why)),
            // The identity in the session state is the authority: a session cleared or taken
            // over by a login earlier in this request no longer belongs to what was loaded.
            Found::User(loaded) if identity::logged_in(req) == Some(loaded.1.id) => {
                let (session, user) = *loaded;
                Ok(Self { user, session })
            }
            found => {
                // Only a GET can simply be repeated after logging in.
                let next = (req.method() == Method::GET).then(|| {
                    req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned())
                });
                let reason = match found {
                    Found::Ended(reason) => Some(reason),
                    _ => None,
                };
                Err(ApiError::Unauthenticated { next, reason })
            }
        })
    }
}
