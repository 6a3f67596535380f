//! The seam with actix-session: its `SessionStore`, on PostgreSQL.
//!
//! The cookie carries only a random 64-character key (about 380 bits); the row is found by
//! the key's SHA-256. Loading a session also loads its user in the same query (batched with
//! the lookups of concurrent requests, see [`super::batch`]), so that authenticating a
//! request costs at most one round trip. What `load` finds, and any failure, goes to the
//! request's [`Found`] (see `session::scope`): actix-session would pass on only strings, and
//! would answer a store error with a plain 500.

use std::collections::HashMap;
use std::time::Duration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use chrono::{DateTime, Utc};
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::batch::{Row, SessionLoader};
use super::{keys, with, Found};
use crate::db::Db;
use crate::error::ApiError;
use crate::models::session::{NewSession, Session};

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

/// A fresh random key: 64 alphanumeric characters, about 380 bits.
pub(super) fn new_key() -> SessionKey {
    let key = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
    SessionKey::try_from(key).expect("64 characters are a valid session key")
}

/// The SHA-256 of a key: what the `sessions` table stores instead of the key.
pub(super) fn hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

/// Notes an unreachable database for the request (it is then answered 503), and hands the
/// error on to actix-session.
fn failed(err: ApiError) -> anyhow::Error {
    if let ApiError::Unavailable(why) = &err {
        with(|r| r.found = Found::Unavailable(why.clone()));
    }
    anyhow::Error::new(err)
}

/// A state value as actix-session stores it: JSON text.
fn state_value<T: serde::de::DeserializeOwned>(state: &HashMap<String, String>, key: &str) -> Option<T> {
    serde_json::from_str(state.get(key)?).ok()
}

impl SessionStore for PgSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let found = match self.loader.load(hash(session_key)).await {
            Ok(found) => found,
            Err(err) => {
                // The request goes on as anonymous to actix-session; whatever needs the session
                // answers 503 (see `CurrentUser` and logout).
                tracing::warn!(error = %err, "could not load a session");
                with(|r| r.found = Found::Unavailable(err.to_string()));
                return Ok(None);
            }
        };
        let (session, user) = match found {
            Row::Live(live) => *live,
            Row::Ended(reason) => {
                with(|r| r.found = Found::Ended(reason));
                return Ok(None);
            }
            Row::Unknown => return Ok(None),
        };
        let state = HashMap::<String, String>::deserialize(&session.state)
            .map_err(|e| LoadError::Deserialization(anyhow::Error::new(e)))?;
        // Without `session::scope` every request would look anonymous: fail loudly instead.
        with(|r| r.found = Found::User(Box::new((session, user))))
            .ok_or_else(|| LoadError::Other(anyhow::anyhow!("session::scope must wrap the session middleware")))?;
        Ok(Some(state))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, SaveError> {
        // A renewal whose row the handler already moved (see `session::move_to_new_key`).
        if let Some(moved) = with(|r| r.moved_to.take()).flatten() {
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
            state: serde_json::to_value(state).expect("a map of strings serialises"),
        };
        // A user deactivated or deleted since the handler checked gets no row: the cookie then
        // names no session, and the next request is anonymous.
        self.db
            .run(move |conn| Session::insert_for_active_user(conn, new))
            .await
            .map_err(|e| SaveError::Other(failed(e)))?;
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
        let state = serde_json::to_value(state).expect("a map of strings serialises");
        self.db
            .run(move |conn| Session::update_state(conn, &key_hash, state))
            .await
            .map_err(|e| UpdateError::Other(failed(e)))?;
        Ok(session_key)
    }

    /// Called only when actix-session extends lifetimes on every request, which we never ask
    /// for: a session's lifetime is absolute, fixed at login, and activity never extends it.
    async fn update_ttl(
        &self,
        _session_key: &SessionKey,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<(), anyhow::Error> {
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let key_hash = hash(session_key);
        self.db.run(move |conn| Session::delete_by_key_hash(conn, &key_hash)).await.map_err(failed)
    }
}
