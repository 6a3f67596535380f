//! The seam with actix-session: its `SessionStore`, on PostgreSQL.
//!
//! The cookie carries only a random 64-character key (about 380 bits); the row is found by
//! the key's SHA-256. Loading a session also loads its user in the same query (batched with
//! the lookups of concurrent requests, see [`super::batch`]), so that authenticating a
//! request costs at most one round trip. What `load` finds, and any failure, goes to the
//! request's [`Found`] (see `session::scope`): actix-session would pass on only strings, and
//! would answer a store error with a plain 500.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::batch::{Row, SessionLoader};
use super::{with, Found};
use crate::db::Db;
use crate::error::ApiError;
use crate::models::session::Session;

#[derive(Clone)]
pub struct PgSessionStore {
    db: Db,
    loader: SessionLoader,
}

impl PgSessionStore {
    /// A store with its own lookup batch ([`SessionLoader`]): the server builds one per worker.
    pub fn new(db: Db) -> Self {
        Self { loader: SessionLoader::new(db.clone()), db }
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
        _state: HashMap<String, String>,
        _ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, SaveError> {
        // Every session is stored by the handler that made it, after a password proof (see
        // `session::log_in` and `session::move_to_new_key`): here it only hands out that key.
        // A session made any other way would be one nobody proved.
        match with(|r| r.moved_to.take()).flatten() {
            Some(key) => Ok(key),
            None => Err(SaveError::Other(anyhow::anyhow!("refusing to store a session no handler made"))),
        }
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
