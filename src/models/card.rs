//! Stamp cards: a balance per customer, its append-only event log, and redemptions.
//!
//! A balance changes only in [`Card::stamp`] and [`Card::redeem`], and each is one SQL
//! statement that updates the card and appends its history together. PostgreSQL runs a
//! statement atomically, so a card never changes without its event; and it does the locking:
//! `INSERT ... ON CONFLICT DO UPDATE` and a conditional `UPDATE` both wait for a concurrent
//! writer of the same card and then work on its result, so no stamp is ever lost and
//! `balance >= n` is always tested against the newest balance. The `CHECK`s in the migration
//! stay the last line of defence.

use chrono::{DateTime, Utc};
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::page::{Cursor, Page};
use crate::models::statement::{Bind, Statement};
use crate::schema::redemptions;

/// Whose card a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The caller's own card, whatever their role.
    User(Uuid),
    /// The card of the active customer with this phone number (E.164); with `verified_only`
    /// (`STAMPCARD_REQUIRE_VERIFIED_PHONE`), only one who proved the number counts.
    Customer { phone: String, verified_only: bool },
    /// The card of the active customer whose live card code (8 digits) this is.
    CardCode(String),
}

impl Holder {
    /// A query starting with the CTE `holder (id, phone)`, bound to `$1`; `rest` continues
    /// after it (`, more AS (...) SELECT ...`). No holder row means no such customer, which
    /// is why every card query starts here: the rule for "a customer" is written once. With
    /// `lock_code`, a card code's row is locked for the rest of the transaction (a redemption
    /// uses the code up: a second one waits, then finds it used).
    fn query_with(&self, rest: &str, lock_code: bool) -> Statement {
        let holder = match self {
            Self::User(_) => "SELECT id, phone FROM users WHERE id = $1",
            Self::Customer { verified_only: true, .. } => {
                "SELECT id, phone FROM users WHERE phone = $1 AND phone_verified AND role = 'customer' AND is_active"
            }
            // One holder at most: numbers are unique then, but accounts made while only
            // verified numbers counted may share one; the verified (or oldest) holder wins.
            Self::Customer { verified_only: false, .. } => {
                "SELECT id, phone FROM users WHERE phone = $1 AND role = 'customer' AND is_active \
                 ORDER BY phone_verified DESC, created_at LIMIT 1"
            }
            Self::CardCode(_) if lock_code => {
                "SELECT u.id, u.phone FROM card_codes c JOIN users u ON u.id = c.user_id \
                 WHERE c.code = $1 AND c.expires_at > now() AND c.used_at IS NULL \
                 AND u.role = 'customer' AND u.is_active FOR UPDATE OF c"
            }
            Self::CardCode(_) => {
                "SELECT u.id, u.phone FROM card_codes c JOIN users u ON u.id = c.user_id \
                 WHERE c.code = $1 AND c.expires_at > now() AND c.used_at IS NULL \
                 AND u.role = 'customer' AND u.is_active"
            }
        };
        let query = Statement::new(format!("WITH holder AS ({holder}){rest}"));
        match self {
            Self::User(id) => query.bind(Bind::Uuid(*id)),
            Self::Customer { phone, .. } => query.bind(Bind::Text(phone.clone())),
            Self::CardCode(code) => query.bind(Bind::Text(code.clone())),
        }
    }

    fn query(&self, rest: &str) -> Statement {
        self.query_with(rest, false)
    }

    /// What a request about a holder that is not there answers: 404 `customer_not_found`
    /// for a phone, `card_code_not_found` for an unknown, expired or used card code.
    pub fn not_found(&self) -> ApiError {
        match self {
            Self::CardCode(_) => ApiError::CardCodeNotFound,
            Self::User(_) | Self::Customer { .. } => ApiError::CustomerNotFound,
        }
    }

    /// The holder's user id; 404 for an unknown phone or card code.
    pub fn resolve(&self, conn: &mut PgConnection) -> Result<Uuid, ApiError> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        match self {
            Self::User(id) => Ok(*id),
            _ => Ok(self
                .query(" SELECT id FROM holder")
                .get_result::<Id>(conn)
                .optional()?
                .ok_or_else(|| self.not_found())?
                .id),
        }
    }
}

/// A card with its holder's phone. Someone who was never stamped has an empty card with no
/// `updated_at`, without a row.
#[derive(Debug, Clone, QueryableByName)]
pub struct Card {
    /// Whose card it is (never shown: the stream announces changes by it).
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Integer)]
    pub balance: i32,
    #[diesel(sql_type = Integer)]
    pub total_earned: i32,
    #[diesel(sql_type = Integer)]
    pub total_redeemed: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The card as the API shows it.
#[derive(Debug, Serialize)]
pub struct CardView {
    pub phone: Option<String>,
    pub balance: i32,
    pub stamps_per_reward: i32,
    pub rewards_available: i32,
    pub total_earned: i32,
    pub total_redeemed: i32,
    #[serde(serialize_with = "serialize_optional_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// What an event did to a card.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, AsExpression, FromSqlRow, strum::IntoStaticStr, strum::EnumString,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    /// Stamps given.
    Earned,
    /// Stamps used for a free coffee.
    Redeemed,
    /// An earlier event taken back (`voids` names it).
    Voided,
}

text_enum!(Kind);

/// One entry of a card's history, as stored, with what is derived from other rows: whether a
/// void names it, and who made it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Event {
    /// The paging key; clients see `id`.
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: Kind,
    #[diesel(sql_type = Integer)]
    pub count: i32,
    #[diesel(sql_type = Integer)]
    pub balance_after: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The staff member or admin who made it.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub issued_by: Option<Uuid>,
    /// Their name now (`None` once that account is gone).
    #[diesel(sql_type = Nullable<Text>)]
    pub issuer_name: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub voids: Option<Uuid>,
    #[diesel(sql_type = Bool)]
    pub voided: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
}

/// Who made an event, as staff and admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct By {
    pub id: Uuid,
    pub username: String,
}

/// An event as the API shows it.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: Uuid,
    pub kind: Kind,
    pub count: i32,
    pub balance_after: i32,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub created_at: DateTime<Utc>,
    /// Staff and admins only: `null` for customers.
    pub by: Option<By>,
    pub voids: Option<Uuid>,
    pub voided: bool,
    pub reason: Option<String>,
}

impl Event {
    /// The event as the API shows it; `show_by` only to staff and admins.
    pub fn view(&self, show_by: bool) -> EventView {
        let by = match (show_by, self.issued_by, &self.issuer_name) {
            (true, Some(id), Some(username)) => Some(By { id, username: username.clone() }),
            _ => None,
        };
        EventView {
            id: self.id,
            kind: self.kind,
            count: self.count,
            balance_after: self.balance_after,
            created_at: self.created_at,
            by,
            voids: self.voids,
            voided: self.voided,
            reason: self.reason.clone(),
        }
    }
}

/// One free coffee.
#[derive(Debug, Clone, QueryableByName, Serialize)]
#[diesel(table_name = redemptions, check_for_backend(diesel::pg::Pg))]
pub struct Redemption {
    pub id: Uuid,
    pub stamps_used: i32,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Stamped {
    #[diesel(embed)]
    card: Card,
    #[diesel(embed)]
    event: Event,
}

#[derive(QueryableByName)]
struct Redeemed {
    #[diesel(embed)]
    card: Card,
    #[diesel(embed)]
    redemption: Redemption,
}

/// The card columns of the statements below, from their `holder` and `card` CTEs.
const CARD: &str =
    "holder.id AS user_id, holder.phone, card.balance, card.total_earned, card.total_redeemed, card.updated_at";

/// The event columns of the statements below, from an `event` CTE that inserted it (nothing
/// voids a new event yet).
const NEW_EVENT: &str = "event.seq, event.id, event.kind, event.count, event.balance_after, event.created_at, \
     event.issued_by, (SELECT username FROM users WHERE id = event.issued_by) AS issuer_name, event.voids, \
     false AS voided, event.reason";

/// The card columns of a card read (`holder` joined to `cards` as `card`, left: a card never
/// stamped has no row, and is empty).
const LOADED: &str = "holder.id AS user_id, holder.phone, COALESCE(card.balance, 0) AS balance, \
     COALESCE(card.total_earned, 0) AS total_earned, COALESCE(card.total_redeemed, 0) AS total_redeemed, \
     card.updated_at";

/// How long staff may void an event of their own.
pub const STAFF_VOID_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

impl Card {
    pub fn view(&self, stamps_per_reward: i32) -> CardView {
        CardView {
            phone: self.phone.clone(),
            balance: self.balance,
            stamps_per_reward,
            // The configuration guarantees stamps_per_reward >= 1.
            rewards_available: self.balance / stamps_per_reward.max(1),
            total_earned: self.total_earned,
            total_redeemed: self.total_redeemed,
            updated_at: self.updated_at,
        }
    }

    /// The holder's card (empty if never stamped); 404 `customer_not_found` for an unknown phone.
    pub fn load(conn: &mut PgConnection, holder: &Holder) -> Result<Card, ApiError> {
        let sql = format!(" SELECT {LOADED} FROM holder LEFT JOIN cards card ON card.user_id = holder.id");
        holder.query(&sql).get_result(conn).optional()?.ok_or_else(|| holder.not_found())
    }

    /// The cards of these users (those that still exist), in one query: what the live streams
    /// show after a change.
    pub fn load_many(conn: &mut PgConnection, user_ids: &[Uuid]) -> Result<Vec<Card>, ApiError> {
        let sql = format!(
            "WITH holder AS (SELECT id, phone FROM users WHERE id = ANY($1)) \
             SELECT {LOADED} FROM holder LEFT JOIN cards card ON card.user_id = holder.id"
        );
        Ok(Statement::new(sql).bind(Bind::Uuids(user_ids.to_vec())).load(conn)?)
    }

    /// Adds `count` stamps, creating the card on first use, and logs the event `issued_by`
    /// made: one statement.
    pub fn stamp(
        conn: &mut PgConnection,
        holder: &Holder,
        count: i32,
        issued_by: Uuid,
    ) -> Result<(Card, Event), ApiError> {
        let sql = format!(
            ", card AS (
                INSERT INTO cards AS c (user_id, balance, total_earned, updated_at)
                SELECT id, $2, $2, now() FROM holder
                ON CONFLICT (user_id) DO UPDATE SET balance = c.balance + EXCLUDED.balance,
                    total_earned = c.total_earned + EXCLUDED.total_earned, updated_at = now()
                RETURNING user_id, balance, total_earned, total_redeemed, updated_at
            ), event AS (
                INSERT INTO stamp_events (id, user_id, kind, count, balance_after, issued_by)
                SELECT $3, user_id, 'earned', $2, balance, $4 FROM card
                RETURNING *
            )
            SELECT {CARD}, {NEW_EVENT} FROM holder, card, event"
        );
        let row: Option<Stamped> = holder
            .query(&sql)
            .bind(Bind::Int(count))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(issued_by))
            .get_result(conn)
            .optional()?;
        let row = row.ok_or_else(|| holder.not_found())?;
        Ok((row.card, row.event))
    }

    /// Uses `stamps` stamps for one reward, logging the event and the redemption: one
    /// statement, which changes nothing unless the balance covers it. Otherwise 409
    /// `insufficient_stamps` with the balance (or 404). A card code is used up by the
    /// redemption it served, in the same statement, and only then.
    pub fn redeem(
        conn: &mut PgConnection,
        holder: &Holder,
        stamps: i32,
        issued_by: Uuid,
    ) -> Result<(Card, Redemption), ApiError> {
        let use_up = match holder {
            Holder::CardCode(_) => {
                ", used AS (UPDATE card_codes SET used_at = now() WHERE code = $1 AND EXISTS (SELECT 1 FROM card))"
            }
            _ => "",
        };
        let sql = format!(
            ", card AS (
                UPDATE cards SET balance = balance - $2, total_redeemed = total_redeemed + $2,
                    updated_at = now()
                WHERE user_id = (SELECT id FROM holder) AND balance >= $2
                RETURNING user_id, balance, total_earned, total_redeemed, updated_at
            ), event AS (
                INSERT INTO stamp_events (id, user_id, kind, count, balance_after, issued_by)
                SELECT $3, user_id, 'redeemed', $2, balance, $5 FROM card
            ), redemption AS (
                INSERT INTO redemptions (id, user_id, stamps_used, issued_by)
                SELECT $4, user_id, $2, $5 FROM card
                RETURNING id, stamps_used, created_at
            ){use_up}
            SELECT {CARD}, redemption.* FROM holder, card, redemption"
        );
        let row: Option<Redeemed> = holder
            .query_with(&sql, true)
            .bind(Bind::Int(stamps))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(issued_by))
            .get_result(conn)
            .optional()?;
        match row {
            Some(row) => Ok((row.card, row.redemption)),
            // Nothing changed; this second read only explains why.
            None => Err(ApiError::InsufficientStamps {
                balance: Card::load(conn, holder)?.balance,
                required: stamps,
                redemption: true,
            }),
        }
    }

    /// Takes back the event `event_id` with a compensating event of kind `voided` made by
    /// `voider`: an `earned` event's stamps leave the card (409 `insufficient_stamps` when they
    /// were redeemed since), a `redeemed` event's come back; the totals stay net of voids.
    /// Staff may void their own events within [`STAFF_VOID_WINDOW`], admins any (403 else); an
    /// event is voided at most once, and a void is no event to void (409 `already_voided`).
    /// In the caller's transaction: the voided event's row is locked first, so voids of one
    /// event queue and the second finds the first.
    pub fn void(
        conn: &mut PgConnection,
        event_id: Uuid,
        voider: Uuid,
        voider_is_admin: bool,
        reason: Option<&str>,
    ) -> Result<(Card, Event), ApiError> {
        #[derive(QueryableByName)]
        struct Target {
            #[diesel(sql_type = SqlUuid)]
            user_id: Uuid,
            #[diesel(sql_type = Text)]
            kind: Kind,
            #[diesel(sql_type = Integer)]
            count: i32,
            #[diesel(sql_type = Nullable<SqlUuid>)]
            issued_by: Option<Uuid>,
            #[diesel(sql_type = Bool)]
            recent: bool,
        }
        let target: Target = Statement::new(
            "SELECT user_id, kind, count, issued_by, created_at > now() - make_interval(secs => $2) AS recent \
             FROM stamp_events WHERE id = $1 FOR UPDATE",
        )
        .bind(Bind::Uuid(event_id))
        .bind(Bind::Int(STAFF_VOID_WINDOW.num_seconds() as i32))
        .get_result(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
        let own_and_recent = target.issued_by == Some(voider) && target.recent;
        if !(voider_is_admin || own_and_recent) {
            return Err(ApiError::Forbidden);
        }
        // Asked only now, holding the event's lock: a void that committed while this one waited
        // for it is seen (the statement that took the lock saw the rows as they were before).
        let voided: bool = diesel::select(diesel::dsl::exists(
            crate::schema::stamp_events::table.filter(crate::schema::stamp_events::voids.eq(event_id)),
        ))
        .get_result(conn)?;
        if target.kind == Kind::Voided || voided {
            return Err(ApiError::AlreadyVoided);
        }
        let (balance_change, totals) = match target.kind {
            Kind::Earned => ("balance - $2", "total_earned = total_earned - $2"),
            _ => ("balance + $2", "total_redeemed = total_redeemed - $2"),
        };
        let sql = format!(
            ", card AS (
                UPDATE cards SET balance = {balance_change}, {totals}, updated_at = now()
                WHERE user_id = $1 AND {balance_change} >= 0
                RETURNING user_id, balance, total_earned, total_redeemed, updated_at
            ), event AS (
                INSERT INTO stamp_events (id, user_id, kind, count, balance_after, issued_by, voids, reason)
                SELECT $3, user_id, 'voided', $2, balance, $4, $5, $6 FROM card
                RETURNING *
            )
            SELECT {CARD}, {NEW_EVENT} FROM holder, card, event"
        );
        let row: Option<Stamped> = Holder::User(target.user_id)
            .query(&sql)
            .bind(Bind::Int(target.count))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(voider))
            .bind(Bind::Uuid(event_id))
            .bind(Bind::OptionalText(reason.map(str::to_owned)))
            .get_result(conn)
            .optional()
            .map_err(|err| match &err {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    ApiError::AlreadyVoided
                }
                _ => err.into(),
            })?;
        match row {
            Some(row) => Ok((row.card, row.event)),
            None => match Card::load(conn, &Holder::User(target.user_id)) {
                // The account is gone, and its card with it: nothing to take back from.
                Ok(card) if card.updated_at.is_none() => Err(ApiError::NotFound),
                Ok(card) => Err(ApiError::InsufficientStamps {
                    balance: card.balance,
                    required: target.count,
                    redemption: false,
                }),
                Err(_) => Err(ApiError::NotFound),
            },
        }
    }
}

impl Event {
    /// The holder's events, newest first. Paging by `seq` keeps pages stable while new events
    /// (with higher numbers) arrive.
    pub fn page(
        conn: &mut PgConnection,
        holder: &Holder,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<Event>, ApiError> {
        let user_id = holder.resolve(conn)?;
        let before = match after {
            Some(after) => after.seq()?,
            None => i64::MAX,
        };
        let rows: Vec<Event> = Statement::new(
            "SELECT e.seq, e.id, e.kind, e.count, e.balance_after, e.created_at, e.issued_by, \
             b.username AS issuer_name, e.voids, \
             EXISTS (SELECT 1 FROM stamp_events v WHERE v.voids = e.id) AS voided, e.reason \
             FROM stamp_events e LEFT JOIN users b ON b.id = e.issued_by \
             WHERE e.user_id = $1 AND e.seq < $2 ORDER BY e.seq DESC LIMIT $3",
        )
        .bind(Bind::Uuid(user_id))
        .bind(Bind::BigInt(before))
        .bind(Bind::BigInt(limit + 1))
        .load(conn)?;
        Ok(Page::from_rows(rows, limit, |e| Cursor::Seq(e.seq)))
    }
}

/// Like [`crate::time_format::serialize`], for a time that may be missing (`null`).
fn serialize_optional_time<S: Serializer>(time: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => crate::time_format::serialize(time, serializer),
        None => serializer.serialize_none(),
    }
}
