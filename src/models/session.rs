//! Server-side sessions. A row is found by the SHA-256 of the cookie's key; the key itself is
//! never stored.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::codes::EndReason;
use crate::error::ApiError;
use crate::models::page::{Cursor, Page};
use crate::models::statement::{Bind, Statement};
use crate::models::user::User;
use crate::schema::{sessions, users};

/// How stale `last_seen_at` may get before a request writes it again.
const LAST_SEEN_GRANULARITY: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    pub id: Uuid,
    pub key_hash: Vec<u8>,
    pub user_id: Uuid,
    pub state: serde_json::Value,
    pub remember: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// When the owner last proved the password in this session (login, signup, password
    /// change, re-authentication): what sensitive changes ask about.
    pub authenticated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    pub id: Uuid,
    pub key_hash: Vec<u8>,
    pub user_id: Uuid,
    pub state: serde_json::Value,
    pub remember: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A session as its owner sees it in a list.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub last_seen_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub authenticated_at: DateTime<Utc>,
    pub current: bool,
}

impl Session {
    pub fn view(&self, current_id: Option<Uuid>) -> SessionView {
        SessionView {
            id: self.id,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
            authenticated_at: self.authenticated_at,
            current: Some(self.id) == current_id,
        }
    }

    /// The live sessions of these key hashes, each with its active user: one query
    /// authenticates a whole batch of requests (see `session::batch`). `last_seen_at` is
    /// refreshed (a second query) at most once a minute per session.
    pub fn find_live_with_users(
        conn: &mut PgConnection,
        key_hashes: &[Vec<u8>],
    ) -> Result<Vec<(Session, User)>, ApiError> {
        let now = Utc::now();
        let found = sessions::table
            .inner_join(users::table)
            .filter(sessions::key_hash.eq_any(key_hashes))
            .filter(sessions::expires_at.gt(now))
            .filter(users::is_active.eq(true))
            .select((Session::as_select(), User::as_select()))
            .load::<(Session, User)>(conn)?;
        let stale: Vec<Uuid> = found
            .iter()
            .filter(|(session, _)| now - session.last_seen_at > LAST_SEEN_GRANULARITY)
            .map(|(session, _)| session.id)
            .collect();
        if !stale.is_empty() {
            // Concurrent batches may all see a stale time; the first one writes it, the others
            // skip the locked rows instead of queueing behind them. The interval is
            // LAST_SEEN_GRANULARITY.
            Statement::new(
                "UPDATE sessions SET last_seen_at = now() WHERE id IN (SELECT id FROM sessions \
                 WHERE id = ANY($1) AND last_seen_at < now() - interval '60 seconds' FOR UPDATE SKIP LOCKED)",
            )
            .bind(Bind::Uuids(stale))
            .execute(conn)?;
        }
        Ok(found)
    }

    /// Stores a new session, right after its owner proved the password, if the user is still
    /// active and the password still the one proved (`password_hash`); `false` when not. The
    /// user's row is share-locked for the insert, so a deactivation, a password change or a
    /// reset (each deletes the user's sessions in the same transaction as its change) either
    /// comes first and this inserts nothing, or comes after and deletes this row too: a session
    /// never outlives the change that raced its login.
    pub fn insert_after_proof(conn: &mut PgConnection, new: NewSession, password_hash: &str) -> Result<bool, ApiError> {
        use diesel::sql_types::{Bool, Bytea, Jsonb, Nullable, Text, Timestamptz};
        let row = users::table
            .filter(users::id.eq(new.user_id))
            .filter(users::is_active)
            .filter(users::password_hash.eq(password_hash))
            .for_share()
            .select((
                new.id.into_sql::<diesel::sql_types::Uuid>(),
                new.key_hash.into_sql::<Bytea>(),
                users::id,
                new.state.into_sql::<Jsonb>(),
                new.remember.into_sql::<Bool>(),
                new.created_at.into_sql::<Timestamptz>(),
                new.expires_at.into_sql::<Timestamptz>(),
                new.user_agent.into_sql::<Nullable<Text>>(),
                new.ip.into_sql::<Nullable<Text>>(),
                // Seen and proved when it was made.
                new.created_at.into_sql::<Timestamptz>(),
                new.created_at.into_sql::<Timestamptz>(),
            ));
        let inserted = diesel::insert_into(sessions::table)
            .values(row)
            .into_columns((
                sessions::id,
                sessions::key_hash,
                sessions::user_id,
                sessions::state,
                sessions::remember,
                sessions::created_at,
                sessions::expires_at,
                sessions::user_agent,
                sessions::ip,
                sessions::last_seen_at,
                sessions::authenticated_at,
            ))
            .execute(conn)?;
        Ok(inserted == 1)
    }

    /// Moves the session `id` of `user_id` to a new key hash, after its owner proved the
    /// password in it: the session's new `authenticated_at`, or `None` when it is gone
    /// (revoked, or its user deactivated). Its row lock orders it with any concurrent
    /// revocation.
    pub fn move_key_after_proof(
        conn: &mut PgConnection,
        user_id: Uuid,
        id: Uuid,
        key_hash: &[u8],
    ) -> Result<Option<DateTime<Utc>>, ApiError> {
        Ok(diesel::update(sessions::table.filter(sessions::id.eq(id)).filter(sessions::user_id.eq(user_id)))
            .set((sessions::key_hash.eq(key_hash), sessions::authenticated_at.eq(Utc::now())))
            .returning(sessions::authenticated_at)
            .get_result(conn)
            .optional()?)
    }

    pub fn update_state(conn: &mut PgConnection, key_hash: &[u8], state: serde_json::Value) -> Result<(), ApiError> {
        diesel::update(sessions::table.filter(sessions::key_hash.eq(key_hash)))
            .set(sessions::state.eq(state))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete_by_key_hash(conn: &mut PgConnection, key_hash: &[u8]) -> Result<(), ApiError> {
        diesel::delete(sessions::table.filter(sessions::key_hash.eq(key_hash))).execute(conn)?;
        Ok(())
    }

    /// Deletes one of the user's sessions; `false` when it is not theirs or does not exist.
    pub fn delete_owned(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<bool, ApiError> {
        let n = diesel::delete(sessions::table.filter(sessions::id.eq(id)).filter(sessions::user_id.eq(user_id)))
            .execute(conn)?;
        Ok(n > 0)
    }

    /// Deletes every session of the user except `keep`; returns how many went.
    pub fn delete_all_for_user(conn: &mut PgConnection, user_id: Uuid, keep: Option<Uuid>) -> Result<usize, ApiError> {
        let mine = sessions::table.filter(sessions::user_id.eq(user_id));
        let n = match keep {
            Some(keep) => diesel::delete(mine.filter(sessions::id.ne(keep))).execute(conn)?,
            None => diesel::delete(mine).execute(conn)?,
        };
        Ok(n)
    }

    /// The user's live sessions, newest first.
    pub fn list_live(
        conn: &mut PgConnection,
        user_id: Uuid,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<Session>, ApiError> {
        let mut query = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires_at.gt(Utc::now()))
            .select(Session::as_select())
            .into_boxed();
        if let Some(after) = after {
            let (time, id) = (after.time()?, after.id()?);
            query =
                query.filter(sessions::created_at.lt(time).or(sessions::created_at.eq(time).and(sessions::id.lt(id))));
        }
        let rows = query.order((sessions::created_at.desc(), sessions::id.desc())).limit(limit + 1).load(conn)?;
        Ok(Page::from_rows(rows, limit, |s| Cursor::from_time_and_id(s.created_at, s.id)))
    }

    /// Deletes every session of a user whom an admin deactivated, remembering why they ended
    /// (see [`ended_reasons`]); a reactivation forgets it again ([`forget_endings`]).
    pub fn end_for_deactivation(conn: &mut PgConnection, user_id: Uuid) -> Result<usize, ApiError> {
        Ok(Statement::new(
            "WITH gone AS (DELETE FROM sessions WHERE user_id = $1 RETURNING key_hash, user_id, expires_at) \
             INSERT INTO ended_sessions (key_hash, user_id, reason, expires_at) \
             SELECT key_hash, user_id, 'account_deactivated', expires_at FROM gone ON CONFLICT DO NOTHING",
        )
        .bind(Bind::Uuid(user_id))
        .execute(conn)?)
    }

    /// Forgets why the user's sessions ended (the account is active again).
    pub fn forget_endings(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
        Statement::new("DELETE FROM ended_sessions WHERE user_id = $1").bind(Bind::Uuid(user_id)).execute(conn)?;
        Ok(())
    }

    /// Why the sessions of these key hashes ended, for those that an admin's deactivation ended.
    pub fn ended_reasons(
        conn: &mut PgConnection,
        key_hashes: &[Vec<u8>],
    ) -> Result<Vec<(Vec<u8>, EndReason)>, ApiError> {
        #[derive(QueryableByName)]
        struct Ended {
            #[diesel(sql_type = diesel::sql_types::Bytea)]
            key_hash: Vec<u8>,
            #[diesel(sql_type = diesel::sql_types::Text)]
            reason: String,
        }
        let rows: Vec<Ended> = Statement::new(
            "SELECT key_hash, reason FROM ended_sessions WHERE key_hash = ANY($1) AND expires_at > now()",
        )
        .bind(Bind::Bytes(key_hashes.to_vec()))
        .load(conn)?;
        // The table's CHECK allows no other reason.
        Ok(rows
            .into_iter()
            .filter(|e| e.reason == "account_deactivated")
            .map(|e| (e.key_hash, EndReason::AccountDeactivated))
            .collect())
    }

    /// Which of these sessions are still live (not ended, not expired).
    pub fn live_ids(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, ApiError> {
        Ok(sessions::table
            .filter(sessions::id.eq_any(ids))
            .filter(sessions::expires_at.gt(Utc::now()))
            .select(sessions::id)
            .load(conn)?)
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_expired(conn: &mut PgConnection) -> Result<usize, ApiError> {
        let ended = Statement::new("DELETE FROM ended_sessions WHERE expires_at <= now()").execute(conn)?;
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(Utc::now()))).execute(conn)? + ended)
    }
}
