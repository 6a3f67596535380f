//! The outbox: messages to send, written in the transaction of what caused them, delivered by
//! a worker on each instance (`crate::outbox`). A worker takes one due message at a time with
//! `FOR UPDATE SKIP LOCKED` and holds its row lock until the message is sent and marked, so
//! several instances draining one outbox never send a message twice.

use chrono::{DateTime, Duration, Utc};
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use crate::error::ApiError;
use crate::schema::outbox;

/// After this long failing, a message is given up (state `failed`), and says so in the log.
pub const GIVE_UP_AFTER: Duration = Duration::hours(1);
/// The longest pause between two attempts; they start at 1 s and double.
const MAX_BACKOFF_SECONDS: i64 = 60;

/// What a message is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow, strum::IntoStaticStr, strum::EnumString, strum::Display,
)]
#[diesel(sql_type = Text)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    /// A password reset link, to an email address.
    PasswordReset,
    /// A phone verification code, by SMS.
    PhoneCode,
}

text_enum!(Kind);

/// Where a message is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    AsExpression,
    FromSqlRow,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[diesel(sql_type = Text)]
#[strum(serialize_all = "snake_case")]
pub enum State {
    /// Waiting to be sent (again).
    Pending,
    Sent,
    /// There turned out to be nothing to send (see the row's `last_error` for why).
    Skipped,
    /// Given up after an hour of failures.
    Failed,
}

text_enum!(State);

/// A message as a worker (or an operator) sees it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct Message {
    pub id: i64,
    pub kind: Kind,
    pub recipient: String,
    pub reference: Option<Uuid>,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Adds a message, in the caller's transaction.
pub fn enqueue(conn: &mut PgConnection, kind: Kind, recipient: &str, reference: Option<Uuid>) -> Result<(), ApiError> {
    diesel::insert_into(outbox::table)
        .values((outbox::kind.eq(kind), outbox::recipient.eq(recipient), outbox::reference.eq(reference)))
        .execute(conn)?;
    Ok(())
}

/// The next due message, locked for the caller's transaction; messages other workers hold are
/// skipped, not waited for.
pub fn next_due(conn: &mut PgConnection) -> Result<Option<Message>, ApiError> {
    Ok(outbox::table
        .filter(outbox::state.eq(State::Pending))
        .filter(outbox::next_attempt_at.le(Utc::now()))
        .order((outbox::next_attempt_at, outbox::id))
        .select(Message::as_select())
        .for_update()
        .skip_locked()
        .first(conn)
        .optional()?)
}

/// Finishes a message: `sent`, or `skipped` with why there was nothing to send.
pub fn finish(conn: &mut PgConnection, id: i64, sent: bool, note: Option<&str>) -> Result<(), ApiError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(if sent { State::Sent } else { State::Skipped }),
            outbox::finished_at.eq(Utc::now()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: the next one after a pause that doubles from 1 s up to a minute,
/// or, after [`GIVE_UP_AFTER`], none (`failed`). Returns whether it was given up.
pub fn record_failure(conn: &mut PgConnection, message: &Message, error: &str) -> Result<bool, ApiError> {
    let now = Utc::now();
    let give_up = now - message.created_at > GIVE_UP_AFTER;
    let pause = Duration::seconds((1i64 << message.attempts.clamp(0, 6)).min(MAX_BACKOFF_SECONDS));
    diesel::update(outbox::table.find(message.id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(now + pause),
            outbox::last_error.eq(error),
            outbox::state.eq(if give_up { State::Failed } else { State::Pending }),
            outbox::finished_at.eq(give_up.then_some(now)),
        ))
        .execute(conn)?;
    Ok(give_up)
}

/// How many messages of `kind` were sent to `recipient` within the last hour. Call it under
/// [`lock_recipient`], so that two workers cannot both see room for one more.
pub fn sent_in_last_hour(conn: &mut PgConnection, kind: Kind, recipient: &str) -> Result<i64, ApiError> {
    Ok(outbox::table
        .filter(outbox::state.eq(State::Sent))
        .filter(outbox::kind.eq(kind))
        .filter(outbox::recipient.eq(recipient))
        .filter(outbox::finished_at.gt(Utc::now() - Duration::hours(1)))
        .count()
        .get_result(conn)?)
}

/// Serialises the sending to one recipient, for the caller's transaction.
pub fn lock_recipient(conn: &mut PgConnection, recipient: &str) -> Result<(), ApiError> {
    crate::db::lock_name_for_transaction(conn, "outbox", recipient)
}

/// Messages waiting to be sent, and given up.
pub fn backlog(conn: &mut PgConnection) -> Result<(i64, i64), ApiError> {
    let count = |conn: &mut PgConnection, state: State| -> Result<i64, ApiError> {
        Ok(outbox::table.filter(outbox::state.eq(state)).count().get_result(conn)?)
    };
    Ok((count(conn, State::Pending)?, count(conn, State::Failed)?))
}

/// The latest messages, newest first, of a state (or any), for `stampcard outbox list`.
pub fn list(conn: &mut PgConnection, state: Option<State>, limit: i64) -> Result<Vec<Message>, ApiError> {
    let mut query = outbox::table.select(Message::as_select()).order(outbox::id.desc()).limit(limit).into_boxed();
    if let Some(state) = state {
        query = query.filter(outbox::state.eq(state));
    }
    Ok(query.load(conn)?)
}

/// Puts failed messages (one, or all) back in the queue, due now; returns how many.
pub fn retry(conn: &mut PgConnection, id: Option<i64>) -> Result<usize, ApiError> {
    let failed = outbox::table.filter(outbox::state.eq(State::Failed));
    let changes = (
        outbox::state.eq(State::Pending),
        outbox::next_attempt_at.eq(Utc::now()),
        outbox::finished_at.eq(None::<DateTime<Utc>>),
        // Counted again from now: a retried message gets another hour.
        outbox::created_at.eq(Utc::now()),
    );
    Ok(match id {
        Some(id) => diesel::update(failed.filter(outbox::id.eq(id))).set(changes).execute(conn)?,
        None => diesel::update(failed).set(changes).execute(conn)?,
    })
}

/// Forgets finished messages older than a week.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        outbox::table
            .filter(outbox::state.ne(State::Pending))
            .filter(outbox::finished_at.lt(Utc::now() - Duration::days(7))),
    )
    .execute(conn)?)
}
