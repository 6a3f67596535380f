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
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::page::{Cursor, Page};
use crate::models::statement::{Bind, Statement};
use crate::schema::{redemptions, stamp_events};

/// Whose card a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The caller's own card, whatever their role.
    User(Uuid),
    /// The card of the active customer with this phone number (E.164); with `verified_only`
    /// (`STAMPCARD_REQUIRE_VERIFIED_PHONE`), only one who proved the number counts.
    Customer { phone: String, verified_only: bool },
}

impl Holder {
    /// A query starting with the CTE `holder (id, phone)`, bound to `$1`; `rest` continues
    /// after it (`, more AS (...) SELECT ...`). No holder row means no such customer, which
    /// is why every card query starts here: the rule for "a customer" is written once.
    fn query(&self, rest: &str) -> Statement {
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
        };
        let query = Statement::new(format!("WITH holder AS ({holder}){rest}"));
        match self {
            Self::User(id) => query.bind(Bind::Uuid(*id)),
            Self::Customer { phone, .. } => query.bind(Bind::Text(phone.clone())),
        }
    }

    /// The holder's user id; 404 `customer_not_found` for an unknown phone.
    pub fn resolve(&self, conn: &mut PgConnection) -> Result<Uuid, ApiError> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        match self {
            Self::User(id) => Ok(*id),
            Self::Customer { .. } => Ok(self
                .query(" SELECT id FROM holder")
                .get_result::<Id>(conn)
                .optional()?
                .ok_or(ApiError::CustomerNotFound)?
                .id),
        }
    }
}

/// A card with its holder's phone. Someone who was never stamped has an empty card with no
/// `updated_at`, without a row.
#[derive(Debug, Clone, QueryableByName)]
pub struct Card {
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

/// One entry of a card's history.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName, Serialize)]
#[diesel(table_name = stamp_events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    /// The paging key; clients see `id`.
    #[serde(skip)]
    pub seq: i64,
    pub id: Uuid,
    /// `earned` or `redeemed`.
    pub kind: String,
    pub count: i32,
    pub balance_after: i32,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub created_at: DateTime<Utc>,
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
const CARD: &str = "holder.phone, card.balance, card.total_earned, card.total_redeemed, card.updated_at";

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
        let sql = " SELECT holder.phone, COALESCE(card.balance, 0) AS balance, \
                   COALESCE(card.total_earned, 0) AS total_earned, \
                   COALESCE(card.total_redeemed, 0) AS total_redeemed, card.updated_at \
                   FROM holder LEFT JOIN cards card ON card.user_id = holder.id";
        holder.query(sql).get_result(conn).optional()?.ok_or(ApiError::CustomerNotFound)
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
                RETURNING seq, id, kind, count, balance_after, created_at
            )
            SELECT {CARD}, event.* FROM holder, card, event"
        );
        let row: Option<Stamped> = holder
            .query(&sql)
            .bind(Bind::Int(count))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(issued_by))
            .get_result(conn)
            .optional()?;
        let row = row.ok_or(ApiError::CustomerNotFound)?;
        Ok((row.card, row.event))
    }

    /// Uses `stamps` stamps for one reward, logging the event and the redemption: one
    /// statement, which changes nothing unless the balance covers it. Otherwise 409
    /// `insufficient_stamps` with the balance (or 404 `customer_not_found`).
    pub fn redeem(
        conn: &mut PgConnection,
        holder: &Holder,
        stamps: i32,
        issued_by: Uuid,
    ) -> Result<(Card, Redemption), ApiError> {
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
            )
            SELECT {CARD}, redemption.* FROM holder, card, redemption"
        );
        let row: Option<Redeemed> = holder
            .query(&sql)
            .bind(Bind::Int(stamps))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(Uuid::new_v4()))
            .bind(Bind::Uuid(issued_by))
            .get_result(conn)
            .optional()?;
        match row {
            Some(row) => Ok((row.card, row.redemption)),
            // Nothing changed; this second read only explains why.
            None => Err(ApiError::InsufficientStamps { balance: Card::load(conn, holder)?.balance, required: stamps }),
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
        let mut query =
            stamp_events::table.filter(stamp_events::user_id.eq(user_id)).select(Event::as_select()).into_boxed();
        if let Some(after) = after {
            query = query.filter(stamp_events::seq.lt(after.seq()?));
        }
        let rows = query.order(stamp_events::seq.desc()).limit(limit + 1).load(conn)?;
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
