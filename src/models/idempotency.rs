//! Idempotency-Key records: who sent which key to which endpoint, a fingerprint of the body,
//! and, once the first request is done, the response it got.
//!
//! A request claims its key by inserting the row (the primary key makes exactly one insert
//! win, however many duplicates race); the effect and the stored response then commit in one
//! transaction ([`Key::complete`]), so a row with a response always means "done, exactly once"
//! and a row without one means "running, or failed without an effect".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ApiError;
use crate::schema::idempotency_keys as keys;

/// A key as the caller scoped it: their user id, the endpoint and the header's value.
#[derive(Debug, Clone)]
pub struct Key {
    pub user_id: Uuid,
    pub endpoint: &'static str,
    pub key: String,
}

/// Proof of a claim: the `created_at` the claim wrote. Completing or releasing a row checks
/// it, so a request whose abandoned claim was taken over cannot touch the new owner's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed(DateTime<Utc>);

/// What a request with a key may do.
#[derive(Debug)]
pub enum Claim {
    /// Run the effect: this request owns the key.
    Owned(Claimed),
    /// Replay this response: an earlier request with the same key and body finished.
    Done { status: i16, body: Value },
}

/// How long a claim without a response may stay before another request may take it over.
/// Such a claim is left behind only when the owner vanished (a crash, a dropped connection,
/// a failed clean-up while the database was away); its effect did not commit, because the
/// effect and the response commit together.
const ABANDONED_AFTER: &str = "1 minute";

impl Key {
    /// Claims the key, or says why not: 422 `idempotency_key_reused` for another body, 409
    /// `idempotency_key_in_progress` while the first request runs.
    pub fn claim(&self, conn: &mut PgConnection, fingerprint: &[u8]) -> Result<Claim, ApiError> {
        // A row can disappear between our INSERT and SELECT (its request failed and released
        // it); the next pass then claims it. More passes than that mean heavy churn on one key.
        for _ in 0..3 {
            let inserted = diesel::insert_into(keys::table)
                .values((
                    keys::user_id.eq(self.user_id),
                    keys::endpoint.eq(self.endpoint),
                    keys::key.eq(&self.key),
                    keys::fingerprint.eq(fingerprint),
                ))
                .on_conflict_do_nothing()
                .returning(keys::created_at)
                .get_result::<DateTime<Utc>>(conn)
                .optional()?;
            if let Some(created_at) = inserted {
                return Ok(Claim::Owned(Claimed(created_at)));
            }
            let found = keys::table
                .find((self.user_id, self.endpoint, &self.key))
                .select((keys::fingerprint, keys::status, keys::body))
                .first::<(Vec<u8>, Option<i16>, Option<Value>)>(conn)
                .optional()?;
            let Some((stored_fingerprint, status, body)) = found else { continue };
            if stored_fingerprint != fingerprint {
                return Err(ApiError::IdempotencyKeyReused);
            }
            if let Some(status) = status {
                return Ok(Claim::Done { status, body: body.unwrap_or(Value::Null) });
            }
            return match self.take_over_abandoned(conn)? {
                Some(claimed) => Ok(Claim::Owned(claimed)),
                None => Err(ApiError::IdempotencyKeyInProgress),
            };
        }
        Err(ApiError::IdempotencyKeyInProgress)
    }

    /// Claims a row that has waited for its response longer than [`ABANDONED_AFTER`].
    fn take_over_abandoned(&self, conn: &mut PgConnection) -> Result<Option<Claimed>, ApiError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Timestamptz)]
            created_at: DateTime<Utc>,
        }
        let sql = format!(
            "UPDATE idempotency_keys SET created_at = now()
             WHERE user_id = $1 AND endpoint = $2 AND key = $3 AND status IS NULL
               AND created_at < now() - interval '{ABANDONED_AFTER}'
             RETURNING created_at"
        );
        let row: Option<Row> = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(self.user_id)
            .bind::<Text, _>(self.endpoint)
            .bind::<Text, _>(&self.key)
            .get_result(conn)
            .optional()?;
        Ok(row.map(|r| Claimed(r.created_at)))
    }

    /// Stores the response; call it in the effect's transaction. 409
    /// `idempotency_key_in_progress` (rolling the effect back) if the claim was taken over.
    pub fn complete(
        &self,
        conn: &mut PgConnection,
        claimed: Claimed,
        status: u16,
        body: &Value,
    ) -> Result<(), ApiError> {
        let status = i16::try_from(status).map_err(|_| anyhow::anyhow!("status {status} does not fit"))?;
        let updated = diesel::update(keys::table.find((self.user_id, self.endpoint, &self.key)))
            .filter(keys::created_at.eq(claimed.0))
            .filter(keys::status.is_null())
            .set((keys::status.eq(status), keys::body.eq(body)))
            .execute(conn)?;
        if updated == 1 {
            Ok(())
        } else {
            Err(ApiError::IdempotencyKeyInProgress)
        }
    }

    /// Gives the key up after a failure that is not replayed, so that a retry runs.
    pub fn release(&self, conn: &mut PgConnection, claimed: Claimed) -> Result<(), ApiError> {
        diesel::delete(keys::table.find((self.user_id, self.endpoint, &self.key)))
            .filter(keys::created_at.eq(claimed.0))
            .filter(keys::status.is_null())
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
