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
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    AsExpression,
    FromSqlRow,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    strum::VariantArray,
)]
#[diesel(sql_type = Text)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    /// A password reset link, to a verified email address.
    PasswordReset,
    /// A link that proves an email address, to that address.
    EmailVerification,
    /// A notice to the old (verified) address that the account's address changed.
    EmailChanged,
    /// A notice to the verified address that the account's phone changed.
    PhoneChanged,
    /// A phone verification code, by SMS.
    PhoneCode,
}

text_enum!(Kind);

/// How a message travels: each channel has a worker of its own, so that a flood of mail never
/// holds back a phone code, nor the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Mail,
    Sms,
}

impl Kind {
    pub fn channel(self) -> Channel {
        match self {
            Self::PasswordReset | Self::EmailVerification | Self::EmailChanged | Self::PhoneChanged => Channel::Mail,
            Self::PhoneCode => Channel::Sms,
        }
    }
}

impl Channel {
    /// The kinds of message this channel carries.
    pub fn kinds(self) -> Vec<Kind> {
        use strum::VariantArray;
        Kind::VARIANTS.iter().copied().filter(|kind| kind.channel() == self).collect()
    }
}

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
    /// An email address's key (`fields::email_key`), or an E.164 number.
    pub recipient: String,
    /// What the message is about: the phone verification it carries the code of, the user
    /// whose address a link proves.
    pub reference: Option<Uuid>,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The facts a notice tells (never a secret).
    pub payload: Option<serde_json::Value>,
}

/// A message to send.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct Outgoing {
    pub kind: Kind,
    pub recipient: String,
    pub reference: Option<Uuid>,
    pub payload: Option<serde_json::Value>,
}

impl Outgoing {
    pub fn new(kind: Kind, recipient: impl Into<String>) -> Self {
        Self { kind, recipient: recipient.into(), reference: None, payload: None }
    }

    pub fn about(mut self, reference: Uuid) -> Self {
        self.reference = Some(reference);
        self
    }

    pub fn telling(mut self, payload: serde_json::Value) -> Self {
        self.payload = Some(payload);
        self
    }
}

/// Adds a message, in the caller's transaction.
pub fn enqueue(conn: &mut PgConnection, message: Outgoing) -> Result<(), ApiError> {
    diesel::insert_into(outbox::table).values(message).execute(conn)?;
    Ok(())
}

/// The next due message of `kinds`, locked for the caller's transaction; messages other
/// workers hold are skipped, not waited for. Of the due ones, a message of kind `first` goes
/// first: the worker turns `first` round the channel's kinds, so that each kind is a queue of
/// its own and a flood of one (reset requests) delays another (verification links) by one
/// message at most.
pub fn next_due(conn: &mut PgConnection, kinds: &[Kind], first: Kind) -> Result<Option<Message>, ApiError> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    Ok(outbox::table
        .filter(outbox::state.eq(State::Pending))
        .filter(outbox::kind.eq_any(kinds))
        .filter(outbox::next_attempt_at.le(Utc::now()))
        .order((
            sql::<Bool>("kind = ").bind::<Text, _>(<&str>::from(first)).sql(" DESC"),
            outbox::next_attempt_at,
            outbox::id,
        ))
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

/// How many mails (of every kind) were sent to the address `recipient` within the last hour.
/// Call it under [`lock_recipient`], so that two workers cannot both see room for one more.
pub fn mails_in_last_hour(conn: &mut PgConnection, recipient: &str) -> Result<i64, ApiError> {
    Ok(outbox::table
        .filter(outbox::state.eq(State::Sent))
        .filter(outbox::kind.eq_any(Channel::Mail.kinds()))
        .filter(outbox::recipient.eq(recipient))
        .filter(outbox::finished_at.gt(Utc::now() - Duration::hours(1)))
        .count()
        .get_result(conn)?)
}

/// Serialises the sending to one recipient, for the caller's transaction.
pub fn lock_recipient(conn: &mut PgConnection, recipient: &str) -> Result<(), ApiError> {
    crate::db::lock_name_for_transaction(conn, "outbox", recipient)
}

/// What waits: per kind, the pending messages and the age in seconds of the oldest.
pub fn pending_by_kind(conn: &mut PgConnection) -> Result<Vec<(Kind, i64, f64)>, ApiError> {
    use diesel::dsl::{count_star, min};
    let rows: Vec<(Kind, i64, Option<DateTime<Utc>>)> = outbox::table
        .filter(outbox::state.eq(State::Pending))
        .group_by(outbox::kind)
        .select((outbox::kind, count_star(), min(outbox::created_at)))
        .load(conn)?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|(kind, n, oldest)| (kind, n, oldest.map_or(0.0, |t| (now - t).num_milliseconds() as f64 / 1000.0)))
        .collect())
}

/// Messages given up.
pub fn failed(conn: &mut PgConnection) -> Result<i64, ApiError> {
    Ok(outbox::table.filter(outbox::state.eq(State::Failed)).count().get_result(conn)?)
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

/// Forgets finished messages (sent, skipped, given up) older than a week.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        outbox::table
            .filter(outbox::state.ne(State::Pending))
            .filter(outbox::finished_at.lt(Utc::now() - Duration::days(7))),
    )
    .execute(conn)?)
}
