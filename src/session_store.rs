//! actix-session's `SessionStore` on PostgreSQL.
//!
//! The cookie carries only a random 64-character key (about 380 bits); the row is found by
//! the key's SHA-256. Loading a session also loads its user in the same query (batched with
//! the lookups of concurrent requests, see [`crate::session_loader`]) and hands both to
//! [`crate::auth::CurrentUser`] through [`loaded_auth`], so that authenticating a request
//! costs at most one round trip.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use chrono::{DateTime, Utc};
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::Db;
use crate::error::ApiError;
use crate::middleware::problems::report_database_outage;
use crate::models::session::{NewSession, Session};
use crate::models::user::User;
use crate::session_loader::SessionLoader;

/// Session-state keys. actix-identity keeps the user id under `user_id` (see `startup.rs`).
pub mod keys {
    pub const USER_ID: &str = "user_id";
    /// The public id, creation and expiry time, chosen at login so that the login answer can
    /// describe the session before the row exists; a renewal keeps them.
    pub const SESSION_ID: &str = "session_id";
    pub const CREATED_AT: &str = "created_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const USER_AGENT: &str = "user_agent";
    pub const IP: &str = "ip";
    pub const REMEMBER: &str = "remember";
    /// Present when the session could not be loaded because the database is unreachable.
    pub const OUTAGE: &str = "stampcard.outage";
}

/// The session row and user found for the request's cookie.
#[derive(Debug, Clone)]
pub struct LoadedAuth {
    pub session: Session,
    pub user: User,
}

/// What the store and the handlers of one request tell each other past actix-session.
#[derive(Default)]
struct RequestSlot {
    /// What `load` found. actix-session's state map holds only strings, and a trip through
    /// JSON there cost ~18% of a whoami's server CPU (docs/performance.md).
    loaded: Option<LoadedAuth>,
    /// The key a handler already moved this request's session to (see [`move_to_new_key`]).
    moved_to: Option<SessionKey>,
}

tokio::task_local! {
    static SLOT: RefCell<RequestSlot>;
}

/// Middleware around actix-session's: the place where the store and handlers meet.
pub async fn keep_loaded_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    SLOT.scope(RefCell::new(RequestSlot::default()), next.call(req)).await
}

/// The session and user the store loaded for the current request, if it has a live one.
pub fn loaded_auth() -> Option<LoadedAuth> {
    SLOT.try_with(|slot| slot.borrow().loaded.clone()).ok().flatten()
}

/// A new key for this request's session, and its hash, for a handler that moves the session
/// row to it itself (in the same transaction as what made the renewal necessary, so that a
/// revocation cannot slip in between). actix-session's renewal then finds the row already
/// moved: its `delete` of the old key finds nothing and its `save` hands out this key.
pub fn move_to_new_key() -> Result<Vec<u8>, ApiError> {
    let key = new_key();
    let key_hash = hash(&key);
    SLOT.try_with(|slot| slot.borrow_mut().moved_to = Some(key))
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("keep_loaded_auth must wrap the session middleware")))?;
    Ok(key_hash)
}

/// A fresh random key: 64 alphanumeric characters, about 380 bits.
fn new_key() -> SessionKey {
    let key = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
    SessionKey::try_from(key).expect("64 characters are a valid session key")
}

#[derive(Clone)]
pub struct PgSessionStore {
    db: Db,
    loader: SessionLoader,
    /// Absolute lifetime of a session, whatever the cookie says.
    ttl: Duration,
}

impl PgSessionStore {
    /// A store with its own lookup batch ([`SessionLoader`]): the server builds one per worker.
    pub fn new(db: Db, ttl: Duration) -> Self {
        Self { loader: SessionLoader::new(db.clone()), db, ttl }
    }
}

/// The SHA-256 of a key: what the `sessions` table stores instead of the key.
fn hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

fn other(err: ApiError) -> anyhow::Error {
    if matches!(err, ApiError::Unavailable(_)) {
        report_database_outage();
    }
    anyhow::Error::new(err)
}

/// A state value as actix-session stores it: JSON text.
fn state_value<T: serde::de::DeserializeOwned>(state: &HashMap<String, String>, key: &str) -> Option<T> {
    serde_json::from_str(state.get(key)?).ok()
}

/// The state without the request-local entry, as a JSON object for the `state` column.
fn persistable(mut state: HashMap<String, String>) -> serde_json::Value {
    state.remove(keys::OUTAGE);
    serde_json::to_value(state).expect("a map of strings serialises")
}

impl SessionStore for PgSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let key_hash = hash(session_key);
        let found = match self.loader.load(key_hash).await {
            Ok(found) => found,
            Err(err) => {
                // An error here would reach the client as actix-session's plain-text 500 before
                // any route runs. Instead the request goes on with a marker, and whatever needs
                // the session answers 503 (see `CurrentUser` and logout).
                tracing::warn!(error = %err, "could not load a session");
                // Values are JSON text, as actix-session stores them.
                return Ok(Some(HashMap::from([(keys::OUTAGE.to_owned(), "true".to_owned())])));
            }
        };
        let Some((session, user)) = found else { return Ok(None) };
        let state = HashMap::<String, String>::deserialize(&session.state)
            .map_err(|e| LoadError::Deserialization(anyhow::Error::new(e)))?;
        let kept = SLOT.try_with(|slot| slot.borrow_mut().loaded = Some(LoadedAuth { session, user }));
        // Without the middleware every request would look anonymous: fail loudly instead.
        kept.map_err(|_| LoadError::Other(anyhow::anyhow!("keep_loaded_auth must wrap the session middleware")))?;
        Ok(Some(state))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, SaveError> {
        if let Some(moved) = SLOT.try_with(|slot| slot.borrow_mut().moved_to.take()).ok().flatten() {
            return Ok(moved);
        }
        let session_key = new_key();
        // Only logged-in sessions are stored: our handlers write state only at login.
        let user_id: Uuid = state_value(&state, keys::USER_ID)
            .ok_or_else(|| SaveError::Other(anyhow::anyhow!("refusing to store a session without a user")))?;
        let now = Utc::now();
        let time = |key| state_value::<i64>(&state, key).and_then(DateTime::from_timestamp_micros);
        let new = NewSession {
            id: state_value(&state, keys::SESSION_ID).unwrap_or_else(Uuid::new_v4),
            created_at: time(keys::CREATED_AT).unwrap_or(now),
            expires_at: time(keys::EXPIRES_AT).unwrap_or(now + self.ttl),
            key_hash: hash(&session_key),
            user_id,
            remember: state_value(&state, keys::REMEMBER).unwrap_or(false),
            user_agent: state_value(&state, keys::USER_AGENT),
            ip: state_value(&state, keys::IP),
            state: persistable(state),
        };
        // A user deactivated or deleted since the handler checked gets no row: the cookie then
        // names no session, and the next request is anonymous.
        self.db
            .run(move |conn| Session::insert_for_active_user(conn, new))
            .await
            .map_err(|e| SaveError::Other(other(e)))?;
        Ok(session_key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: HashMap<String, String>,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, UpdateError> {
        // A session deleted meanwhile (revoked from another device) stays deleted: the update
        // then touches no row, and the next request with this cookie is anonymous.
        let key_hash = hash(&session_key);
        let state = persistable(state);
        self.db
            .run(move |conn| Session::update_state(conn, &key_hash, state))
            .await
            .map_err(|e| UpdateError::Other(other(e)))?;
        Ok(session_key)
    }

    async fn update_ttl(
        &self,
        _session_key: &SessionKey,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<(), anyhow::Error> {
        // Lifetimes are absolute: activity never extends a session.
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let key_hash = hash(session_key);
        self.db.run(move |conn| Session::delete_by_key_hash(conn, &key_hash)).await.map_err(other)
    }
}
