//! Idempotency-Key records: who sent which key to which endpoint, a fingerprint of the body,
//! and the response the request got.
//!
//! A key is held by a transaction, not by a row: the request that takes the key's advisory
//! transaction lock ([`Key::begin`]) runs the effect and stores its response ([`Key::store`])
//! in that same transaction. A duplicate that finds the lock taken is told the key is in
//! progress. If the owner dies (its instance killed, its connection cut, the database
//! restarted), PostgreSQL aborts its transaction and releases the lock at once, with nothing
//! of the effect committed, and the next retry runs it: never a second effect, and never a
//! key stuck behind a dead owner. A row therefore always means "done, exactly once".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ApiError;
use crate::schema::idempotency_keys as keys;

/// A key as the caller scoped it: their user id, the endpoint and the header's value.
#[derive(Debug, Clone)]
pub struct Key {
    pub user_id: Uuid,
    /// The method and path, as the client sent it (a void is scoped to its event's path).
    pub endpoint: String,
    pub key: String,
}

/// What a request with a key may do.
#[derive(Debug)]
pub enum Begun {
    /// Run the effect: this request's transaction holds the key.
    Owned,
    /// Replay this response: an earlier request with the same key and body finished.
    Done { status: i16, body: Value },
}

/// How long a claim without a response, written by the previous version of the server (which
/// claimed keys with a row of their own), is taken to be running.
const LEGACY_CLAIM_RUNS_FOR: chrono::Duration = chrono::Duration::minutes(1);

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

impl Key {
    /// In the caller's transaction: takes the key, or says why not: 422
    /// `idempotency_key_reused` when it was used with another body, 409
    /// `idempotency_key_in_progress` while another request holds it.
    pub fn begin(&self, conn: &mut PgConnection, fingerprint: &[u8]) -> Result<Begun, ApiError> {
        let Locked { locked } =
            diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked")
                .bind::<Text, _>(format!("idempotency:{}:{}:{}", self.user_id, self.endpoint, self.key))
                .get_result(conn)?;
        if !locked {
            return Err(ApiError::IdempotencyKeyInProgress);
        }
        let found = keys::table
            .find((self.user_id, &self.endpoint, &self.key))
            .select((keys::fingerprint, keys::status, keys::body, keys::created_at))
            .first::<(Vec<u8>, Option<i16>, Option<Value>, DateTime<Utc>)>(conn)
            .optional()?;
        match found {
            None => Ok(Begun::Owned),
            Some((stored, ..)) if stored != fingerprint => Err(ApiError::IdempotencyKeyReused),
            Some((_, Some(status), body, _)) => Ok(Begun::Done { status, body: body.unwrap_or(Value::Null) }),
            Some((.., created_at)) if Utc::now() - created_at < LEGACY_CLAIM_RUNS_FOR => {
                Err(ApiError::IdempotencyKeyInProgress)
            }
            Some(_) => {
                diesel::delete(keys::table.find((self.user_id, &self.endpoint, &self.key))).execute(conn)?;
                Ok(Begun::Owned)
            }
        }
    }

    /// Stores the response of the effect, in the transaction that ran it.
    pub fn store(
        &self,
        conn: &mut PgConnection,
        fingerprint: &[u8],
        status: u16,
        body: &Value,
    ) -> Result<(), ApiError> {
        let status = i16::try_from(status).map_err(|_| anyhow::anyhow!("status {status} does not fit"))?;
        diesel::insert_into(keys::table)
            .values((
                keys::user_id.eq(self.user_id),
                keys::endpoint.eq(&self.endpoint),
                keys::key.eq(&self.key),
                keys::fingerprint.eq(fingerprint),
                keys::status.eq(status),
                keys::body.eq(body),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Deletes records older than 24 hours (the contract keeps them at least that long); returns
/// how many went.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::sql_query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
        .execute(conn)?)
}
