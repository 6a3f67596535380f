//! The audit log: who did what to whom, when, from where.
//!
//! An entry is written by [`record`] in the transaction of the change it records, so there is
//! no change without its entry and no entry of a change that rolled back. The table refuses
//! `UPDATE`, `TRUNCATE` and the `DELETE` of an entry younger than the retention by itself (a
//! trigger, see the migration `the_owners_view`); [`purge`] removes the older ones. An account
//! lock is recorded by the SQL function that sets it (`claim_password_attempt`).
//!
//! Entries keep ids; names are looked up when the log is read ([`list`]), so an erased
//! account's name is gone from the log too.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::page::{Cursor, Page};
use crate::error::ApiError;

/// What an entry records. The text (`user.role_changed`) is the API's, the CLI's and the
/// table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
pub enum Action {
    /// An account made with the command line (signups are not entries: there are too many,
    /// and nobody but the customer acted).
    #[strum(serialize = "user.created")]
    UserCreated,
    #[strum(serialize = "user.role_changed")]
    RoleChanged,
    #[strum(serialize = "user.deactivated")]
    Deactivated,
    #[strum(serialize = "user.reactivated")]
    Reactivated,
    /// Not in the contract's list, but as sensitive as the email: the name that logs in.
    #[strum(serialize = "user.username_changed")]
    UsernameChanged,
    #[strum(serialize = "user.email_changed")]
    EmailChanged,
    #[strum(serialize = "user.phone_changed")]
    PhoneChanged,
    #[strum(serialize = "user.password_changed")]
    PasswordChanged,
    #[strum(serialize = "user.password_reset")]
    PasswordReset,
    #[strum(serialize = "user.deleted")]
    Deleted,
    /// Written by `claim_password_attempt` in SQL, never by [`record`].
    #[strum(serialize = "account.locked")]
    AccountLocked,
    #[strum(serialize = "stamp.voided")]
    StampVoided,
    #[strum(serialize = "sessions.revoked")]
    SessionsRevoked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Who made a change: a signed-in user (from the client's address), or the command line.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User { id: Uuid, ip: Option<IpAddr> },
    Cli,
}

impl Actor {
    pub fn user(id: Uuid, ip: Option<IpAddr>) -> Self {
        Self::User { id, ip }
    }
}

/// Writes one entry, in the caller's transaction. The command line's entries have no actor and
/// say `"via": "cli"` in their detail.
pub fn record(
    conn: &mut PgConnection,
    actor: Actor,
    action: Action,
    target: Option<Uuid>,
    mut detail: Value,
) -> Result<(), ApiError> {
    let (actor_id, ip) = match actor {
        Actor::User { id, ip } => (Some(id), ip.map(|ip| ip.to_string())),
        Actor::Cli => {
            detail["via"] = json!("cli");
            (None, None)
        }
    };
    diesel::sql_query("INSERT INTO audit_log (actor_id, action, target_id, detail, ip) VALUES ($1, $2, $3, $4, $5)")
        .bind::<Nullable<SqlUuid>, _>(actor_id)
        .bind::<Text, _>(action.as_str())
        .bind::<Nullable<SqlUuid>, _>(target)
        .bind::<Jsonb, _>(detail)
        .bind::<Nullable<Text>, _>(ip)
        .execute(conn)?;
    Ok(())
}

/// An account as an entry shows it: its id, and its name while it exists.
#[derive(Debug, Serialize, PartialEq)]
pub struct Named {
    pub id: Uuid,
    pub username: Option<String>,
}

/// `GET /api/v1/audit`'s entry.
#[derive(Debug, Serialize)]
pub struct EntryView {
    pub id: Uuid,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub at: DateTime<Utc>,
    pub actor: Option<Named>,
    pub action: String,
    pub target: Option<Named>,
    pub detail: Value,
    pub ip: Option<String>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    actor_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    actor_name: Option<String>,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    target_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    target_name: Option<String>,
    #[diesel(sql_type = Jsonb)]
    detail: Value,
    #[diesel(sql_type = Nullable<Text>)]
    ip: Option<String>,
}

/// Which entries [`list`] gives.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub action: Option<Action>,
}

/// Entries newest first, a page at a time.
pub fn list(
    conn: &mut PgConnection,
    filter: &Filter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Page<EntryView>, ApiError> {
    let before = after.map(Cursor::seq).transpose()?;
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT a.seq, a.id, a.at, a.actor_id, actor.username AS actor_name, a.action, \
                a.target_id, target.username AS target_name, a.detail, a.ip \
         FROM audit_log a \
         LEFT JOIN users actor ON actor.id = a.actor_id \
         LEFT JOIN users target ON target.id = a.target_id \
         WHERE ($1::uuid IS NULL OR a.actor_id = $1) AND ($2::text IS NULL OR a.action = $2) \
           AND ($3::bigint IS NULL OR a.seq < $3) \
         ORDER BY a.seq DESC LIMIT $4",
    )
    .bind::<Nullable<SqlUuid>, _>(filter.actor)
    .bind::<Nullable<Text>, _>(filter.action.map(Action::as_str))
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit + 1)
    .load(conn)?;
    Ok(Page::from_rows(rows, limit, |row| Cursor::Seq(row.seq)).map(|row| EntryView {
        id: row.id,
        at: row.at,
        actor: row.actor_id.map(|id| Named { id, username: row.actor_name }),
        action: row.action,
        target: row.target_id.map(|id| Named { id, username: row.target_name }),
        detail: row.detail,
        ip: row.ip,
    }))
}

/// Deletes the entries older than the retention (the only ones the table lets go).
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::sql_query(
        "DELETE FROM audit_log WHERE at < now() - make_interval(days => (SELECT days FROM audit_retention))",
    )
    .execute(conn)?)
}

/// Sets the retention the table enforces to `days`, when it differs and this connection may
/// (the table's owner may; a server running as a role without `UPDATE` on `audit_retention`
/// may not, and is told so). Returns the retention in force.
pub fn apply_retention(conn: &mut PgConnection, days: u32) -> anyhow::Result<u32> {
    #[derive(QueryableByName)]
    struct Days {
        #[diesel(sql_type = Integer)]
        days: i32,
    }
    let wanted = i32::try_from(days)?;
    let stored = diesel::sql_query("SELECT days FROM audit_retention").get_result::<Days>(conn)?.days;
    if stored == wanted {
        return Ok(days);
    }
    let changed = conn.transaction(|conn| {
        diesel::sql_query("UPDATE audit_retention SET days = $1").bind::<Integer, _>(wanted).execute(conn)
    });
    match changed {
        Ok(_) => {
            tracing::info!(from = stored, to = wanted, "audit retention changed (STAMPCARD_AUDIT_RETENTION_DAYS)");
            Ok(days)
        }
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("permission denied") => {
            tracing::warn!(
                in_force = stored,
                configured = wanted,
                "STAMPCARD_AUDIT_RETENTION_DAYS differs from the database's, and this role may not change it: \
                 run `stampcard migrate` as the owner of the tables"
            );
            Ok(stored.try_into()?)
        }
        Err(err) => Err(err.into()),
    }
}
